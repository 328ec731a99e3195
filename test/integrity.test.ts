/**
 * Never lose, steal or multiply an event: ownership of webhooks by URL path, list scoping, the pasted kinds'
 * bodies, windows and secrets, switching Webhook Kind, and the API URL. The node runs in n8n-core's real
 * contexts against the simulator over HTTP; the same cases run in a real n8n in test/e2e/integrity.e2e.test.ts.
 */
import { API_BASE_EXPRESSION } from '../credentials/ActiveCampaignTriggerApi.credentials';
import { normaliseApiUrl } from '../nodes/ActiveCampaignTrigger/lifecycle/apiClient';
import { parseDeliveryBody } from '../nodes/ActiveCampaignTrigger/delivery/parse';
import { secretHash } from '../nodes/ActiveCampaignTrigger/lifecycle/secret';
import { DEFAULT_WINDOW_MINUTES, readSettings } from '../nodes/ActiveCampaignTrigger/settings';
import { DELIVERY_BODIES } from './fixtures/deliveryBodies';
import { WEBHOOK_ID, activate, deactivate, deliverToNode, runLifecycle, trigger as triggerNode, type TriggerSetup } from './support/n8nContext';
import { simulatorPerFile } from './support/simulatorPerFile';
import { TRIGGER_STATE_KEY as STATE_KEY, deliverySecretOf } from './support/triggerNode';

const API_KEY = 'integrity-key';
const SECRET = 'a-known-secret-of-32-characters!';
const PASTED_SECRET = 'pasted-secret-0123456789';
const ENDPOINT = `https://n8n.example.test/webhook/${WEBHOOK_ID}/webhook`;
const bodyOf = (event: string) => DELIVERY_BODIES.find((body) => body.event === event)!.body;
const emitted = (result: { workflowData?: Array<Array<{ json: unknown }>> }) => (result.workflowData ?? []).flat().map((item) => item.json);

const simulator = simulatorPerFile(API_KEY);
let workflows = 0;


function setup(parameters: TriggerSetup['parameters'] = {}, staticData: TriggerSetup['staticData'] = {}): TriggerSetup {
	return {
		workflowId: `wf-${++workflows}`,
		parameters: { events: ['subscribe'], sources: ['public', 'admin'], ...parameters },
		credentials: { apiUrl: simulator().apiUrl, apiKey: API_KEY },
		staticData,
	};
}

const stateOf = (trigger: TriggerSetup) =>
	trigger.staticData[STATE_KEY] as { secretHash?: string; secret?: string; webhookPath?: string; webhookIds?: { production?: string[] } };
const secretOf = (trigger: TriggerSetup) => deliverySecretOf(stateOf(trigger), simulator().webhooks().map(({ url }) => url));

describe('1. static data copied from another node', () => {
	it("is discarded: the copy registers its own webhook and never updates or deletes the original's", async () => {
		const original = simulator().seedWebhook({
			name: 'n8n: A / ActiveCampaign Trigger',
			url: `https://n8n.example.test/webhook/another-node-id/webhook?secret=${SECRET}`,
			events: ['subscribe'],
			sources: ['public', 'admin'],
			listid: '0',
		});
		const copied = {
			[STATE_KEY]: { webhookPath: 'another-node-id/webhook', secret: SECRET, webhookIds: { production: [original.id] } },
		};
		const copy = setup({}, structuredClone(copied));
		await activate(copy);

		const state = stateOf(copy);
		expect(state.secretHash).not.toBe(secretHash(SECRET));
		expect(state.webhookPath).toBe(`${WEBHOOK_ID}/webhook`);
		const [kept, created] = simulator().webhooks();
		expect(kept).toEqual(original);
		expect(created.url).toBe(`${ENDPOINT}?secret=${secretOf(copy)}&workflow=${copy.workflowId}`);
		expect(state.webhookIds).toEqual({ production: [created.id] });

		await deactivate(copy);
		expect(simulator().webhooks()).toEqual([original]);
	});

	it('forgets a remembered id that points elsewhere (state from before webhook paths were recorded)', async () => {
		const elsewhere = simulator().seedWebhook({
			name: 'someone else',
			url: 'https://n8n.example.test/webhook/another-node-id/webhook?secret=x',
			events: ['update'],
			sources: ['admin'],
			listid: '0',
		});
		const trigger = setup({}, { [STATE_KEY]: { secret: SECRET, webhookIds: { production: [elsewhere.id] } } });
		await activate(trigger);
		expect(simulator().webhooks()[0]).toEqual(elsewhere);
		expect(stateOf(trigger).secretHash).toBe(secretHash(SECRET));
		expect(stateOf(trigger).webhookIds?.production).toEqual([simulator().webhooks()[1].id]);
		await deactivate(trigger);
		expect(simulator().webhooks()).toEqual([elsewhere]);
	});
});

describe("1b. a copied workflow whose node kept the original's webhook id (same URL path)", () => {
	// n8n's Duplicate and imports can keep a node's webhookId, and with it the URL path; static data may come too.
	async function originalAndCopy() {
		const original = setup();
		await activate(original);
		const copy: TriggerSetup = { ...setup(), staticData: structuredClone(original.staticData) };
		return { original, copy, registered: simulator().webhooks() };
	}

	it("never deletes the original's webhook when n8n removes the copy's (refused activation, deactivation)", async () => {
		const { copy, registered } = await originalAndCopy();
		// n8n refuses to activate a copy whose path is taken, and then removes the copy's webhooks.
		await deactivate(copy);
		expect(simulator().webhooks()).toEqual(registered);
		expect(stateOf(copy).secretHash).toBeUndefined();
	});

	it("registers its own webhook beside the original's, and each lifecycle leaves the other's alone", async () => {
		const { original, copy, registered } = await originalAndCopy();
		await activate(copy);
		const [kept, own] = simulator().webhooks();
		expect(kept).toEqual(registered[0]);
		expect(stateOf(copy).secretHash).not.toBe(stateOf(original).secretHash);
		expect(own.url).toBe(`${ENDPOINT}?secret=${secretOf(copy)}&workflow=${copy.workflowId}`);

		simulator().resetRequests();
		expect(await runLifecycle(original, 'checkExists')).toBe(true);
		expect(simulator().requests.filter((request) => request.method !== 'GET')).toEqual([]);

		await activate(copy, 'manual');
		await deactivate(copy, 'manual');
		await deactivate(copy);
		expect(simulator().webhooks()).toEqual(registered);
	});

	it("leaves an earlier version's webhook of the original alone when n8n removes the copy's, and the original removes it once it has named it", async () => {
		const secret = 'secret-of-an-earlier-version_0123';
		const earlier = simulator().seedWebhook({ name: 'n8n: A / ActiveCampaign Trigger', url: `${ENDPOINT}?secret=${secret}`, events: ['subscribe'], sources: ['admin', 'public'], listid: '0' });
		const earlierState = () => ({ [STATE_KEY]: { webhookPath: `${WEBHOOK_ID}/webhook`, secret, webhookIds: { production: [earlier.id] } } });
		// A copy that kept no static data, then one that kept the earlier version's (which names no workflow).
		await deactivate(setup());
		await deactivate({ ...setup({}, earlierState()), workflowId: 'wf-copy' });
		expect(simulator().webhooks()).toEqual([earlier]);
		// The original's own state names no workflow either until this version activates it: only then is the
		// webhook proven its own (named with its workflow) and removed.
		const original = setup({}, earlierState());
		await deactivate(original);
		expect(simulator().webhooks()).toEqual([earlier]);
		await activate(original);
		await deactivate(original);
		expect(simulator().webhooks()).toEqual([]);
	});

	it('adopts and names a webhook an earlier version registered at its path without a workflow', async () => {
		const secret = 'secret-of-an-earlier-version_0123';
		const earlier = simulator().seedWebhook({ name: 'n8n: A / ActiveCampaign Trigger', url: `${ENDPOINT}?secret=${secret}`, events: ['subscribe'], sources: ['admin', 'public'], listid: '0' });
		const trigger = setup({}, { [STATE_KEY]: { webhookPath: `${WEBHOOK_ID}/webhook`, secret, webhookIds: { production: [earlier.id] } } });
		await activate(trigger);
		const url = `${ENDPOINT}?secret=${secret}&workflow=${trigger.workflowId}`;
		expect(simulator().webhooks()).toEqual([{ ...earlier, name: 'n8n: Lifecycle test / ActiveCampaign Trigger', url }]);
		expect(stateOf(trigger)).toMatchObject({ secretHash: secretHash(secret), workflowId: trigger.workflowId, webhookIds: { production: [earlier.id] } });
	});
});

describe('1c. nodes without a webhook id (created outside the editor): n8n puts workflow id and node name in the path', () => {
	const withoutWebhookId = (name: string): TriggerSetup => ({ ...setup(), node: { name, webhookId: null } });
	const pathOfNode = (trigger: TriggerSetup, slot = 'webhook') => `https://n8n.example.test/${slot}/${trigger.workflowId}/actrigger/webhook`;
	const urls = () => simulator().webhooks().map((webhook) => webhook.url.split('?')[0]);

	it("never removes another workflow's webhook of a node with the same name", async () => {
		const first = withoutWebhookId('ACTrigger');
		const second = withoutWebhookId('ACTrigger');
		await activate(first);
		await activate(first, 'manual');
		await activate(second);
		expect(urls()).toEqual([pathOfNode(first), pathOfNode(first, 'webhook-test'), pathOfNode(second)]);
		// The first's production activation removes its own test webhook a restart left behind, nothing else.
		await activate(first);
		expect(urls()).toEqual([pathOfNode(first), pathOfNode(second)]);
		await deactivate(second);
		expect(urls()).toEqual([pathOfNode(first)]);
	});

	it("keeps the state an earlier version recorded under the path's last two segments (its secret stays)", async () => {
		const secret = 'secret-of-an-earlier-version_0123';
		const trigger = { ...withoutWebhookId('ACTrigger'), staticData: { 'node:ACTrigger': { webhookPath: 'actrigger/webhook', secret } } };
		await activate(trigger);
		expect(trigger.staticData['node:ACTrigger']).toMatchObject({ secretHash: secretHash(secret), webhookPath: `${trigger.workflowId}/actrigger/webhook`, workflowId: trigger.workflowId });
		expect(simulator().webhooks().map((webhook) => webhook.url)).toEqual([`${pathOfNode(trigger)}?secret=${secret}&workflow=${trigger.workflowId}`]);
	});

	it('refuses a name n8n would percent-encode into the URL, with a hint to rename the node', async () => {
		const trigger = withoutWebhookId('ActiveCampaign Trigger');
		const refusal = await activate(trigger).catch((error: unknown) => error as { message: string; description: string });
		expect(refusal).toMatchObject({
			message: expect.stringContaining('the node has no webhook id (it was created outside the n8n editor)'),
			description: expect.stringContaining('Rename the node to letters, digits'),
		});
		expect(simulator().requests).toEqual([]);
	});
});

describe('2. list scoping', () => {
	it('registers list-scoped events once per chosen list and every other event once for all lists', async () => {
		await activate(setup({ events: ['update', 'deal_add', 'subscribe'], listIds: ['1', '2', '3'] }));
		expect(simulator().webhooks().map(({ events, listid }) => ({ events, listid }))).toEqual([
			{ events: ['deal_add'], listid: '0' },
			{ events: ['subscribe', 'update'], listid: '1' },
			{ events: ['subscribe', 'update'], listid: '2' },
			{ events: ['subscribe', 'update'], listid: '3' },
		]);
	});

	const listed = (listIds: string[]) => ({ ...setup({ events: ['update', 'unsubscribe', 'subscribe'], listIds }, { [STATE_KEY]: { secret: SECRET } }) });
	const deliver = (trigger: TriggerSetup, body: string) => deliverToNode(trigger, { body, query: { secret: SECRET } });

	it('takes events and lists an expression gives as one value or comma-separated text', async () => {
		await activate(setup({ events: '={{ "update, subscribe" }}', sources: '={{ "public" }}', listIds: '={{ 2 }}' }));
		expect(simulator().webhooks().map(({ events, sources, listid }) => ({ events, sources, listid }))).toEqual([
			{ events: ['subscribe', 'update'], sources: ['public'], listid: '2' },
		]);
	});

	it('takes list 0 from an expression as all lists, at registration and at delivery alike', async () => {
		const trigger = setup({ events: ['subscribe'], listIds: '={{ "0" }}' }, { [STATE_KEY]: { secret: SECRET } });
		await activate(trigger);
		expect(simulator().webhooks().map(({ listid }) => listid)).toEqual(['0']);
		expect(emitted((await deliverToNode(trigger, { body: bodyOf('subscribe'), query: { secret: SECRET } })).result)).toHaveLength(1);
	});

	it('emits an update carrying list=0 when lists are chosen: ActiveCampaign already narrowed it', async () => {
		expect(bodyOf('update')).toContain('&list=0&');
		expect(emitted((await deliver(listed(['2']), bodyOf('update'))).result)).toHaveLength(1);
	});

	it('emits an unsubscribe naming its lists as list[][id]', async () => {
		const body = bodyOf('unsubscribe').replace('&list=3&', '&list%5B%5D%5Bid%5D=3&list%5B%5D%5Bid%5D=5&');
		const [item] = emitted((await deliver(listed(['3']), body)).result) as Array<{ event: string; list: unknown }>;
		expect(item).toMatchObject({ event: 'unsubscribe', list: [{ id: '3' }, { id: '5' }] });
	});

	it('drops, with 200 and a reason, an event naming one list outside the chosen ones', async () => {
		const { result } = await deliver(listed(['1', '2']), bodyOf('subscribe'));
		expect(result).toEqual({ webhookResponse: { received: true, emitted: false, reason: 'list "3" is not among the chosen lists' } });
	});

	it.each([
		['list[][id]=3&list[][id]=5', { list: [{ id: '3' }, { id: '5' }] }],
		['list[][id]=3&list[][name]=A', { list: [{ id: '3' }, { name: 'A' }] }],
		['tags[]=a&tags[]=b', { tags: ['a', 'b'] }],
		['a[][b][]=1&a[][b][]=2', { a: [{ b: ['1'] }, { b: ['2'] }] }],
		['x[0][y]=1&x[0][z]=2', { x: { 0: { y: '1', z: '2' } } }],
	])('parses %s the way PHP means it: each [] starts a new element', (body, expected) => {
		const parsed = parseDeliveryBody(body, 'application/x-www-form-urlencoded');
		expect(parsed.ok && parsed.body).toEqual(expected);
	});
});

describe('3. custom-object kind: any well-formed body is accepted', () => {
	const custom = () => ({ ...setup({ webhookKind: 'custom' }), queryAuth: { name: 'secret', value: PASTED_SECRET } });
	const deliverJson = (body: unknown) =>
		deliverToNode(custom(), { body: JSON.stringify(body), contentType: 'application/json', query: { secret: PASTED_SECRET } });

	it.each([
		['a numeric date_time', { type: 'order_created', date_time: 1715678467 }, 'order_created'],
		['contact.fields as an array of objects', { event: 'order_updated', contact: { email: 'a@b.c', fields: [{ id: 1, value: 'x' }] } }, 'order_updated'],
		['message as an object', { webhook_event: 'note', message: { subject: 'Hi', lines: [1, 2] } }, 'note'],
		['an empty type', { type: '', topic: 'invoice_paid', data: { total: 9.5 } }, 'invoice_paid'],
		['no name at all', { order: { id: 'A-1' } }, 'custom'],
	])('%s: 200, one item named by its event, the shapes passed through', async (_, body, event) => {
		const { result, response } = await deliverJson(body);
		expect(response.status).toBe(200);
		const [item] = emitted(result) as Array<Record<string, unknown>>;
		expect(item.event).toBe(event);
		for (const [key, value] of Object.entries(body)) {
			if (!['event', 'webhook_event', 'topic'].includes(key) && !(key === 'type' && value !== '')) expect(item[key]).toEqual(value);
		}
	});
});

describe('4. dedup windows', () => {
	const settingsFor = (parameters: Record<string, unknown>) =>
		readSettings({} as never, { parameters } as never);

	it('defaults to 60 minutes for registered events and 1 minute for the pasted kinds', () => {
		expect(DEFAULT_WINDOW_MINUTES).toEqual({ subscriptions: 60, automation: 1, custom: 1 });
		expect(settingsFor({}).windowMs).toBe(60 * 60_000);
		expect(settingsFor({ webhookKind: 'automation' }).windowMs).toBe(60_000);
		expect(settingsFor({ webhookKind: 'custom' }).windowMs).toBe(60_000);
		expect(settingsFor({ webhookKind: 'automation', options: { dedupWindowMinutes: 5 } }).windowMs).toBe(5 * 60_000);
	});

	it('keeps a window of fractional minutes in whole milliseconds, as Redis needs them', () => {
		expect(1.07 * 60_000).not.toBe(64_200); // what floating point makes of it
		expect(settingsFor({ options: { dedupWindowMinutes: 1.07 } }).windowMs).toBe(64_200);
		expect(settingsFor({ options: { dedupWindowMinutes: 2.01 } }).windowMs).toBe(120_600);
	});

	it('keeps a window within a year, which the field also allows at most (Redis refuses a huge PX)', () => {
		expect(settingsFor({ options: { dedupWindowMinutes: 1.5e14 } }).windowMs).toBe(365 * 24 * 60 * 60_000);
		expect(settingsFor({ options: { dedupWindowMinutes: 0 } }).windowMs).toBe(60_000);
		const windowFields = triggerNode.description.properties.flatMap((property) => property.options ?? []).filter((option) => 'name' in option && option.name === 'dedupWindowMinutes');
		expect(windowFields.map((field) => (field as { typeOptions?: unknown }).typeOptions)).toEqual([
			{ minValue: 1, maxValue: 525_600 },
			{ minValue: 1, maxValue: 525_600 },
		]);
	});

	it('takes a window an expression gives as text, and keeps the default when the text is no number', () => {
		const byExpression = (minutes: unknown) =>
			readSettings({ getNodeParameter: () => ({ dedupWindowMinutes: minutes }) } as never, { parameters: { options: '={{ $json.options }}' } } as never);
		expect(byExpression('15').windowMs).toBe(15 * 60_000);
		expect(byExpression('soon').windowMs).toBe(60 * 60_000);
		expect(byExpression(null).windowMs).toBe(60 * 60_000);
		for (const blank of ['', '  ', true]) expect(byExpression(blank).windowMs).toBe(60 * 60_000);
	});

	it('runs an automation body again after the window, once for near-immediate copies', async () => {
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'secret', value: PASTED_SECRET } };
		const send = () => deliverToNode(trigger, { body: bodyOf('(automation)'), query: { secret: PASTED_SECRET } });
		const realNow = Date.now;
		try {
			const start = realNow();
			Date.now = () => start;
			expect(emitted((await send()).result)).toHaveLength(1);
			Date.now = () => start + 5_000;
			expect((await send()).result).toEqual({ webhookResponse: { received: true, emitted: false, reason: 'duplicate' } });
			Date.now = () => start + 61_000;
			expect(emitted((await send()).result)).toHaveLength(1);
		} finally {
			Date.now = realNow;
		}
	});
});

describe('5. the pasted kinds keep no secret in a parameter', () => {
	it('has no "secret" parameter; the secret comes from the Query Auth credential', async () => {
		const { trigger } = await import('./support/n8nContext');
		expect(trigger.description.properties.map((property) => property.name)).not.toContain('secret');
		expect(trigger.description.credentials).toContainEqual(
			expect.objectContaining({ name: 'httpQueryAuth', required: true, displayOptions: { show: { webhookKind: ['automation', 'custom'] } } }),
		);
	});

	it('answers 503 with the fix, starting nothing, when the Query Auth credential cannot be read after activation', async () => {
		const orphaned = setup({ webhookKind: 'automation' });
		const { result, response } = await deliverToNode(orphaned, { body: bodyOf('(automation)'), query: { secret: PASTED_SECRET } });
		expect(result).toEqual({ noWebhookResponse: true });
		expect(response).toEqual({ status: 503, json: { message: "The node's Query Auth credential cannot be read; pick one in the node and activate again" } });
	});

	it('refuses activation without a Query Auth credential (a node from before the change), naming the fix', async () => {
		const upgraded = setup({ webhookKind: 'automation', secret: 'the-old-parameter-0123456789' });
		const failure = (await activate(upgraded).catch((error: unknown) => error)) as Error & { description?: string };
		expect(failure.message).toBe("Choose a Query Auth credential for the pasted URL's secret");
		expect(failure.description).toContain('Create one with Name "secret"');
		expect(simulator().requests).toEqual([]);
	});

	it('refuses activation without a usable Query Auth credential, naming the fix', async () => {
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'secret', value: 'too-short' } };
		const failure = (await activate(trigger).catch((error: unknown) => error)) as Error & { description?: string };
		expect(failure.message).toBe('The Query Auth credential needs a parameter name and a value of at least 16 characters');
		expect(failure.description).toContain('paste <Production URL>?<name>=<value>');
		expect(JSON.stringify(failure)).not.toContain('too-short');
	});
});

describe('6. switching Webhook Kind', () => {
	it('removes the webhooks registered as "Events" when activated as a pasted kind with the API credential kept', async () => {
		const trigger = setup();
		await activate(trigger);
		expect(simulator().webhooks()).toHaveLength(1);
		const switched = { ...trigger, parameters: { ...trigger.parameters, webhookKind: 'automation' }, queryAuth: { name: 'secret', value: PASTED_SECRET } };
		await activate(switched);
		expect(simulator().webhooks()).toEqual([]);
		expect(stateOf(switched).webhookIds).toEqual({ production: [] });
	});

	it('drops a secret 0.1.x kept in static data when activated as a pasted kind', async () => {
		const trigger = { ...setup({ webhookKind: 'automation' }, { [STATE_KEY]: { secret: SECRET } }), queryAuth: { name: 'secret', value: PASTED_SECRET } };
		await activate(trigger);
		expect(stateOf(trigger).secret).toBeUndefined();
		expect(JSON.stringify(trigger.staticData)).not.toContain(SECRET);
	});

	it('removes them on deactivation as a pasted kind too', async () => {
		const trigger = setup();
		await activate(trigger);
		await deactivate({ ...trigger, parameters: { ...trigger.parameters, webhookKind: 'custom' }, queryAuth: { name: 'secret', value: PASTED_SECRET } });
		expect(simulator().webhooks()).toEqual([]);
	});

	it('leaves a webhook made by hand for the pasted URL alone', async () => {
		const byHand = simulator().seedWebhook({ name: 'by hand', url: `${ENDPOINT}?secret=${PASTED_SECRET}`, events: ['subscribe'], sources: ['public'], listid: '0' });
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'secret', value: PASTED_SECRET } };
		await activate(trigger);
		await deactivate(trigger);
		expect(simulator().webhooks()).toEqual([byHand]);
	});

	it('says how to remove them when the API credential was set to None', async () => {
		const trigger = setup();
		await activate(trigger);
		const switched = {
			...trigger,
			parameters: { ...trigger.parameters, webhookKind: 'automation', authentication: 'none' },
			queryAuth: { name: 'secret', value: PASTED_SECRET },
		};
		const failure = (await activate(switched).catch((error: unknown) => error)) as Error & { description?: string };
		expect(failure.message).toBe('This node still has 1 webhook(s) in ActiveCampaign from when it registered events');
		expect(failure.description).toContain('Choose your ActiveCampaign credential under "Credential Type"');
		expect(simulator().webhooks()).toHaveLength(1);
	});
});

describe('8. smaller gaps', () => {
	it('refuses an http:// API URL (the key would travel in clear), loopback excepted', () => {
		expect(() => normaliseApiUrl('http://acct.api-us1.com')).toThrow(
			'The ActiveCampaign API URL "http://acct.api-us1.com" is not https, so the API key would be sent unencrypted',
		);
		expect(normaliseApiUrl('http://localhost:8080/api/3')).toBe('http://localhost:8080');
	});

	it('refuses activation with an http:// API URL before any request', async () => {
		const trigger = { ...setup(), credentials: { apiUrl: simulator().apiUrl.replace('127.0.0.1', 'ac.example.test'), apiKey: API_KEY } };
		await expect(activate(trigger)).rejects.toThrow('is not https, so the API key would be sent unencrypted');
		expect(simulator().requests).toEqual([]);
	});

	const credentialTestBase = (apiUrl: string) =>
		(new Function('$credentials', `return ${API_BASE_EXPRESSION}`) as (credentials: { apiUrl: string }) => string)({ apiUrl });

	it.each([
		'https://acct.api-us1.com',
		'  https://acct.api-us1.com/  ',
		'acct.api-us1.com',
		'acct.api-us1.com/API/3/',
		'HTTPS://acct.api-us1.com/api/3',
		'http://127.0.0.1:8080/api/3',
	])('the credential test reaches the same API URL as the node for %j', (apiUrl) => {
		expect(credentialTestBase(apiUrl)).toBe(normaliseApiUrl(apiUrl));
	});

	it('the credential test sends a plain-http API URL nowhere', () => {
		expect(credentialTestBase('http://acct.api-us1.com')).toBe('https://use-https-not-http.invalid');
	});

	it('removes, in production, a test webhook an n8n restart left behind', async () => {
		const trigger = setup();
		await activate(trigger, 'manual');
		const [leftover] = simulator().webhooks();
		expect(leftover.url).toContain(`/webhook-test/${WEBHOOK_ID}/webhook?`);
		await activate(trigger);
		expect(simulator().webhooks().map((webhook) => webhook.url.split('?')[0])).toEqual([ENDPOINT]);
	});

	it("encodes n8n's parsed form again when the raw body is missing, repeated keys in order", async () => {
		const trigger = setup({ events: ['unsubscribe'] }, { [STATE_KEY]: { secret: SECRET } });
		const body = bodyOf('unsubscribe').replace('&list=3&', '&list%5B%5D%5Bid%5D=3&list%5B%5D%5Bid%5D=5&');
		const withRaw = await deliverToNode(trigger, { body, query: { secret: SECRET } });
		const without = await deliverToNode(setup({ events: ['unsubscribe'] }, { [STATE_KEY]: { secret: SECRET } }), {
			body,
			query: { secret: SECRET },
			withoutRawBody: true,
		});
		expect(emitted(without.result)).toEqual(emitted(withRaw.result));
		expect(emitted(without.result)).toHaveLength(1);
	});

	describe('a body n8n left unread (node version 1.1: no Content-Type, a +json type)', () => {
		const ready = (parameters: TriggerSetup['parameters'] = { events: ['unsubscribe'] }): TriggerSetup => ({
			...setup(parameters, { [STATE_KEY]: { secret: SECRET } }),
			queryAuth: { name: 'secret', value: SECRET },
		});
		const query = { secret: SECRET };
		const order = { type: 'order_created', order: { id: 'A-1' } };

		it('is read by the node: an untyped form and a +json body give the items n8n-read ones give', async () => {
			const body = bodyOf('unsubscribe');
			const parsed = await deliverToNode(ready(), { body, query });
			const untyped = await deliverToNode(ready(), { body, query, contentType: null, unread: 'reads' });
			expect({ items: emitted(untyped.result), reads: untyped.readRawBodyCalls }).toEqual({ items: emitted(parsed.result), reads: 1 });
			expect(emitted(untyped.result)).toHaveLength(1);

			const custom = { webhookKind: 'custom', authentication: 'none' };
			const json = JSON.stringify(order);
			const asJson = await deliverToNode(ready(custom), { body: json, query, contentType: 'application/json' });
			const plusJson = await deliverToNode(ready(custom), { body: json, query, contentType: 'application/vnd.api+json', unread: 'reads' });
			expect(emitted(plusJson.result)).toEqual(emitted(asJson.result));
			expect(emitted(plusJson.result)).toMatchObject([{ event: 'order_created', order: { id: 'A-1' } }]);
		});

		it.each([
			['the sender went away', 'aborts', 400, 'Body could not be read whole: the sender went away, or its compression is broken'],
			["it is over n8n's payload limit", 'too large', 413, "Body over n8n's payload limit (N8N_PAYLOAD_SIZE_MAX)"],
		] as const)('is refused, never taken as an empty event, when %s', async (_, unread, status, message) => {
			const custom = ready({ webhookKind: 'custom', authentication: 'none' });
			const answer = await deliverToNode(custom, { body: JSON.stringify(order), query, contentType: 'application/vnd.api+json', unread });
			expect({ result: answer.result, answer: answer.response }).toEqual({
				result: { noWebhookResponse: true },
				answer: { status, json: { message } },
			});
		});

		it('is not read again once its stream has ended: an empty body, 400', async () => {
			const answer = await deliverToNode(ready(), { body: bodyOf('unsubscribe'), query, contentType: null, unread: 'ended' });
			expect({ answer: answer.response, reads: answer.readRawBodyCalls }).toEqual({
				answer: { status: 400, json: { message: 'Empty body' } },
				reads: 0,
			});
		});
	});
});
