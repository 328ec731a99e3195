/**
 * Exactly one execution per event in a real queue-mode n8n (main, two webhook processes, one worker) on
 * PostgreSQL and Redis, for both majors. The simulator plays ActiveCampaign and the load balancer: it sends
 * each copy of a delivery to one of the two webhook processes. The Redis dedup store runs on a redis-server
 * of the test's own, apart from the Redis of n8n's queue.
 */
import fs from 'node:fs';
import path from 'node:path';

import { closeRedisConnections } from '../../nodes/ActiveCampaignTrigger/delivery/redisStore';
import { REPO_ROOT, n8nUserFolder, packPackage, type N8nMajor } from '../e2e/harness';
import { withContactId } from '../e2e/scenarioSupport';
import { DELIVERY_BODIES } from '../fixtures/deliveryBodies';
import { TRIGGER_NAME } from '../support/triggerNode';
import { ActiveCampaignSimulator, type DeliveryResult } from '../simulator/ActiveCampaignSimulator';
import { assertServices, startQueueCluster, type QueueCluster } from './cluster';
import { deliverUntilAccepted as deliverOnce } from './loadBalancer';
import { OwnRedis } from './redisServer';
import { importQueueCredentials, registeredTarget, storeWorkflow } from './workflows';

const BASE_PORTS: Record<N8nMajor, number> = { v1: 5900, v2: 5950 };
const PUBLIC_ORIGIN = 'https://n8n.queue.test';
const API_TOKEN = 'queue-suite-api-token';
const WEBHOOK_IDS = { redis: '1b2c3d4e-0000-4000-8000-000000000001', staticData: '1b2c3d4e-0000-4000-8000-000000000002' };
const DISTINCT_EVENTS = 500;
const KILL_EVENTS = 200;
const OUTAGE_EVENTS = 200;
const AFTER_OUTAGE_EVENTS = 50;
/** Events in flight at once (each as two copies). */
const IN_FLIGHT = 25;
/** Attempts per copy, half a second apart, before the sender gives up (ActiveCampaign keeps trying longer). */
const RETRY_LIMIT = 120;
const UNFINISHED = new Set(['new', 'running', 'waiting']);
/** No execution's status changing for this long: the unfinished ones are not coming (see settledExecutionCount). */
const STALLED_MS = 30_000;
const SUBSCRIBE = DELIVERY_BODIES.find((body) => body.event === 'subscribe')!;

let packageTarball: string;

beforeAll(() => {
	assertServices();
	packageTarball = packPackage(path.join(REPO_ROOT, '.cache', 'queue', 'pack'));
});

describe.each<N8nMajor>(['v1', 'v2'])('n8n %s in queue mode: two webhook processes, one worker', (version) => {
	let cluster: QueueCluster;
	let simulator: ActiveCampaignSimulator;
	let dedupRedis: OwnRedis;
	const workflowIds: Record<keyof typeof WEBHOOK_IDS, string> = { redis: '', staticData: '' };
	/** The registered delivery URL (path and secret) of each workflow. */
	const targets: Record<keyof typeof WEBHOOK_IDS, string> = { redis: '', staticData: '' };
	let contactIds = version === 'v1' ? 100_000 : 200_000;

	const deliverUntilAccepted = async (target: string, body: string, first: number) =>
		await deliverOnce({ simulator, processes: cluster.webhooks, retryLimit: RETRY_LIMIT }, target, body, first);

	/** Sends each body twice at once, one copy to each webhook process first, `IN_FLIGHT` events at a time. */
	async function sendTwiceToBothProcesses(target: string, bodies: readonly string[]): Promise<DeliveryResult[][]> {
		const copies: DeliveryResult[][] = [];
		for (let start = 0; start < bodies.length; start += IN_FLIGHT) {
			const batch = bodies.slice(start, start + IN_FLIGHT);
			copies.push(...(await Promise.all(batch.flatMap((body) => [0, 1].map(async (first) => await deliverUntilAccepted(target, body, first))))));
		}
		return copies;
	}

	/** How the copies ended: every one accepted in the end (`unaccepted` 0), and how many answers asked for a retry. */
	const outcomeOf = (copies: DeliveryResult[][]) => ({
		unaccepted: copies.filter((answers) => answers.at(-1)!.status !== 200).length,
		retried: copies.reduce((sum, answers) => sum + answers.length - 1, 0),
	});

	/** How many deliveries the node has refused so far, from the webhook processes' logs. */
	const nodeRefusals = () =>
		cluster.webhooks.reduce((sum, webhook) => sum + (fs.readFileSync(webhook.logFile, 'utf8').match(/ActiveCampaign Trigger refused a delivery/g)?.length ?? 0), 0);

	/** The answers that were not a 2xx, by status and body, with how often each came. */
	const refusalsOf = (copies: DeliveryResult[][]) => {
		const counts = new Map<string, number>();
		for (const answer of copies.flat().filter(({ status }) => status < 200 || status >= 300)) {
			const text = `${answer.status} ${answer.body.slice(0, 160)}`;
			counts.set(text, (counts.get(text) ?? 0) + 1);
		}
		return counts;
	};

	/** Executions left "new" when a count settled: never waited for again. */
	const abandoned = new Set<string>();

	/**
	 * Waits until `expected` executions finished and the rest stopped moving (every one finished, or no status
	 * changed for `STALLED_MS`), then 5 s more for any extra (waiting again if one came); returns the count.
	 * An execution can stay "new" for good: a webhook process killed after writing its row and before
	 * enqueueing it leaves it so, and nothing runs it. Waiting for it held every later count of the workflow
	 * up to the deadline, which is how this suite once overran jest's timeout; it is named and left instead.
	 * One stalled "running" or "waiting" is not explained that way: the count fails, naming it.
	 */
	async function settledExecutionCount(workflowId: string, expected: number): Promise<number> {
		const deadline = Date.now() + 300_000;
		const unfinished = (statuses: Array<{ id: string; status: string }>) =>
			statuses.filter(({ id, status }) => UNFINISHED.has(status) && !abandoned.has(id));
		let seen = '';
		let changedAt = Date.now();
		for (;;) {
			if (Date.now() > deadline) throw new Error(`n8n ${version}: executions of workflow ${workflowId} still moving after 300 s`);
			const statuses = await cluster.main.executionStatuses(workflowId);
			const now = statuses.map(({ id, status }) => `${id}:${status}`).join(',');
			if (now !== seen) [seen, changedAt] = [now, Date.now()];
			const finished = statuses.length - statuses.filter(({ status }) => UNFINISHED.has(status)).length;
			const left = unfinished(statuses);
			const stalled = Date.now() - changedAt > STALLED_MS;
			if (finished >= expected && left.length > 0 && stalled) {
				const running = left.filter(({ status }) => status !== 'new');
				if (running.length > 0) {
					throw new Error(`n8n ${version}: execution(s) ${running.map(({ id, status }) => `${id} (${status})`).join(', ')} did not move for ${STALLED_MS / 1000} s`);
				}
				for (const { id } of left) abandoned.add(id);
				console.info(`n8n ${version}: execution(s) ${left.map(({ id }) => id).join(', ')} stayed "new" for ${STALLED_MS / 1000} s (written, never enqueued)`);
				continue;
			}
			if (finished >= expected && left.length === 0) {
				// A few seconds more for an extra execution; if one came, wait for it as well.
				await new Promise((resolve) => setTimeout(resolve, 5000));
				const after = await cluster.main.executionStatuses(workflowId);
				if (after.length === statuses.length && unfinished(after).length === 0) return after.length;
				continue;
			}
			await new Promise((resolve) => setTimeout(resolve, 1000));
		}
	}

	const newEvents = (count: number) => Array.from({ length: count }, () => withContactId(SUBSCRIBE, String(++contactIds)).body);
	const contactOf = (body: string) => new URLSearchParams(body).get('contact[id]')!;

	/** How many executions each event (by contact id) started, once they have settled. */
	async function runsPerEvent(workflowId: string, bodies: readonly string[]): Promise<Map<string, number>> {
		const runs = new Map(bodies.map((body) => [contactOf(body), 0]));
		await settledExecutionCount(workflowId, 0);
		for (const execution of await cluster.main.executions(workflowId, TRIGGER_NAME)) {
			const id = (execution.items[0]?.contact as { id?: string } | undefined)?.id;
			if (id !== undefined && runs.has(id)) runs.set(id, runs.get(id)! + 1);
		}
		return runs;
	}

	/**
	 * Streams each body as two copies, `IN_FLIGHT` events at a time, every copy retried until a 2xx; once
	 * `trigger` copies have been answered, runs `disruption` alongside the stream.
	 */
	async function streamWith(target: string, bodies: readonly string[], trigger: number, disruption: () => Promise<void>) {
		let answered = 0;
		let disrupted: Promise<void> | undefined;
		const copies: DeliveryResult[][] = [];
		for (let start = 0; start < bodies.length; start += IN_FLIGHT) {
			const batch = bodies.slice(start, start + IN_FLIGHT);
			copies.push(
				...(await Promise.all(
					batch.flatMap((body) =>
						[0, 1].map(async (first) => {
							const answers = await deliverUntilAccepted(target, body, first);
							if (++answered === trigger) disrupted = disruption();
							return answers;
						}),
					),
				)),
			);
		}
		await disrupted;
		return outcomeOf(copies);
	}

	/**
	 * After an outage each webhook process reconnects to the dedup Redis on its own: waits until a copy of a
	 * settled probe event is answered as a duplicate by both (the probe's own executions are not counted).
	 */
	async function waitUntilBothProcessesDeduplicate(target: string): Promise<void> {
		const [probe] = newEvents(1);
		for (let attempt = 0; attempt < 60; attempt++) {
			const answers = await Promise.all(cluster.webhooks.map(async (webhook) => await simulator.postTo(`${webhook.baseUrl}${target}`, probe)));
			if (answers.every((answer) => answer.status === 200 && answer.body.includes('"reason":"duplicate"'))) return;
			await new Promise((resolve) => setTimeout(resolve, 500));
		}
		throw new Error('The webhook processes did not deduplicate again within 30 s of the dedup Redis coming back');
	}

	beforeAll(async () => {
		dedupRedis = await OwnRedis.start();
		simulator = await ActiveCampaignSimulator.start({ apiToken: API_TOKEN });
		cluster = await startQueueCluster({
			version,
			basePort: BASE_PORTS[version],
			userFolder: n8nUserFolder(`queue/cluster-${version}`),
			packageTarball,
			webhookUrl: `${PUBLIC_ORIGIN}/`,
		});
		const credentials = await importQueueCredentials(cluster.main, simulator, API_TOKEN, dedupRedis.port);
		for (const store of ['redis', 'staticData'] as const) {
			workflowIds[store] = await cluster.main.importWorkflow(storeWorkflow(`Queue: ${store}`, WEBHOOK_IDS[store], credentials, store));
			await cluster.main.activate(workflowIds[store]);
			targets[store] = registeredTarget(simulator, WEBHOOK_IDS[store]);
		}
	});

	it('runs no event twice when a webhook process is killed (SIGKILL) and restarted mid-stream', async () => {
		const bodies = newEvents(KILL_EVENTS);
		const [victim] = cluster.webhooks;
		const outcome = await streamWith(targets.redis, bodies, KILL_EVENTS / 2, async () => {
			await victim.kill();
			await new Promise((resolve) => setTimeout(resolve, 2000));
			await victim.start();
		});
		expect(outcome.unaccepted).toBe(0);
		const runs = await runsPerEvent(workflowIds.redis, bodies);
		const twice = [...runs].filter(([, count]) => count > 1).map(([id]) => id);
		const never = [...runs].filter(([, count]) => count === 0).map(([id]) => id);
		console.info(
			`n8n ${version} queue mode, SIGKILL of a webhook process mid-stream: ${KILL_EVENTS} events, ${outcome.retried} retried copies, ` +
				`${twice.length} ran twice, ${never.length} never ran${never.length > 0 ? ` (${never.join(', ')})` : ''}`,
		);
		expect(twice).toEqual([]);
		// n8n 1.x answers a webhook before it enqueues the execution: a copy answered 200 by the process that is
		// then killed may never run. Its claim stays pending for a moment after the answer (settling.afterAnswerMs),
		// so it expires and the event's other copy runs; settled at once, 6 of 200 events never ran here.
		expect(never).toEqual([]);
	});

	it('keeps answering and runs every event while the dedup Redis is down, and deduplicates again after', async () => {
		const bodies = newEvents(OUTAGE_EVENTS);
		const outcome = await streamWith(targets.redis, bodies, OUTAGE_EVENTS / 2, async () => {
			await dedupRedis.stop();
			await new Promise((resolve) => setTimeout(resolve, 3000));
			await dedupRedis.resume();
		});
		expect(outcome.unaccepted).toBe(0);
		const runs = await runsPerEvent(workflowIds.redis, bodies);
		expect([...runs].filter(([, count]) => count === 0).map(([id]) => id)).toEqual([]);
		const extra = [...runs.values()].reduce((sum, count) => sum + count - 1, 0);

		await waitUntilBothProcessesDeduplicate(targets.redis);
		const after = newEvents(AFTER_OUTAGE_EVENTS);
		expect(outcomeOf(await sendTwiceToBothProcesses(targets.redis, after)).unaccepted).toBe(0);
		const runsAfter = await runsPerEvent(workflowIds.redis, after);
		const afterCounts = [...runsAfter.values()];
		const extraAfter = afterCounts.reduce((sum, count) => sum + count - 1, 0);
		console.info(
			`n8n ${version} queue mode, dedup Redis down for 3 s mid-stream: ${OUTAGE_EVENTS} events, ${extra} extra executions; ` +
				`after: ${extraAfter} extra of ${AFTER_OUTAGE_EVENTS} events sent twice`,
		);
		// Every event runs. Deduplication is back: without it each of these events, sent twice at once, would run
		// twice. A claim slower than 500 ms still lets its delivery through (by design), and CI once saw one of 50
		// run twice on n8n 2.x here; a claim that lands late is now settled by its delivery's answer, which closes
		// the likeliest path to that, but a claim that never reaches Redis in time may still let a twin run.
		// So at most 2 are allowed.
		expect(afterCounts.filter((count) => count === 0)).toEqual([]);
		expect(extraAfter).toBeLessThanOrEqual(2);
	});

	afterAll(async () => {
		await cluster?.stop();
		await simulator?.close();
		await closeRedisConnections();
		await dedupRedis?.stop();
	});

	it(`runs ${DISTINCT_EVENTS} events sent twice at once to different webhook processes exactly ${DISTINCT_EVENTS} times with Redis`, async () => {
		const bodies = newEvents(DISTINCT_EVENTS);
		const outcome = outcomeOf(await sendTwiceToBothProcesses(targets.redis, bodies));
		expect(outcome.unaccepted).toBe(0);
		const runs = await runsPerEvent(workflowIds.redis, bodies);
		expect([...runs].filter(([, count]) => count !== 1)).toEqual([]);
		console.info(`n8n ${version} queue mode, Redis store: ${outcome.retried} copies were answered 409 (their twin still in flight after the wait) and retried`);
	});

	it('control: the static-data store in the same setup loses no event, and its extra executions are reported', async () => {
		const refusedBefore = nodeRefusals();
		const copies = await sendTwiceToBothProcesses(targets.staticData, newEvents(DISTINCT_EVENTS));
		expect(outcomeOf(copies).unaccepted).toBe(0);
		// The static-data store answers every valid delivery 200 itself: the node refused none. (CI once saw
		// n8n 2.x answer one webhook process's whole batch of 25 otherwise, before the node; those copies were
		// retried and ran, and what they got is logged here.)
		const refusals = refusalsOf(copies);
		if (refusals.size > 0) console.info(`n8n ${version}, static-data store: answers that were not a 2xx: ${JSON.stringify([...refusals])}`);
		expect(nodeRefusals()).toBe(refusedBefore);
		const executions = await settledExecutionCount(workflowIds.staticData, DISTINCT_EVENTS);
		console.info(
			`n8n ${version} queue mode, ${DISTINCT_EVENTS} events x 2 copies on two webhook processes, static-data store: ` +
				`${executions} executions (${executions - DISTINCT_EVENTS} extra)`,
		);
		expect(executions).toBeGreaterThanOrEqual(DISTINCT_EVENTS);
		expect(executions).toBeLessThanOrEqual(2 * DISTINCT_EVENTS);
	});
});
