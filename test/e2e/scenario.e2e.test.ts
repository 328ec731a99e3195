/**
 * The product scenario end to end, in real n8n 1.x and 2.x with the packed package: registration through the
 * ActiveCampaign simulator, every sample delivery once, sequential and concurrent duplicates, forged calls,
 * a restart, an events change, faults during activation, deactivation and "Listen for test event".
 *
 * Each step checks the production executions it caused (the ones not seen by an earlier step), so a failing
 * step does not fail the ones after it; the last test checks the whole run. Each major's user folder is kept
 * in n8nUserFolder("e2e/scenario-<version>") (n8n.log there, under the system temp folder) until the next run.
 */
import fs from 'node:fs';
import path from 'node:path';

import { EVENT_IDS } from '../../nodes/ActiveCampaignTrigger/catalog';
import { DELIVERY_BODIES, readExpectedItem, type DeliveryBody } from '../fixtures/deliveryBodies';
import { ActiveCampaignSimulator, type DeliveryResult, type SimulatedWebhook } from '../simulator/ActiveCampaignSimulator';
import { TRIGGER_NAME } from '../support/triggerNode';
import { REPO_ROOT, n8nUserFolder, packPackage, startN8n, type ExecutionRecord, type N8nInstance, type N8nMajor } from './harness';
import {
	canonicalJson,
	isDuplicateAnswer,
	pastedWorkflow,
	triggerWorkflow,
	waitFor,
	withContactId,
	type Tally,
} from './scenarioSupport';

const PORTS: Record<N8nMajor, number> = { v1: 5831, v2: 5841 };
const PUBLIC_ORIGIN = 'https://n8n.e2e.test';
const API_TOKEN = 'e2e-simulator-api-token';
const MAIN_WEBHOOK_ID = '5c1d2e3f-0a1b-4c2d-8e3f-a0b1c2d3e4f5';
const LISTS_WEBHOOK_ID = '6d2e3f40-1b2c-4d3e-9f40-b1c2d3e4f5a6';
const AUTOMATION_WEBHOOK_ID = '7e3f4051-2c3d-4e4f-a051-c2d3e4f5a6b7';
const AUTOMATION_SECRET = 'e2e-automation-secret-0123456789';
const ALL_SOURCES = ['admin', 'api', 'public', 'system'];
/** 24 random bytes in base64url. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{32}$/;
const UNFINISHED = new Set(['new', 'running', 'waiting']);

/** The bodies of registered-webhook events; the automation action's body has no `type` and goes to a pasted URL. */
const EVENT_BODIES = DELIVERY_BODIES.filter((body) => body.event !== '(automation)');
const AUTOMATION_BODY = DELIVERY_BODIES.find((body) => body.event === '(automation)')!;

function bodyOf(event: string): DeliveryBody {
	const found = EVENT_BODIES.find((body) => body.event === event);
	if (!found) throw new Error(`No sample body for "${event}"`);
	return found;
}

function sorted(values: readonly string[]): string[] {
	return [...values].sort();
}

/** The fields of a webhook that the node decides, in a comparable form. */
function subscription(webhook: SimulatedWebhook): { events: string[]; sources: string[]; listid: string } {
	return { events: sorted(webhook.events), sources: sorted(webhook.sources), listid: webhook.listid };
}

let packageTarball: string;

beforeAll(() => {
	packageTarball = packPackage(path.join(REPO_ROOT, '.cache', 'e2e', 'pack'));
});

describe.each<N8nMajor>(['v1', 'v2'])('n8n %s: the ActiveCampaign Trigger end to end', (version) => {
	let n8n: N8nInstance;
	let simulator: ActiveCampaignSimulator;
	let credentialId: string;
	let queryAuthCredentialId: string;
	let mainWorkflowId: string;
	/** The main workflow's remote webhook as last checked: its id and URL (secret included). */
	let registered: SimulatedWebhook;
	/** One item per event the main workflow accepted in production, over the whole run. */
	const acceptedItems: unknown[] = [];
	/** Bodies accepted one at a time, and while others were in flight: both replayed after the restart. */
	const sequentiallyAccepted: string[] = [];
	const concurrentlyAccepted: string[] = [];
	/** Test-mode executions already checked. */
	const checkedManualIds = new Set<string>();
	/** Production executions already checked by a step. */
	const checkedExecutionIds = new Set<string>();
	const tally: Tally = { sent: 0, executions: 0, duplicates: 0, forgedRefused: 0 };
	/** Every delivery secret the node registered over the run (test webhooks included), and the pasted one. */
	const secretsSeen = new Set<string>([AUTOMATION_SECRET]);
	const noteSecrets = () => {
		for (const webhook of simulator.webhooks()) secretsSeen.add(new URL(webhook.url).searchParams.get('secret') ?? '');
	};
	const timings: Record<string, number> = {};
	const startedAt = Date.now();

	/** Delivers through the simulator, which must find exactly the main webhook; returns the node's answer. */
	async function deliverToMain(body: string): Promise<DeliveryResult> {
		const results = await simulator.deliver(body);
		tally.sent += results.length;
		expect(results.map(({ webhookId, status }) => ({ webhookId, status }))).toEqual([{ webhookId: registered.id, status: 200 }]);
		if (isDuplicateAnswer(results[0])) tally.duplicates++;
		return results[0];
	}

	/** Delivers a new event on its own: emitted, not answered as a duplicate. */
	async function deliverNew(body: string, item: unknown): Promise<void> {
		const answer = await deliverToMain(body);
		expect({ duplicate: isDuplicateAnswer(answer), status: answer.status }).toEqual({ duplicate: false, status: 200 });
		acceptedItems.push(item);
		sequentiallyAccepted.push(body);
	}

	/** Delivers each body again: every one is answered as a duplicate and none starts an execution. */
	async function expectAllRemembered(bodies: readonly string[]): Promise<void> {
		const reEmitted: string[] = [];
		for (const body of bodies) {
			const answer = await deliverToMain(body);
			if (!isDuplicateAnswer(answer)) reEmitted.push(`${new URLSearchParams(body).get('type')} #${new URLSearchParams(body).get('contact[id]')}`);
		}
		const executions = await takeNewExecutions(0);
		expect({ replayed: bodies.length, reEmitted, executions: executions.length }).toEqual({
			replayed: bodies.length,
			reEmitted: [],
			executions: 0,
		});
	}

	async function productionExecutions(): Promise<ExecutionRecord[]> {
		return (await n8n.executions(mainWorkflowId, TRIGGER_NAME)).filter((execution) => execution.mode === 'webhook');
	}

	/**
	 * The production executions no earlier step checked are exactly `expected`: one successful execution per
	 * item, each emitting exactly that item (in any order). With nothing expected, waits a moment for
	 * executions that should not come.
	 */
	async function expectNewExecutions(expected: unknown[]): Promise<void> {
		const fresh = await takeNewExecutions(expected.length);
		expect(fresh.map(({ status, items }) => ({ status, items: items.length }))).toEqual(expected.map(() => ({ status: 'success', items: 1 })));
		expect(fresh.map((execution) => canonicalJson(execution.items[0])).sort()).toEqual(expected.map(canonicalJson).sort());
	}

	/**
	 * The production executions no earlier step took, once `count` of them have finished (or after a minute);
	 * with a count of 0, after a moment for executions that should not come.
	 */
	async function takeNewExecutions(count: number): Promise<ExecutionRecord[]> {
		let fresh: ExecutionRecord[] = [];
		const finished = async () => {
			fresh = (await productionExecutions()).filter((execution) => !checkedExecutionIds.has(execution.id));
			return fresh.filter((execution) => !UNFINISHED.has(execution.status)).length;
		};
		if (count === 0) await new Promise((resolve) => setTimeout(resolve, 1500));
		await waitFor(`${count} new production execution(s)`, async () => ((await finished()) >= count ? true : undefined)).catch(() => undefined);
		fresh.forEach((execution) => checkedExecutionIds.add(execution.id));
		tally.executions += fresh.length;
		return fresh;
	}

	/** Ends "Listen for test event" if n8n still listens (a failed step), so the next steps start clean. */
	async function stopListeningIfNeeded(): Promise<void> {
		const isTest = (webhook: SimulatedWebhook) => webhook.url.includes('/webhook-test/');
		if (!simulator.webhooks().some(isTest)) return;
		await n8n.stopListening(mainWorkflowId);
		await waitFor('the test webhook to be removed', () => (simulator.webhooks().some(isTest) ? undefined : true), 30_000);
	}

	/** The test-mode executions no earlier step checked, once there is one (or after a minute, none). */
	async function newTestExecutions(): Promise<Array<Pick<ExecutionRecord, 'status' | 'items'>>> {
		let fresh: ExecutionRecord[] = [];
		await waitFor('a test execution', async () => {
			const all = await n8n.executions(mainWorkflowId, TRIGGER_NAME);
			fresh = all.filter((execution) => execution.mode === 'manual' && !checkedManualIds.has(execution.id));
			return fresh.length > 0 && fresh.every((execution) => !UNFINISHED.has(execution.status)) ? true : undefined;
		}).catch(() => undefined);
		fresh.forEach((execution) => checkedManualIds.add(execution.id));
		return fresh.map(({ status, items }) => ({ status, items }));
	}

	beforeAll(async () => {
		const userFolder = n8nUserFolder(`e2e/scenario-${version}`);
		fs.rmSync(userFolder, { recursive: true, force: true });
		simulator = await ActiveCampaignSimulator.start({ apiToken: API_TOKEN, deliveryOrigin: `http://127.0.0.1:${PORTS[version]}` });
		n8n = await startN8n({ version, port: PORTS[version], userFolder, webhookUrl: `${PUBLIC_ORIGIN}/`, packageTarball });
		timings.start = n8n.startupMs;
		credentialId = await n8n.importCredentials({
			name: 'ActiveCampaign simulator',
			type: 'activeCampaignTriggerApi',
			data: { apiUrl: simulator.apiUrl, apiKey: API_TOKEN },
		});
		queryAuthCredentialId = await n8n.importCredentials({
			name: 'Pasted URL secret',
			type: 'httpQueryAuth',
			data: { name: 'secret', value: AUTOMATION_SECRET },
		});
	});

	afterEach(() => noteSecrets());

	afterAll(async () => {
		const seconds = ((Date.now() - startedAt) / 1000).toFixed(0);
		console.info(
			`n8n ${version}: ${tally.sent} deliveries sent, ${tally.executions} production executions, ` +
				`${tally.duplicates} duplicates dropped, ${tally.forgedRefused} forged calls refused; ${seconds} s in all ` +
				`(start ${seconds1(timings.start)}, restart ${seconds1(timings.restart)}, activation with faults ` +
				`${seconds1(timings.faultyActivation)}); log: ${n8n?.logFile}`,
		);
		await n8n?.stop();
		await simulator?.close();
	});

	it('registers one webhook for all catalog events: https on 443, a 32-character secret, all sources, all lists', async () => {
		mainWorkflowId = await n8n.importWorkflow(triggerWorkflow('E2E main', MAIN_WEBHOOK_ID, credentialId, { events: [...EVENT_IDS] }));
		await n8n.activate(mainWorkflowId);
		const webhooks = await waitFor('the main webhook', () => (simulator.webhooks().length > 0 ? simulator.webhooks() : undefined));

		expect(webhooks).toHaveLength(1);
		[registered] = webhooks;
		const url = new URL(registered.url);
		expect({ protocol: url.protocol, port: url.port, endpoint: `${url.origin}${url.pathname}`, query: [...url.searchParams.keys()] }).toEqual({
			protocol: 'https:',
			port: '',
			endpoint: `${PUBLIC_ORIGIN}/webhook/${MAIN_WEBHOOK_ID}/webhook`,
			query: ['secret', 'workflow'],
		});
		expect(url.searchParams.get('secret')).toMatch(SECRET_PATTERN);
		expect(url.searchParams.get('workflow')).toBe(mainWorkflowId);
		expect(subscription(registered)).toEqual({ events: sorted(EVENT_IDS), sources: ALL_SOURCES, listid: '0' });
	});

	it('registers one webhook per chosen list for list-scoped events, one for the rest, and removes all on deactivation', async () => {
		const events = ['subscribe', 'open', 'deal_add'];
		const workflowId = await n8n.importWorkflow(triggerWorkflow('E2E lists', LISTS_WEBHOOK_ID, credentialId, { events, listIds: ['1', '2'] }));
		await n8n.activate(workflowId);
		const ofLists = () => simulator.webhooks().filter((webhook) => webhook.url.includes(`/webhook/${LISTS_WEBHOOK_ID}/`));
		const webhooks = await waitFor('the three webhooks', () => (ofLists().length >= 3 ? ofLists() : undefined));

		expect(webhooks.map(subscription)).toEqual([
			{ events: ['deal_add'], sources: ALL_SOURCES, listid: '0' },
			{ events: ['open', 'subscribe'], sources: ALL_SOURCES, listid: '1' },
			{ events: ['open', 'subscribe'], sources: ALL_SOURCES, listid: '2' },
		]);
		expect(new Set(webhooks.map((webhook) => webhook.url)).size).toBe(1);

		await n8n.deactivate(workflowId);
		await waitFor('the list webhooks to be removed', () => (ofLists().length === 0 ? true : undefined));
		expect(simulator.webhooks()).toEqual([registered]);
	});

	it('emits every sample event once, with exactly the expected item', async () => {
		expect(sorted(EVENT_BODIES.map((body) => body.event))).toEqual(sorted(EVENT_IDS));
		for (const { body, fixture } of EVENT_BODIES) await deliverNew(body, readExpectedItem(fixture));
		await expectNewExecutions(EVENT_BODIES.map(({ fixture }) => readExpectedItem(fixture)));
	});

	it('drops every sample event delivered a second time, one after the other', async () => {
		const answers: DeliveryResult[] = [];
		for (const { body } of EVENT_BODIES) answers.push(await deliverToMain(body));
		expect(answers.filter((answer) => !isDuplicateAnswer(answer))).toEqual([]);
		await expectNewExecutions([]);
	});

	it('emits one item each for twenty new events arriving at once', async () => {
		const burst = Array.from({ length: 20 }, (_, index) => withContactId(bodyOf(index % 2 === 0 ? 'update' : 'sms_sent'), String(8000 + index)));
		const answers = await Promise.all(burst.map(({ body }) => deliverToMain(body)));
		expect(answers.filter(isDuplicateAnswer)).toEqual([]);
		acceptedItems.push(...burst.map(({ item }) => item));
		concurrentlyAccepted.push(...burst.map(({ body }) => body));
		await expectNewExecutions(burst.map(({ item }) => item));
	});

	it('emits one item for five concurrent copies of an event, known or new', async () => {
		const known = ['subscribe', 'deal_update', 'sms_reply'].map((event) => bodyOf(event).body);
		const fresh = [withContactId(bodyOf('subscribe'), '9001'), withContactId(bodyOf('open'), '9002')];

		const answers = await Promise.all(
			[...known, ...fresh.map(({ body }) => body)].flatMap((body) => Array.from({ length: 5 }, () => deliverToMain(body))),
		);
		const emitted = answers.filter((answer) => !isDuplicateAnswer(answer));
		expect({ emitted: emitted.length, duplicates: answers.length - emitted.length }).toEqual({
			emitted: fresh.length,
			duplicates: known.length * 5 + fresh.length * 4,
		});
		acceptedItems.push(...fresh.map(({ item }) => item));
		concurrentlyAccepted.push(...fresh.map(({ body }) => body));
		await expectNewExecutions(fresh.map(({ item }) => item));
	});

	it('refuses forged calls with 401 and no execution, and still takes the real delivery of the same body', async () => {
		const { body, item } = withContactId(bodyOf('deal_add'), '9003');
		const secret = new URL(registered.url).searchParams.get('secret')!;
		const local = `${n8n.baseUrl}/webhook/${MAIN_WEBHOOK_ID}/webhook`;
		const wrongSecret = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
		const forgeries = [local, `${local}?secret=`, `${local}?secret=${wrongSecret}`, `${local}?secret=${secret}x`, `${local}?token=${secret}`];

		const statuses = [];
		for (const url of forgeries) statuses.push({ url, status: (await simulator.postTo(url, body)).status });
		expect(statuses).toEqual(forgeries.map((url) => ({ url, status: 401 })));
		tally.forgedRefused += forgeries.length;
		await expectNewExecutions([]);

		await deliverNew(body, item);
		await expectNewExecutions([item]);
	});

	it("takes whole a body beyond n8n's own parsing limit of 1,000 parameters (the node reads the raw body)", async () => {
		const base = bodyOf('update');
		const extraFields = Array.from({ length: 1500 }, (_, index) => [String(1000 + index), `value-${index}-${'x'.repeat(100)}`]);
		const body = `${base.body}${extraFields.map(([id, value]) => `&contact%5Bfields%5D%5B${id}%5D=${value}`).join('')}`;
		expect(body.length).toBeGreaterThan(150_000);
		const item = structuredClone(readExpectedItem(base.fixture)) as { contact: { fields: Record<string, unknown> } };
		for (const [id, value] of extraFields) item.contact.fields[id] = value;

		await deliverNew(body, item);
		await expectNewExecutions([item]);
	});

	it('refuses a body over 4 MiB with 413 and no execution', async () => {
		const body = `${bodyOf('subscriber_note').body}&note=${'n'.repeat(5 * 1024 * 1024)}`;
		const results = await simulator.deliver(body);
		tally.sent += results.length;
		expect(results.map(({ webhookId, status }) => ({ webhookId, status }))).toEqual([{ webhookId: registered.id, status: 413 }]);
		await expectNewExecutions([]);
	});

	it('is refused by n8n itself, before the node, with 500 beyond n8n\'s own 16 MiB payload limit', async () => {
		const body = `${bodyOf('subscriber_note').body}&note=${'n'.repeat(17 * 1024 * 1024)}`;
		const results = await simulator.deliver(body);
		tally.sent += results.length;
		expect(results.map(({ webhookId, status }) => ({ webhookId, status }))).toEqual([{ webhookId: registered.id, status: 500 }]);
		expect(JSON.parse(results[0].body)).toMatchObject({ message: 'There was a problem executing the workflow' });
		await expectNewExecutions([]);
	});

	it("refuses with 413 a body without a Content-Type beyond n8n's 16 MiB limit: read by the node with n8n's reader", async () => {
		const body = `${bodyOf('subscriber_note').body}&note=${'n'.repeat(17 * 1024 * 1024)}`;
		const results = await simulator.deliver(body, { contentType: null });
		tally.sent += results.length;
		expect(results.map(({ webhookId, status }) => ({ webhookId, status }))).toEqual([{ webhookId: registered.id, status: 413 }]);
		expect(JSON.parse(results[0].body)).toEqual({ message: "Body over n8n's payload limit (N8N_PAYLOAD_SIZE_MAX)" });
		await expectNewExecutions([]);
	});

	it('runs the automation action workflow from its pasted URL and secret, once per event', async () => {
		const workflowId = await n8n.importWorkflow(pastedWorkflow('E2E automation', AUTOMATION_WEBHOOK_ID, queryAuthCredentialId));
		await n8n.activate(workflowId);
		const local = `${n8n.baseUrl}/webhook/${AUTOMATION_WEBHOOK_ID}/webhook`;

		const forged = await simulator.postTo(`${local}?secret=not-the-secret-at-all`, AUTOMATION_BODY.body);
		expect(forged.status).toBe(401);
		tally.forgedRefused++;
		const answers = await Promise.all(
			Array.from({ length: 3 }, () => simulator.postTo(`${local}?secret=${AUTOMATION_SECRET}`, AUTOMATION_BODY.body)),
		);
		tally.sent += answers.length;
		expect(answers.map(({ status }) => status)).toEqual([200, 200, 200]);
		expect(answers.filter(isDuplicateAnswer)).toHaveLength(2);
		tally.duplicates += 2;

		const executions = await n8n.waitForExecutions(workflowId, TRIGGER_NAME, 1);
		expect(executions.map(({ status, items }) => ({ status, items }))).toEqual([{ status: 'success', items: [readExpectedItem('automation')] }]);
		await n8n.deactivate(workflowId);
	});

	it('keeps its webhook over a restart, and remembers every event accepted one at a time', async () => {
		const restartStarted = Date.now();
		await n8n.restart();
		// n8n answers 404 until the webhook is live again (v2 activates after it starts), then the node's 401.
		const local = `${n8n.baseUrl}/webhook/${MAIN_WEBHOOK_ID}/webhook`;
		await waitFor('the webhook to be live after the restart', async () => ((await simulator.postTo(local, 'type=x')).status === 401 ? true : undefined), 120_000);
		timings.restart = Date.now() - restartStarted;
		expect(simulator.webhooks()).toEqual([registered]);

		await expectAllRemembered(sequentiallyAccepted);
	});

	it('remembers over the restart the events that arrived while others were in flight', async () => {
		await expectAllRemembered(concurrentlyAccepted);
	});

	it('takes new events after the restart', async () => {
		const { body, item } = withContactId(bodyOf('click'), '9004');
		await deliverNew(body, item);
		await expectNewExecutions([item]);
	});

	it("keeps its webhook over a restart while ActiveCampaign's API refuses every call, and takes events", async () => {
		// n8n deletes a node's webhooks when its check fails as n8n starts, and only retries later.
		simulator.injectFault({ method: 'GET', path: '/api/3/webhooks', status: 403, count: 1_000 });
		try {
			await n8n.restart();
			const local = `${n8n.baseUrl}/webhook/${MAIN_WEBHOOK_ID}/webhook`;
			await waitFor('the webhook to be live after the restart', async () => ((await simulator.postTo(local, 'type=x')).status === 401 ? true : undefined), 120_000);
			// n8n 1.x re-activates the workflow as it starts, so the node's check meets the refusal. n8n 2.x (its
			// workflow publication service) keeps a published workflow's webhooks and calls no check at start.
			const kept = 'ActiveCampaign Trigger kept its webhooks as they are: reconciling them failed while n8n was starting';
			expect(n8n.logs().includes(kept)).toBe(version === 'v1');
		} finally {
			simulator.clearFaults();
		}
		expect(simulator.webhooks()).toEqual([registered]);
		const { body, item } = withContactId(bodyOf('click'), '9011');
		await deliverNew(body, item);
		await expectNewExecutions([item]);
	});


	it('follows an events change: still exactly one remote webhook, with the new events', async () => {
		const events = ['subscribe', 'deal_add'];
		await n8n.updateWorkflow(mainWorkflowId, triggerWorkflow('E2E main', MAIN_WEBHOOK_ID, credentialId, { events }));
		// v1 re-activates an active workflow when it is saved; v2 publishes the saved draft on activation.
		if (version === 'v2') await n8n.activate(mainWorkflowId);
		const changed = (webhook: SimulatedWebhook) => sorted(webhook.events).join() === sorted(events).join();
		const webhooks = await waitFor('the webhook to take the new events', () =>
			simulator.webhooks().some(changed) ? simulator.webhooks() : undefined,
		);
		expect(webhooks.map((webhook) => ({ url: webhook.url, ...subscription(webhook) }))).toEqual([
			{ url: registered.url, events: sorted(events), sources: ALL_SOURCES, listid: '0' },
		]);
		// Both majors remove the old version's webhooks before adding the new version's: a new id, never two.
		console.info(`n8n ${version}: after the events change the webhook id is ${webhooks[0].id} (was ${registered.id})`);
		registered = webhooks[0];

		const { body, item } = withContactId(bodyOf('subscribe'), '9005');
		await deliverNew(body, item);
		expect(await simulator.deliver(withContactId(bodyOf('open'), '9006').body)).toEqual([]);
		await expectNewExecutions([item]);
	});

	it('ends up with exactly one correct webhook when activation meets a 429, a 500 and a lost creation answer', async () => {
		await n8n.deactivate(mainWorkflowId);
		await waitFor('the webhook to be removed', () => (simulator.webhooks().length === 0 ? true : undefined));
		simulator.resetRequests();
		simulator.injectFault({ method: 'GET', path: '/api/3/webhooks', status: 429, retryAfter: 1 });
		simulator.injectFault({ method: 'GET', path: '/api/3/webhooks', status: 500 });
		// Created, then no answer: the node's client gives up after 20 s and must find it by listing.
		simulator.injectFault({ method: 'POST', path: '/api/3/webhooks', hang: true, applyFirst: true });

		const activationStarted = Date.now();
		await n8n.activate(mainWorkflowId);
		timings.faultyActivation = Date.now() - activationStarted;

		const failed = simulator.requests.filter(({ status }) => status === 'hung' || status >= 400);
		expect(failed.map(({ method, path: route, status }) => `${method} ${route} ${status}`)).toEqual([
			'GET /api/3/webhooks 429',
			'GET /api/3/webhooks 500',
			'POST /api/3/webhooks hung',
		]);
		expect(simulator.requests.filter(({ method }) => method === 'POST')).toHaveLength(1);
		const webhooks = simulator.webhooks();
		expect(webhooks.map((webhook) => ({ url: webhook.url, ...subscription(webhook) }))).toEqual([
			{ url: registered.url, events: ['deal_add', 'subscribe'], sources: ALL_SOURCES, listid: '0' },
		]);
		registered = webhooks[0];

		const { body, item } = withContactId(bodyOf('deal_add'), '9007');
		await deliverNew(body, item);
		await expectNewExecutions([item]);
	});

	it('listens for a test event while active: both webhooks get the event, each runs once, the test one goes', async () => {
		expect(await n8n.listenForTestEvent(mainWorkflowId, TRIGGER_NAME)).toBe(true);
		try {
			const webhooks = await waitFor('the test webhook', () => (simulator.webhooks().length > 1 ? simulator.webhooks() : undefined), 15_000);
			noteSecrets();
			expect(webhooks.map((webhook) => new URL(webhook.url).pathname)).toEqual([
				`/webhook/${MAIN_WEBHOOK_ID}/webhook`,
				`/webhook-test/${MAIN_WEBHOOK_ID}/webhook`,
			]);
			expect(webhooks[0]).toEqual(registered);
			const testWebhook = webhooks[1];

			const { body, item } = withContactId(bodyOf('deal_add'), '9010');
			const results = await simulator.deliver(body);
			tally.sent += results.length;
			acceptedItems.push(item);
			await expectNewExecutions([item]);
			const answers = results.map(({ webhookId, status, body: answer }) => ({ webhookId, status, duplicate: isDuplicateAnswer({ body: answer }) }));
			expect(answers).toEqual([
				{ webhookId: registered.id, status: 200, duplicate: false },
				{ webhookId: testWebhook.id, status: 200, duplicate: false },
			]);
			expect(await newTestExecutions()).toEqual([{ status: 'success', items: [item] }]);
			await waitFor('the test webhook to be removed', () => (simulator.webhooks().length === 1 ? true : undefined), 15_000).catch(() => undefined);
			expect(simulator.webhooks()).toEqual([registered]);
		} finally {
			await stopListeningIfNeeded();
		}
	});

	it('removes the webhook on deactivation', async () => {
		await n8n.deactivate(mainWorkflowId);
		await waitFor('the webhook to be removed', () => (simulator.webhooks().length === 0 ? true : undefined));
		expect(simulator.webhooks()).toEqual([]);
		expect(await simulator.deliver(withContactId(bodyOf('subscribe'), '9008').body)).toEqual([]);
	});

	it('listens for a test event with a separate /webhook-test/ webhook, runs it once, then removes the webhook', async () => {
		expect(await n8n.listenForTestEvent(mainWorkflowId, TRIGGER_NAME)).toBe(true);
		try {
			const webhooks = await waitFor('the test webhook', () => (simulator.webhooks().length > 0 ? simulator.webhooks() : undefined), 15_000);
			noteSecrets();
			expect(webhooks).toHaveLength(1);
			const [testWebhook] = webhooks;
			const url = new URL(testWebhook.url);
			expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_ORIGIN}/webhook-test/${MAIN_WEBHOOK_ID}/webhook`);
			expect(url.searchParams.get('secret')).toMatch(SECRET_PATTERN);
			expect(subscription(testWebhook)).toEqual({ events: ['deal_add', 'subscribe'], sources: ALL_SOURCES, listid: '0' });

			const { body, item } = withContactId(bodyOf('subscribe'), '9009');
			const results = await simulator.deliver(body);
			tally.sent += results.length;
			expect(results.map(({ webhookId, status }) => ({ webhookId, status }))).toEqual([{ webhookId: testWebhook.id, status: 200 }]);

			expect(await newTestExecutions()).toEqual([{ status: 'success', items: [item] }]);
			await waitFor('the test webhook to be removed', () => (simulator.webhooks().length === 0 ? true : undefined), 15_000).catch(() => undefined);
			expect(simulator.webhooks()).toEqual([]);
			await expectNewExecutions([]);
		} finally {
			await stopListeningIfNeeded();
		}
	});

	it("never wrote the API key or a delivery secret to n8n's log, an execution or the workflow's static data (exported with it)", async () => {
		const secrets = [...secretsSeen].filter((secret) => secret.length > 0);
		const log = n8n.logs();
		const executions = JSON.stringify(await n8n.executions(mainWorkflowId, TRIGGER_NAME));
		const staticData = JSON.stringify(await n8n.staticData(mainWorkflowId));
		// The log, the executions and the static data are the real ones: they hold what the node logged, emitted and kept.
		expect([log.includes('ActiveCampaign Trigger refused a delivery (HTTP 401)'), executions.includes('jane.doe@example.com'), staticData.includes('"secretHash"')]).toEqual([
			true,
			true,
			true,
		]);
		expect(secrets.length).toBeGreaterThanOrEqual(3);
		const leaks = [API_TOKEN, ...secrets].filter((secret) => [log, executions, staticData].some((text) => text.includes(secret)));
		expect(leaks).toEqual([]);
	});

	it('ran exactly one production execution per accepted event over the whole run', async () => {
		const executions = await productionExecutions();
		expect(executions.map(({ status }) => status)).toEqual(acceptedItems.map(() => 'success'));
		expect(executions.map((execution) => canonicalJson(execution.items)).sort()).toEqual(acceptedItems.map((item) => canonicalJson([item])).sort());
	});
});

function seconds1(ms: number | undefined): string {
	return ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`;
}
