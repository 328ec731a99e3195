/**
 * Never lose, steal or multiply an event, in real n8n 1.x and 2.x with the packed package: a workflow imported
 * with another's static data, list scoping, custom-object JSON, the pasted kinds' window and Query Auth
 * secret, switching Webhook Kind, and custom fields by name. Each major's user folder is kept in n8nUserFolder("e2e/integrity-<version>").
 */
import fs from 'node:fs';
import path from 'node:path';

import { DELIVERY_BODIES } from '../fixtures/deliveryBodies';
import { ActiveCampaignSimulator, type DeliveryResult, type SimulatedWebhook } from '../simulator/ActiveCampaignSimulator';
import { TRIGGER_NAME, TRIGGER_STATE_KEY, TRIGGER_VERSION } from '../support/triggerNode';
import { REPO_ROOT, n8nUserFolder, packPackage, startN8n, type N8nInstance, type N8nMajor } from './harness';
import { canonicalJson, isDuplicateAnswer, pastedWorkflow, triggerWorkflow, waitFor, withContactId } from './scenarioSupport';

const PORTS: Record<N8nMajor, number> = { v1: 5851, v2: 5861 };
const PUBLIC_ORIGIN = 'https://n8n.e2e.test';
const API_TOKEN = 'e2e-integrity-api-token';
const QUERY_AUTH = { name: 'token', value: 'e2e-integrity-query-secret-0123' };
const WEBHOOK_IDS = {
	original: '0a1b2c3d-0000-4000-8000-000000000001',
	copy: '0a1b2c3d-0000-4000-8000-000000000002',
	lists: '0a1b2c3d-0000-4000-8000-000000000003',
	custom: '0a1b2c3d-0000-4000-8000-000000000004',
	automation: '0a1b2c3d-0000-4000-8000-000000000005',
	switched: '0a1b2c3d-0000-4000-8000-000000000006',
	leftOver: '0a1b2c3d-0000-4000-8000-000000000007',
	namedStandard: '0a1b2c3d-0000-4000-8000-000000000008',
	namedAutomation: '0a1b2c3d-0000-4000-8000-000000000009',
	sameIdOriginal: '0a1b2c3d-0000-4000-8000-00000000000a',
	unreadAutomation: '0a1b2c3d-0000-4000-8000-00000000000b',
	unreadCustom: '0a1b2c3d-0000-4000-8000-00000000000c',
	unreadAutomationV1: '0a1b2c3d-0000-4000-8000-00000000000d',
	unreadCustomV1: '0a1b2c3d-0000-4000-8000-00000000000e',
	earlyEvent: '0a1b2c3d-0000-4000-8000-00000000000f',
};
/** The pasted kinds' default dedup window is one minute; a repeat is sent after this long. */
const PASTED_WINDOW_MS = 60_000;

const bodyOf = (event: string) => DELIVERY_BODIES.find((body) => body.event === event)!;
const pathOf = (webhook: SimulatedWebhook) => new URL(webhook.url).pathname;
const atPath = (webhookId: string) => (webhook: SimulatedWebhook) => pathOf(webhook) === `/webhook/${webhookId}/webhook`;

let packageTarball: string;

beforeAll(() => {
	packageTarball = packPackage(path.join(REPO_ROOT, '.cache', 'e2e', 'pack'));
});

describe.each<N8nMajor>(['v1', 'v2'])('n8n %s: every event exactly once, to the right workflow', (version) => {
	let n8n: N8nInstance;
	let simulator: ActiveCampaignSimulator;
	let credentialId: string;
	let queryAuthId: string;
	let contactIds = 9000;
	/** A new event: the sample with a contact id never sent before. */
	const fresh = (event: string) => withContactId(bodyOf(event), String(++contactIds)).body;

	const executionsOf = async (workflowId: string) =>
		(await n8n.executions(workflowId, TRIGGER_NAME)).filter((execution) => execution.mode === 'webhook');
	/** Waits for `count` finished executions, then a moment more for any that should not come. */
	async function settledExecutions(workflowId: string, count: number) {
		if (count > 0) await n8n.waitForExecutions(workflowId, TRIGGER_NAME, count, 60_000);
		await new Promise((resolve) => setTimeout(resolve, 1500));
		return await executionsOf(workflowId);
	}
	const localUrl = (webhookId: string) => `${n8n.baseUrl}/webhook/${webhookId}/webhook`;
	const withQueryAuth = (webhookId: string) => `${localUrl(webhookId)}?${QUERY_AUTH.name}=${QUERY_AUTH.value}`;

	beforeAll(async () => {
		const userFolder = n8nUserFolder(`e2e/integrity-${version}`);
		fs.rmSync(userFolder, { recursive: true, force: true });
		simulator = await ActiveCampaignSimulator.start({ apiToken: API_TOKEN, deliveryOrigin: `http://127.0.0.1:${PORTS[version]}` });
		n8n = await startN8n({ version, port: PORTS[version], userFolder, webhookUrl: `${PUBLIC_ORIGIN}/`, packageTarball });
		credentialId = await n8n.importCredentials({
			name: 'ActiveCampaign simulator',
			type: 'activeCampaignTriggerApi',
			data: { apiUrl: simulator.apiUrl, apiKey: API_TOKEN },
		});
		queryAuthId = await n8n.importCredentials({ name: 'Pasted URL secret', type: 'httpQueryAuth', data: QUERY_AUTH });
	});

	afterAll(async () => {
		await n8n?.stop();
		await simulator?.close();
	});

	// Sent first and repeated last, so the wait for the one-minute window overlaps the other tests.
	let automationWorkflowId: string;
	let firstAutomationSentAt = 0;
	const automationBody = bodyOf('(automation)').body;

	it('automation kind: takes the secret from Query Auth, runs near-immediate copies once', async () => {
		automationWorkflowId = await n8n.importWorkflow(pastedWorkflow('Integrity: automation', WEBHOOK_IDS.automation, queryAuthId));
		await n8n.activate(automationWorkflowId);
		const refused = await Promise.all([
			simulator.postTo(localUrl(WEBHOOK_IDS.automation), automationBody),
			simulator.postTo(`${localUrl(WEBHOOK_IDS.automation)}?secret=${QUERY_AUTH.value}`, automationBody),
			simulator.postTo(`${localUrl(WEBHOOK_IDS.automation)}?${QUERY_AUTH.name}=not-the-value`, automationBody),
		]);
		expect(refused.map((answer) => answer.status)).toEqual([401, 401, 401]);

		firstAutomationSentAt = Date.now();
		const answers = await Promise.all(Array.from({ length: 3 }, () => simulator.postTo(withQueryAuth(WEBHOOK_IDS.automation), automationBody)));
		expect({ statuses: answers.map((answer) => answer.status), duplicates: answers.filter(isDuplicateAnswer).length }).toEqual({
			statuses: [200, 200, 200],
			duplicates: 2,
		});
		expect((await settledExecutions(automationWorkflowId, 1)).map((execution) => execution.status)).toEqual(['success']);
	});

	it('a workflow imported with another\'s static data gets its own webhook; each event runs each once; removing it leaves the original', async () => {
		const originalId = await n8n.importWorkflow(triggerWorkflow('Integrity: original', WEBHOOK_IDS.original, credentialId, { events: ['subscribe'] }));
		await n8n.activate(originalId);
		const original = await waitFor('the original webhook', () => simulator.webhooks().find(atPath(WEBHOOK_IDS.original)));
		const copiedState = await n8n.staticData(originalId);
		expect(copiedState?.[TRIGGER_STATE_KEY]).toMatchObject({ webhookIds: { production: [original.id] } });

		const copyId = await n8n.importWorkflow({
			...triggerWorkflow('Integrity: copy', WEBHOOK_IDS.copy, credentialId, { events: ['subscribe'] }),
			staticData: copiedState,
		});
		expect(await n8n.staticData(copyId)).toEqual(copiedState);
		await n8n.activate(copyId);
		const copy = await waitFor('the copy\'s webhook', () => simulator.webhooks().find(atPath(WEBHOOK_IDS.copy)));
		expect(simulator.webhooks().find(atPath(WEBHOOK_IDS.original))).toEqual(original);
		expect(new URL(copy.url).searchParams.get('secret')).not.toBe(new URL(original.url).searchParams.get('secret'));

		const results = await simulator.deliver(fresh('subscribe'));
		expect(results.map(({ webhookId, status }) => ({ webhookId, status }))).toEqual([
			{ webhookId: original.id, status: 200 },
			{ webhookId: copy.id, status: 200 },
		]);
		expect((await settledExecutions(originalId, 1)).length).toBe(1);
		expect((await settledExecutions(copyId, 1)).length).toBe(1);

		await n8n.deactivate(copyId);
		await waitFor('the copy\'s webhook to go', () => (simulator.webhooks().some(atPath(WEBHOOK_IDS.copy)) ? undefined : true));
		expect(simulator.webhooks().filter((webhook) => webhook.url.includes('/webhook/0a1b2c3d-'))).toEqual([original]);
		await simulator.deliver(fresh('subscribe'));
		expect((await settledExecutions(originalId, 2)).length).toBe(2);
		await n8n.deactivate(originalId);
		await waitFor('the original webhook to go', () => (simulator.webhooks().some(atPath(WEBHOOK_IDS.original)) ? undefined : true));
	});

	it("a copy that kept the original's webhook id is refused by n8n, and its clean-up leaves the original's webhook", async () => {
		const workflow = triggerWorkflow('Integrity: same id', WEBHOOK_IDS.sameIdOriginal, credentialId, { events: ['subscribe'] });
		const originalId = await n8n.importWorkflow(workflow);
		await n8n.activate(originalId);
		const original = await waitFor('the original webhook', () => simulator.webhooks().find(atPath(WEBHOOK_IDS.sameIdOriginal)));
		expect(new URL(original.url).searchParams.get('workflow')).toBe(originalId);

		const copyId = await n8n.importWorkflow({ ...workflow, name: 'Integrity: same id, copy', staticData: await n8n.staticData(originalId) });
		// n8n refuses the path, then removes the copy's webhooks: the node's delete must not take the original's.
		const refusal = await n8n.activate(copyId).then(() => 'activated', (error: Error) => error.message);
		expect(refusal).toMatch(/already taken|conflict/i);
		await new Promise((resolve) => setTimeout(resolve, 1500));
		expect(simulator.webhooks().filter(atPath(WEBHOOK_IDS.sameIdOriginal))).toEqual([original]);

		await simulator.deliver(fresh('subscribe'));
		expect((await settledExecutions(originalId, 1)).length).toBe(1);
		await n8n.deactivate(originalId);
		await waitFor('the original webhook to go', () => (simulator.webhooks().some(atPath(WEBHOOK_IDS.sameIdOriginal)) ? undefined : true));
	});

	it('with lists chosen: each event is sent once, and an update carrying list=0 runs', async () => {
		const workflowId = await n8n.importWorkflow(
			triggerWorkflow('Integrity: lists', WEBHOOK_IDS.lists, credentialId, { events: ['update', 'deal_add', 'subscribe'], listIds: ['1', '2', '3'] }),
		);
		await n8n.activate(workflowId);
		const mine = () => simulator.webhooks().filter(atPath(WEBHOOK_IDS.lists));
		const webhooks = await waitFor('four webhooks', () => (mine().length >= 4 ? mine() : undefined));
		expect(webhooks.map(({ events, listid }) => ({ events: [...events].sort(), listid }))).toEqual([
			{ events: ['deal_add'], listid: '0' },
			{ events: ['subscribe', 'update'], listid: '1' },
			{ events: ['subscribe', 'update'], listid: '2' },
			{ events: ['subscribe', 'update'], listid: '3' },
		]);

		const posts = [
			await simulator.deliver(bodyOf('deal_add').body),
			await simulator.deliver(fresh('update'), { memberOf: ['2'] }),
			await simulator.deliver(fresh('subscribe')),
		];
		expect(posts.map((results) => results.map(({ status }) => status))).toEqual([[200], [200], [200]]);
		const executions = await settledExecutions(workflowId, 3);
		expect(executions.map((execution) => execution.items[0]?.event).sort()).toEqual(['deal_add', 'subscribe', 'update']);
		await n8n.deactivate(workflowId);
		await waitFor('the list webhooks to go', () => (mine().length === 0 ? true : undefined));
	});

	it('an event ActiveCampaign delivers before it has answered the webhook\'s creation runs once, also with a new secret', async () => {
		const workflowId = await n8n.importWorkflow(triggerWorkflow('Integrity: early event', WEBHOOK_IDS.earlyEvent, credentialId, { events: ['subscribe'] }));
		/** Activates with one event delivered while ActiveCampaign holds back its answer to the webhook's POST. */
		async function activateWithEarlyEvent(): Promise<number[]> {
			let early: DeliveryResult[] = [];
			simulator.beforeAnswer({ method: 'POST', path: '/api/3/webhooks' }, async () => {
				early = await simulator.deliver(fresh('subscribe'));
			});
			await n8n.activate(workflowId);
			return early.filter((result) => result.url.includes(WEBHOOK_IDS.earlyEvent)).map((result) => result.status);
		}
		// First activation: n8n saves the secret's hash only after the node's create() has returned.
		expect(await activateWithEarlyEvent()).toEqual([200]);
		expect((await settledExecutions(workflowId, 1)).length).toBe(1);
		const first = await waitFor('the webhook', () => simulator.webhooks().find(atPath(WEBHOOK_IDS.earlyEvent)));

		// After a restart no webhook carries the secret and the process no longer knows it: the next activation makes a
		// new one while static data still holds the old one's hash.
		await n8n.deactivate(workflowId);
		await waitFor('the webhook to go', () => (simulator.webhooks().some(atPath(WEBHOOK_IDS.earlyEvent)) ? undefined : true));
		await n8n.restart();
		expect(await activateWithEarlyEvent()).toEqual([200]);
		const second = await waitFor('the new webhook', () => simulator.webhooks().find(atPath(WEBHOOK_IDS.earlyEvent)));
		expect(new URL(second.url).searchParams.get('secret')).not.toBe(new URL(first.url).searchParams.get('secret'));
		await simulator.deliver(fresh('subscribe'));
		expect((await settledExecutions(workflowId, 3)).length).toBe(3);
		await n8n.deactivate(workflowId);
		await waitFor('the webhook to go', () => (simulator.webhooks().some(atPath(WEBHOOK_IDS.earlyEvent)) ? undefined : true));
	});

	it('custom-object kind: any well-formed JSON body runs, never 400', async () => {
		const workflowId = await n8n.importWorkflow(pastedWorkflow('Integrity: custom objects', WEBHOOK_IDS.custom, queryAuthId, 'custom'));
		await n8n.activate(workflowId);
		const bodies = [
			{ type: 'order_created', date_time: 1715678467, order: { id: 'A-1' } },
			{ event: 'order_updated', contact: { email: 'ada@example.com', fields: [{ id: 1, value: 'x' }] } },
			{ webhook_event: 'note_added', message: { subject: 'Hi', lines: [1, 2] } },
			{ type: '', topic: 'invoice_paid', data: { total: 9.5 } },
		];
		const answers = await Promise.all(
			bodies.map((body) => simulator.postTo(withQueryAuth(WEBHOOK_IDS.custom), JSON.stringify(body), { contentType: 'application/json' })),
		);
		expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
		const executions = await settledExecutions(workflowId, 4);
		expect(executions.map((execution) => execution.items[0]?.event).sort()).toEqual(['invoice_paid', 'note_added', 'order_created', 'order_updated']);
		const created = executions.find((execution) => execution.items[0]?.event === 'order_created')!;
		expect(created.items[0]).toMatchObject({ date_time: 1715678467, order: { id: 'A-1' } });
		await n8n.deactivate(workflowId);
	});

	// n8n reads the body of a node of version 1.1 only for the types it parses (and evaluates an expression per
	// delivery for version 1, which 1.1 avoids): the node reads the rest itself. Version 1 is what workflows saved
	// by earlier releases hold.
	it.each([
		{ typeVersion: TRIGGER_VERSION, automation: WEBHOOK_IDS.unreadAutomation, custom: WEBHOOK_IDS.unreadCustom },
		{ typeVersion: 1, automation: WEBHOOK_IDS.unreadAutomationV1, custom: WEBHOOK_IDS.unreadCustomV1 },
	])('node version $typeVersion: a form without a Content-Type and a +json body each run once, exactly as sent', async ({ typeVersion, automation, custom }) => {
		const automationId = await n8n.importWorkflow(
			pastedWorkflow(`Integrity: untyped form, version ${typeVersion}`, automation, queryAuthId, 'automation', { typeVersion }),
		);
		const customId = await n8n.importWorkflow(
			pastedWorkflow(`Integrity: +json body, version ${typeVersion}`, custom, queryAuthId, 'custom', { typeVersion }),
		);
		for (const workflowId of [automationId, customId]) await n8n.activate(workflowId);
		const { body, item } = withContactId(bodyOf('(automation)'), String(++contactIds));
		const order = { type: 'order_created', order: { id: `V-${typeVersion}`, note: 'a+b=c & d' } };

		const answers = [
			await simulator.postTo(withQueryAuth(automation), body, { contentType: null }),
			await simulator.postTo(withQueryAuth(custom), JSON.stringify(order), { contentType: 'application/vnd.api+json' }),
			await simulator.postTo(withQueryAuth(automation), body, { contentType: null }),
		];
		expect(answers.map((answer) => [answer.status, isDuplicateAnswer(answer)])).toEqual([
			[200, false],
			[200, false],
			[200, true],
		]);
		expect((await settledExecutions(automationId, 1)).map((execution) => canonicalJson(execution.items))).toEqual([canonicalJson([item])]);
		const [customRun, ...more] = await settledExecutions(customId, 1);
		expect({ item: customRun.items[0], more: more.length }).toMatchObject({ item: { event: 'order_created', order: order.order }, more: 0 });
		for (const workflowId of [automationId, customId]) await n8n.deactivate(workflowId);
	});

	it('Custom Field Keys by title: an update and an automation action for the same contact give the same contact.fields keys', async () => {
		const withTitles = (workflow: ReturnType<typeof triggerWorkflow>, parameters: Record<string, unknown>) => {
			const [trigger, ...rest] = workflow.nodes as Array<Record<string, unknown>>;
			const credentials = { ...(trigger.credentials as Record<string, unknown>), activeCampaignTriggerApi: { id: credentialId, name: 'ActiveCampaign simulator' } };
			return { ...workflow, nodes: [{ ...trigger, parameters: { ...parameters, options: { customFieldKeys: 'title' } }, credentials }, ...rest] };
		};
		const standard = triggerWorkflow('Integrity: field names', WEBHOOK_IDS.namedStandard, credentialId, { events: ['update'] });
		const standardId = await n8n.importWorkflow(withTitles(standard, (standard.nodes[0] as { parameters: Record<string, unknown> }).parameters));
		const automationId = await n8n.importWorkflow(
			withTitles(pastedWorkflow('Integrity: field names, automation', WEBHOOK_IDS.namedAutomation, queryAuthId), { webhookKind: 'automation' }),
		);
		for (const id of [standardId, automationId]) await n8n.activate(id);

		// The same contact as the update (fixture fields 7 and 15), as an automation's Webhook action sends it.
		const automation = bodyOf('(automation)')
			.body.replace('contact%5Bfields%5D%5Binterests%5D', 'contact%5Bfields%5D%5Bfavourite_colours%5D')
			.replace('contact%5Bfields%5D%5Butm_source%5D', 'contact%5Bfields%5D%5Brenewal_date%5D');
		const registered = new URL(simulator.webhooks().find(atPath(WEBHOOK_IDS.namedStandard))!.url);
		const answers = await Promise.all([
			simulator.postTo(`${n8n.baseUrl}${registered.pathname}${registered.search}`, fresh('update')),
			simulator.postTo(withQueryAuth(WEBHOOK_IDS.namedAutomation), automation),
		]);
		expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
		const keysOf = async (workflowId: string) => {
			const [execution] = await settledExecutions(workflowId, 1);
			return Object.keys((execution.items[0]?.contact as { fields: Record<string, unknown> }).fields).sort();
		};
		expect(await keysOf(standardId)).toEqual(['Favourite colours', 'Renewal date']);
		expect(await keysOf(automationId)).toEqual(['Favourite colours', 'Renewal date']);
		for (const id of [standardId, automationId]) await n8n.deactivate(id);
	});

	it('switching Webhook Kind from Events to a pasted kind removes the registered webhooks', async () => {
		const events = triggerWorkflow('Integrity: switched', WEBHOOK_IDS.switched, credentialId, { events: ['subscribe'] });
		const workflowId = await n8n.importWorkflow(events);
		await n8n.activate(workflowId);
		await waitFor('the webhook to register', () => simulator.webhooks().find(atPath(WEBHOOK_IDS.switched)));

		// What the editor saves: the kind changed, the API credential still chosen (its default), Query Auth added.
		const [trigger, ...rest] = events.nodes as Array<Record<string, unknown>>;
		const switched = {
			...trigger,
			parameters: { webhookKind: 'automation', options: {} },
			credentials: {
				...(trigger.credentials as Record<string, unknown>),
				httpQueryAuth: { id: queryAuthId, name: 'Pasted URL secret' },
			},
		};
		await n8n.updateWorkflow(workflowId, { ...events, nodes: [switched, ...rest] });
		await n8n.activate(workflowId);
		await waitFor('the registered webhook to go', () => (simulator.webhooks().some(atPath(WEBHOOK_IDS.switched)) ? undefined : true));
		const answer = await simulator.postTo(withQueryAuth(WEBHOOK_IDS.switched), automationBody);
		expect(answer.status).toBe(200);
		expect((await settledExecutions(workflowId, 1)).length).toBe(1);
		await n8n.deactivate(workflowId);
	});

	it('a pasted-kind node that still remembers a registered webhook removes it on activation', async () => {
		const leftOver = simulator.seedWebhook({
			name: 'n8n: left over from Events',
			url: `${PUBLIC_ORIGIN}/webhook/${WEBHOOK_IDS.leftOver}/webhook?secret=old-secret-of-the-events-kind`,
			events: ['subscribe'],
			sources: ['public'],
			listid: '0',
		});
		const workflow = pastedWorkflow('Integrity: left over', WEBHOOK_IDS.leftOver, queryAuthId);
		const [trigger, ...rest] = workflow.nodes as Array<Record<string, unknown>>;
		const withApiCredential = {
			...trigger,
			parameters: { webhookKind: 'automation', options: {} },
			credentials: { ...(trigger.credentials as Record<string, unknown>), activeCampaignTriggerApi: { id: credentialId, name: 'ActiveCampaign simulator' } },
		};
		const workflowId = await n8n.importWorkflow({
			...workflow,
			nodes: [withApiCredential, ...rest],
			staticData: {
				[TRIGGER_STATE_KEY]: {
					webhookPath: `${WEBHOOK_IDS.leftOver}/webhook`,
					secret: 'old-secret-of-the-events-kind',
					webhookIds: { production: [leftOver.id] },
				},
			},
		});
		await n8n.activate(workflowId);
		await waitFor('the left-over webhook to go', () => (simulator.webhooks().some((webhook) => webhook.id === leftOver.id) ? undefined : true));
		await n8n.deactivate(workflowId);
	});

	it('automation kind: the same body again after the one-minute window runs again', async () => {
		const wait = firstAutomationSentAt + PASTED_WINDOW_MS + 2_000 - Date.now();
		if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
		const answer = await simulator.postTo(withQueryAuth(WEBHOOK_IDS.automation), automationBody);
		expect({ status: answer.status, duplicate: isDuplicateAnswer(answer) }).toEqual({ status: 200, duplicate: false });
		expect((await settledExecutions(automationWorkflowId, 2)).map((execution) => execution.status)).toEqual(['success', 'success']);
		await n8n.deactivate(automationWorkflowId);
	});
});
