/**
 * The node's webhook(), run in n8n-core's real WebhookContext: authentication, the output contract for every
 * catalog event, filters, deduplication and the answers ActiveCampaign gets.
 */
import type { INodeProperties } from 'n8n-workflow';

import { EVENT_IDS } from '../nodes/ActiveCampaignTrigger/catalog';
import { secretHash } from '../nodes/ActiveCampaignTrigger/lifecycle/secret';
import { CREDENTIAL_REUSE_MS } from '../nodes/ActiveCampaignTrigger/settings';
import { DELIVERY_BODIES, readExpectedItem } from './fixtures/deliveryBodies';
import { activate, deliverToNode, hookContext, trigger as triggerNode, type TriggerSetup } from './support/n8nContext';
import { TRIGGER_STATE_KEY as STATE_KEY } from './support/triggerNode';
import { ActiveCampaignSimulator } from './simulator/ActiveCampaignSimulator';

const SECRET = 'a-known-secret-of-32-characters!';
const standardBodies = DELIVERY_BODIES.filter((body) => body.event !== '(automation)');
const bodyOf = (event: string) => DELIVERY_BODIES.find((body) => body.event === event)!.body;

let workflows = 0;

/** Each test gets its own workflow: in-process dedup claims are shared by everything in one process. */
function setup(parameters: TriggerSetup['parameters'] = {}): TriggerSetup {
	return {
		workflowId: `wf-${++workflows}`,
		parameters: { events: [...EVENT_IDS], ...parameters },
		credentials: { apiUrl: 'http://127.0.0.1:1', apiKey: 'unused' },
		staticData: { [STATE_KEY]: { secret: SECRET } },
	};
}

const deliver = (trigger: TriggerSetup, body: string | Buffer, query: Record<string, string> = { secret: SECRET }, contentType?: string) =>
	deliverToNode(trigger, { body, query, contentType });
const emitted = (result: { workflowData?: Array<Array<{ json: unknown }>> }) =>
	(result.workflowData ?? []).flat().map((item) => item.json);

describe('authentication', () => {
	it.each([
		['no secret', {}],
		['a wrong secret', { secret: 'a-known-secret-of-32-characters?' }],
		['a prefix of the secret', { secret: SECRET.slice(0, 16) }],
	])('answers 401 and starts no execution for %s', async (_, query) => {
		const { result, response } = await deliver(setup(), bodyOf('subscribe'), query);
		expect(response).toEqual({
			status: 401,
			json: { message: 'Unauthorized: this URL needs the secret it was registered with' },
		});
		expect(result).toEqual({ noWebhookResponse: true });
	});

	it('checks the secret against the hash static data keeps (a 0.1.x secret kept as it is still counts)', async () => {
		const hashed = setup();
		hashed.staticData = { [STATE_KEY]: { secretHash: secretHash(SECRET) } };
		expect(emitted((await deliver(hashed, bodyOf('subscribe'))).result)).toHaveLength(1);
		expect((await deliver(hashed, bodyOf('subscribe'), { secret: secretHash(SECRET) })).response.status).toBe(401);
		expect(emitted((await deliver(setup(), bodyOf('subscribe'))).result)).toHaveLength(1);
		// Both, after a downgrade to 0.1.x and back: the 0.1.x secret, as activation takes it too.
		const both = setup();
		both.staticData = { [STATE_KEY]: { secret: SECRET, secretHash: secretHash('the-secret-before-the-downgrade') } };
		expect(emitted((await deliver(both, bodyOf('subscribe'))).result)).toHaveLength(1);
		// An empty secret never matches, nor does a hand-made 0.1.x secret too short to be one.
		expect((await deliver(hashed, bodyOf('open'), { secret: '' })).response.status).toBe(401);
		const short = setup();
		short.staticData = { [STATE_KEY]: { secret: 'short' } };
		expect((await deliver(short, bodyOf('subscribe'), { secret: 'short' })).response.status).toBe(401);
	});

	it('logs a flood of refused calls once a minute per node, not once per call', async () => {
		const trigger = setup();
		const warn = jest.spyOn(hookContext(trigger).context.logger, 'warn').mockImplementation(() => undefined);
		try {
			const statuses: Array<number | undefined> = [];
			for (let call = 0; call < 5; call++) statuses.push((await deliver(trigger, bodyOf('subscribe'), { secret: `forged-${call}` })).response.status);
			expect(statuses).toEqual([401, 401, 401, 401, 401]);
			expect(warn.mock.calls.map(([line]) => String(line))).toEqual([
				'ActiveCampaign Trigger refused a delivery (HTTP 401): Unauthorized: this URL needs the secret it was registered with',
			]);
			// Another node's refusals, and another status, are logged on their own.
			await deliver(setup(), bodyOf('subscribe'), {});
			await deliver(trigger, '{', { secret: SECRET }, 'application/json');
			expect(warn.mock.calls.map(([line]) => String(line).slice(0, 52))).toEqual([
				'ActiveCampaign Trigger refused a delivery (HTTP 401)',
				'ActiveCampaign Trigger refused a delivery (HTTP 401)',
				'ActiveCampaign Trigger refused a delivery (HTTP 400)',
			]);
		} finally {
			warn.mockRestore();
		}
	});

	it('refuses every delivery before activation created a secret, but one with the secret activation will derive', async () => {
		const trigger = setup();
		trigger.staticData = {};
		expect((await deliver(trigger, bodyOf('subscribe'), { secret: '' })).response.status).toBe(401);
		// Of the node's own form (32 characters of base64url), but not derived from this node and key.
		expect((await deliver(trigger, bodyOf('subscribe'), { secret: 'A'.repeat(32) })).response.status).toBe(401);
	});

	it('reads the API key once for a flood of forged secrets of the node\'s own form, not once per call', async () => {
		const credentialReads: string[] = [];
		// A credential of its own (another id), which no earlier test read.
		const trigger = { ...setup(), credentials: { apiUrl: 'http://127.0.0.1:1', apiKey: 'the-flood-test-key' }, credentialReads };
		trigger.staticData = {};
		const statuses: Array<number | undefined> = [];
		for (let call = 0; call < 5; call++) statuses.push((await deliver(trigger, bodyOf('subscribe'), { secret: `${call}`.repeat(32) })).response.status);
		expect(statuses).toEqual([401, 401, 401, 401, 401]);
		// One read: a secret not derived reads the key again (it may have been edited) only once the read is a second old.
		expect(credentialReads).toEqual(['activeCampaignTriggerApi']);
	});
});

describe('the output contract', () => {
	it.each(standardBodies.map((body) => [body.event, body] as const))('emits the exact item for %s', async (_, body) => {
		const { result, response } = await deliver(setup(), body.body);
		expect(emitted(result)).toEqual([readExpectedItem(body.fixture)]);
		// Answered by the node itself, before n8n runs the workflow and saves the static data.
		expect(response).toEqual({ status: 200, json: { received: true, emitted: true } });
		expect(result.noWebhookResponse).toBe(true);
	});

	it('covers every event of the catalog', () => {
		expect(EVENT_IDS.filter((id) => !standardBodies.some((body) => body.event === id))).toEqual([]);
	});

	it('adds the untouched parse as raw when asked', async () => {
		const { result } = await deliver(setup({ options: { includeRaw: true } }), 'type=update&list=0&contact[fields][7]=%7C%7Ca%7C%7Cb%7C%7C');
		expect(emitted(result)).toEqual([
			{
				event: 'update',
				occurredAt: null,
				initiatedFrom: null,
				initiatedBy: null,
				listId: null,
				contact: { fields: { 7: ['a', 'b'] } },
				raw: { type: 'update', list: '0', contact: { fields: { 7: '||a||b||' } } },
			},
		]);
	});

	it('accepts a JSON body', async () => {
		const { result } = await deliver(
			setup(),
			JSON.stringify({ type: 'contact_tag_added', list: '0', tag: 'vip', contact: { email: 'a@example.com', tags: 'vip, x' } }),
			{ secret: SECRET },
			'application/json',
		);
		expect(emitted(result)).toEqual([
			{
				event: 'contact_tag_added',
				occurredAt: null,
				initiatedFrom: null,
				initiatedBy: null,
				listId: null,
				tag: 'vip',
				contact: { email: 'a@example.com', tags: ['vip', 'x'] },
			},
		]);
	});
});

describe('bad input', () => {
	it('answers 400 with a short reason for an invalid payload and starts no execution', async () => {
		const { result, response } = await deliver(setup(), 'type=subscribe&contact=just-a-string');
		expect(response.status).toBe(400);
		expect(String((response.json as { message: string }).message)).toMatch(/^Invalid ActiveCampaign payload: contact/);
		expect(result).toEqual({ noWebhookResponse: true });
	});

	it('answers 413 when a body has more parameters than the limit, instead of dropping some', async () => {
		const body = `type=update&${Array.from({ length: 10_001 }, (_, i) => `contact[fields][${i}]=x`).join('&')}`;
		const { result, response } = await deliver(setup(), body);
		expect(response.status).toBe(413);
		expect(result).toEqual({ noWebhookResponse: true });
	});

	it('parses a body with 2,000 custom fields whole', async () => {
		const body = `type=update&list=0&${Array.from({ length: 2_000 }, (_, i) => `contact[fields][${i + 1}]=v${i + 1}`).join('&')}`;
		const [item] = emitted((await deliver(setup(), body)).result) as Array<{ contact: { fields: Record<string, string> } }>;
		expect(Object.keys(item.contact.fields)).toHaveLength(2_000);
		expect(item.contact.fields['2000']).toBe('v2000');
	});
});

describe('filters', () => {
	it('drops an event that was not chosen with 200 and a reason, never 410', async () => {
		const { result, response } = await deliver(setup({ events: ['deal_add'] }), bodyOf('subscribe'));
		expect(response).toEqual({});
		expect(result).toEqual({
			webhookResponse: { received: true, emitted: false, reason: 'event "subscribe" is not among the chosen events' },
		});
	});

	it('drops an event from an initiator that was not chosen', async () => {
		const { result } = await deliver(setup({ sources: ['admin'] }), bodyOf('subscribe'));
		expect(result).toEqual({
			webhookResponse: {
				received: true,
				emitted: false,
				reason: 'initiated from "public", which is not among the chosen initiators',
			},
		});
	});

	it('drops a list-scoped event of a list that was not chosen, keeps one that was', async () => {
		expect((await deliver(setup({ listIds: ['9'] }), bodyOf('subscribe'))).result).toEqual({
			webhookResponse: { received: true, emitted: false, reason: 'list "3" is not among the chosen lists' },
		});
		expect(emitted((await deliver(setup({ listIds: ['3'] }), bodyOf('subscribe'))).result)).toHaveLength(1);
		// The list comes from the body: quoted in the reason (and the log line), so a line break cannot forge a log line.
		const forging = bodyOf('subscribe').replace('&list=3&', '&list=3%0Awarn%3A+forged&');
		expect((await deliver(setup({ listIds: ['9'] }), forging)).result).toEqual({
			webhookResponse: { received: true, emitted: false, reason: 'list "3\\nwarn: forged" is not among the chosen lists' },
		});
	});

	it('does not apply chosen lists to events that are not list-scoped', async () => {
		expect(emitted((await deliver(setup({ listIds: ['9'] }), bodyOf('deal_add'))).result)).toHaveLength(1);
	});
});

describe('parameters', () => {
	it('resolves expressions through n8n, in a plain parameter and inside the options collection', async () => {
		// Neither works read as saved: the text holds no "deal_add", and a non-empty text would turn Include Raw on.
		const trigger = setup({ events: '={{ ["deal", "add"].join("_") }}', options: { includeRaw: '={{ 1 + 1 === 3 }}' } });
		expect((await deliver(trigger, bodyOf('subscribe'))).result).toEqual({
			webhookResponse: { received: true, emitted: false, reason: 'event "subscribe" is not among the chosen events' },
		});
		const [item] = emitted((await deliver(trigger, bodyOf('deal_add'))).result) as Array<{ event: string; raw?: unknown }>;
		expect(item.event).toBe('deal_add');
		expect(item).not.toHaveProperty('raw');
	});

	it('has no parameter whose saved form differs from its value (what reading parameters as saved relies on)', () => {
		const all = triggerNode.description.properties.flatMap((property) => [property, ...((property.options ?? []) as INodeProperties[])]);
		const transformed = all.filter(
			(property) => ['resourceLocator', 'resourceMapper', 'filter', 'assignmentCollection'].includes(String(property.type)) || 'validateType' in property,
		);
		expect(all.length).toBeGreaterThan(10);
		expect(transformed.map((property) => property.name)).toEqual([]);
	});

	it('takes what n8n filled in for parameters the workflow does not save (defaults)', async () => {
		// Saved without Initiated By: n8n fills in its default, every initiator, so a "public" event passes.
		const trigger = { ...setup(), parameters: { events: ['subscribe'] } };
		const [item] = emitted((await deliver(trigger, bodyOf('subscribe'))).result) as Array<{ initiatedFrom: string; raw?: unknown }>;
		expect(item.initiatedFrom).toBe('public');
		expect(item).not.toHaveProperty('raw');
	});
});

describe('deduplication', () => {
	it('emits an event once when it is delivered twice, answering the duplicate 200', async () => {
		const trigger = setup();
		expect(emitted((await deliver(trigger, bodyOf('open'))).result)).toHaveLength(1);
		const second = await deliver(trigger, bodyOf('open'));
		expect(second.result).toEqual({ webhookResponse: { received: true, emitted: false, reason: 'duplicate' } });
	});

	it('treats the same parameters in another order as the same event', async () => {
		const trigger = setup();
		await deliver(trigger, 'type=update&list=0&contact[id]=7&contact[email]=x%40example.com&date_time=2024-01-01T00:00:00Z');
		const reordered = await deliver(trigger, 'contact[email]=x%40example.com&date_time=2024-01-01T00:00:00Z&list=0&type=update&contact[id]=7');
		expect(emitted(reordered.result)).toEqual([]);
	});

	it('tells apart bodies that read alike only because a % or a byte could not be decoded, and still drops their copies', async () => {
		const trigger = setup();
		const subscribe = bodyOf('subscribe');
		const latin1 = (text: string) => Buffer.from(text, 'latin1');
		const alike = [
			[`${subscribe}&note=Caf%E9`, `${subscribe}&note=Caf%25E9`],
			[`${subscribe}&note=%ZZ`, `${subscribe}&note=%25ZZ`],
			[latin1(`${subscribe}&note=\u00e9`), latin1(`${subscribe}&note=\u00ff`)],
		];
		for (const [first, second] of alike) {
			const items = [...emitted((await deliver(trigger, first)).result), ...emitted((await deliver(trigger, second)).result)];
			expect(items).toHaveLength(2);
			expect((items[0] as { note: string }).note).toBe((items[1] as { note: string }).note);
			expect(emitted((await deliver(trigger, first)).result)).toEqual([]);
		}
	});

	it('emits exactly once for identical deliveries in flight at the same moment', async () => {
		const trigger = setup();
		const body = `${bodyOf('click')}&n=concurrent`;
		const results = await Promise.all(Array.from({ length: 20 }, async () => await deliver(trigger, body)));
		expect(results.flatMap(({ result }) => emitted(result))).toHaveLength(1);
	});

	it('remembers across a restart through static data, kept under 32 KB', async () => {
		const trigger = setup();
		const bodies = Array.from({ length: 3_000 }, (_, i) => `type=update&list=0&contact[id]=${i}&restart=1`);
		for (const body of bodies.slice(0, 50)) await deliver(trigger, body);
		const persisted = JSON.parse(JSON.stringify(trigger.staticData));
		// A new process: another scope for the in-process claims, the same persisted static data.
		const restarted: TriggerSetup = { ...trigger, staticData: persisted, workflowId: `${trigger.workflowId}-after-restart` };
		expect(emitted((await deliver(restarted, bodies[10])).result)).toEqual([]);
		for (const body of bodies.slice(50)) await deliver(restarted, body);
		expect(JSON.stringify(restarted.staticData[STATE_KEY]).length).toBeLessThanOrEqual(32_768);
	});

	it('keeps test mode apart: "listen for test event" gets an event the active workflow also got', async () => {
		const trigger = setup();
		// n8n's test run works on the static data the editor loaded when listening began.
		const whenListening = JSON.parse(JSON.stringify(trigger.staticData));
		const [production, test] = await Promise.all([
			deliverToNode(trigger, { body: bodyOf('reply'), query: { secret: SECRET } }, 'webhook'),
			deliverToNode({ ...trigger, staticData: whenListening }, { body: bodyOf('reply'), query: { secret: SECRET } }, 'manual'),
		]);
		expect([emitted(production.result), emitted(test.result)].map((items) => items.length)).toEqual([1, 1]);
		expect(emitted((await deliver(trigger, bodyOf('reply'))).result)).toEqual([]);
	});

	it('emits every delivery, with n8n answering and one warning, while the Redis store has no readable credential', async () => {
		// The Redis credential deleted or unshared since activation: a duplicate at worst, never a failed delivery.
		const trigger = setup({ dedupStore: 'redis' });
		const warn = jest.spyOn(hookContext(trigger).context.logger, 'warn').mockImplementation(() => undefined);
		try {
			const deliveries = [await deliver(trigger, bodyOf('bounce')), await deliver(trigger, bodyOf('bounce'))];
			expect(deliveries.map(({ result, response }) => ({ items: emitted(result).length, noWebhookResponse: result.noWebhookResponse, response }))).toEqual([
				{ items: 1, noWebhookResponse: undefined, response: {} },
				{ items: 1, noWebhookResponse: undefined, response: {} },
			]);
			expect(warn.mock.calls.map(([line]) => String(line))).toEqual([
				expect.stringMatching(/^ActiveCampaign Trigger: the Redis credential cannot be read \(.+\); deliveries are emitted without deduplication until it can\./),
			]);
		} finally {
			warn.mockRestore();
		}
	});

	it('emits every delivery when deduplication is off', async () => {
		const trigger = setup({ options: { deduplicate: false } });
		await deliver(trigger, bodyOf('bounce'));
		expect(emitted((await deliver(trigger, bodyOf('bounce'))).result)).toHaveLength(1);
	});

	it("leaves the answer to n8n when deduplication is off (on n8n 2.x a 2xx then means the run was enqueued)", async () => {
		const trigger = setup({ options: { deduplicate: false } });
		const { result, response } = await deliver(trigger, bodyOf('bounce'));
		expect({ items: emitted(result).length, noWebhookResponse: result.noWebhookResponse, response }).toEqual({ items: 1, noWebhookResponse: undefined, response: {} });
		expect(trigger.staticData[STATE_KEY]).not.toHaveProperty('dedup');
	});
});

describe('pasted-URL kinds', () => {
	const PASTED_SECRET = 'pasted-secret-0123456789';

	it('emits automation webhook payloads with the pasted secret', async () => {
		const automation = DELIVERY_BODIES.find((body) => body.event === '(automation)')!;
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'secret', value: PASTED_SECRET } };
		const { result } = await deliver(trigger, automation.body, { secret: PASTED_SECRET });
		expect(emitted(result)).toEqual([readExpectedItem('automation')]);
		expect((await deliver(trigger, automation.body, { secret: SECRET })).response.status).toBe(401);
	});

	it('reads the secret from the query parameter the Query Auth credential names', async () => {
		const automation = DELIVERY_BODIES.find((body) => body.event === '(automation)')!;
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'token', value: PASTED_SECRET } };
		expect(emitted((await deliver(trigger, automation.body, { token: PASTED_SECRET })).result)).toEqual([readExpectedItem('automation')]);
		const misnamed = await deliver(trigger, automation.body, { secret: PASTED_SECRET });
		expect(misnamed.response.status).toBe(401);
		expect(misnamed.result).toEqual({ noWebhookResponse: true });
	});

	it(`reads the Query Auth credential once per ${CREDENTIAL_REUSE_MS / 1000} s per credential for deliveries, afresh on activation`, async () => {
		const automation = DELIVERY_BODIES.find((body) => body.event === '(automation)')!;
		const credentialReads: string[] = [];
		const secret = `${PASTED_SECRET}-reuse`;
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'token', value: secret }, credentialReads };
		// Accepted (the copies as duplicates), none refused for a missing or wrong secret.
		const statuses = async () =>
			await Promise.all([1, 2, 3].map(async () => (await deliver(trigger, automation.body, { token: secret })).response.status ?? 200));
		expect(await statuses()).toEqual([200, 200, 200]);
		expect(credentialReads).toEqual(['httpQueryAuth']);

		const now = Date.now();
		const clock = jest.spyOn(Date, 'now').mockReturnValue(now + CREDENTIAL_REUSE_MS + 1);
		try {
			expect(await statuses()).toEqual([200, 200, 200]);
			expect(credentialReads).toEqual(['httpQueryAuth', 'httpQueryAuth']);
		} finally {
			clock.mockRestore();
		}
		// Another credential (another id) is read on its own, and activation always reads afresh.
		const other = { ...trigger, queryAuth: { name: 'token', value: `${secret}-other` } };
		expect((await deliver(other, automation.body, { token: secret })).response.status).toBe(401);
		expect(credentialReads).toEqual(['httpQueryAuth', 'httpQueryAuth', 'httpQueryAuth']);
		await activate(trigger);
		expect(credentialReads.filter((type) => type === 'httpQueryAuth')).toHaveLength(4);
	});

	it('takes a Query Auth secret edited since the credential was read, reading it again on a refusal at most once a second', async () => {
		const automation = DELIVERY_BODIES.find((body) => body.event === '(automation)')!;
		const credentialReads: string[] = [];
		const [before, after] = [`${PASTED_SECRET}-before`, `${PASTED_SECRET}-after`];
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'token', value: before }, queryAuthId: 'query-auth-edited', credentialReads };
		const status = async (token: string) => (await deliver(trigger, automation.body, { token })).response.status ?? 200;
		const now = Date.now();
		const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
		try {
			expect(await status(before)).toBe(200);
			// The user edits the credential and pastes the new secret into ActiveCampaign.
			trigger.queryAuth = { name: 'token', value: after };
			// Within a second of the last read, a refusal does not read the credential again.
			expect(await status(after)).toBe(401);
			expect(credentialReads).toEqual(['httpQueryAuth']);
			clock.mockReturnValue(now + 1_000);
			expect(await status(after)).toBe(200);
			expect(credentialReads).toEqual(['httpQueryAuth', 'httpQueryAuth']);
			// The old secret is refused now; forged calls read the credential at most once a second.
			expect([await status(before), await status('forged-secret-0123456789')]).toEqual([401, 401]);
			expect(credentialReads).toEqual(['httpQueryAuth', 'httpQueryAuth']);
			clock.mockReturnValue(now + 2_000);
			expect(await status('forged-secret-0123456789')).toBe(401);
			expect(credentialReads).toEqual(['httpQueryAuth', 'httpQueryAuth', 'httpQueryAuth']);
		} finally {
			clock.mockRestore();
		}
	});

	it('emits custom-object events by name and filters them', async () => {
		const trigger = { ...setup({ webhookKind: 'custom', customEvents: 'order_created, order_updated' }), queryAuth: { name: 'secret', value: PASTED_SECRET } };
		const order = JSON.stringify({ event: 'order_created', order: { id: 'A-1', total: '19.90' } });
		const { result } = await deliver(trigger, order, { secret: PASTED_SECRET }, 'application/json');
		expect(emitted(result)).toEqual([
			{ event: 'order_created', occurredAt: null, initiatedFrom: null, initiatedBy: null, listId: null, order: { id: 'A-1', total: '19.90' } },
		]);
		const other = JSON.stringify({ event: 'product_deleted', product: { id: '9' } });
		expect((await deliver(trigger, other, { secret: PASTED_SECRET }, 'application/json')).result).toEqual({
			webhookResponse: { received: true, emitted: false, reason: 'event "product_deleted" is not among the chosen events' },
		});
	});

	it('takes a secret with " ", "&", "#" and "%" pasted percent-encoded', async () => {
		const value = 'a b&c#d%e-0123456789';
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'secret', value } };
		const { result } = await deliverToNode(trigger, { body: bodyOf('(automation)'), rawQuery: `secret=${encodeURIComponent(value)}` });
		expect(emitted(result)).toHaveLength(1);
	});

	it('takes a pasted secret with "+" and "/" (base64) as it is, sent raw or percent-encoded', async () => {
		const value = 'Zk3+q9Lr/8xT2wPa0Yc=';
		const trigger = { ...setup({ webhookKind: 'automation' }), queryAuth: { name: 'secret', value } };
		let sent = 0;
		const answerTo = async (rawQuery: string) => {
			// A new event each time, so that none is a duplicate.
			const { result, response } = await deliverToNode(trigger, { body: `${bodyOf('(automation)')}&n=${++sent}`, rawQuery });
			return { emitted: emitted(result).length, status: response.status };
		};
		expect(await answerTo(`secret=${value}`)).toEqual({ emitted: 1, status: 200 });
		expect(await answerTo(`secret=${encodeURIComponent(value)}`)).toEqual({ emitted: 1, status: 200 });
		expect(await answerTo(`secret=${value.replace('+', '%20')}`)).toEqual({ emitted: 0, status: 401 });
	});

	it('registers nothing through the API on activation, and refuses a weak secret', async () => {
		const simulator = await ActiveCampaignSimulator.start({ apiToken: 'k' });
		try {
			const trigger = {
				...setup({ webhookKind: 'automation' }),
				queryAuth: { name: 'secret', value: PASTED_SECRET },
				credentials: { apiUrl: simulator.apiUrl, apiKey: 'k' },
			};
			await activate(trigger);
			expect(simulator.requests).toEqual([]);
			await expect(activate({ ...trigger, queryAuth: { name: 'secret', value: 'short' } })).rejects.toThrow(
				'The Query Auth credential needs a parameter name and a value of at least 16 characters',
			);
			await expect(activate({ ...trigger, queryAuth: { name: ' ', value: PASTED_SECRET } })).rejects.toThrow(
				'The Query Auth credential needs a parameter name',
			);
			expect(simulator.requests).toEqual([]);
		} finally {
			await simulator.close();
		}
	});
});
