/**
 * P5: this node (Redis dedup store) against n8n's built-in ActiveCampaign Trigger in a real queue-mode n8n
 * of one major (PostgreSQL, Redis, the main process, two webhook processes, one worker), the same stream to both: new
 * events with 10% of them delivered a second time (none with `withoutCopies`), each copy to one of the two
 * webhook processes and retried until a 2xx, as ActiveCampaign and a load balancer would.
 *
 * - throughput: deliveries per second over the whole stream, chunk by chunk, the two nodes taking turns,
 *   after a warm-up of both (the first deliveries to a process load the node's code); the stream is sent in
 *   several passes (new events each time) and the ratio reported is the median of the passes' ratios;
 * - CPU per delivery by role (n8n's processes, PostgreSQL, Redis, the bench), read from /proc (cpu.ts);
 * - extra executions: ours beyond the number of distinct events;
 * - static writes per event: UPDATEs of this node's workflow row (where n8n keeps static data) per event,
 *   counted by a PostgreSQL trigger the bench adds to the run's own database.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';

// The bench's own reader of n8n's Bull queue; ioredis is already a runtime dependency of the package.
import Redis from 'ioredis';

import * as harness from '../test/e2e/harness';
import { withContactId, withDownstream } from '../test/e2e/scenarioSupport';
import { DELIVERY_BODIES } from '../test/fixtures/deliveryBodies';
import { ActiveCampaignSimulator } from '../test/simulator/ActiveCampaignSimulator';
import { QUEUE_REDIS, assertServices, psql, startQueueCluster, type QueueCluster } from '../test/queue/cluster';
import { sendAll, type AcceptedTimes, type Sender } from '../test/queue/loadBalancer';
import { OwnRedis } from '../test/queue/redisServer';
import { importQueueCredentials, registeredTarget, storeWorkflow, type QueueCredentials } from '../test/queue/workflows';
import { TRIGGER_NAME } from '../test/support/triggerNode';
import { settling } from '../nodes/ActiveCampaignTrigger/delivery/receive';

import { addCpu, cpuSince, type CpuByRole } from './cpu';
import { median } from './measure';

export interface QueueOptions {
	/** The n8n the cluster runs. */
	version: harness.N8nMajor;
	/** More n8n settings for every process (diagnostics: one of n8n's own switches). */
	env?: Record<string, string>;
	/** Distinct events per node and pass; 10% of them are sent twice, unless `withoutCopies`. */
	events: number;
	/** Streams measured one after the other in the same n8n; the ratio reported is their median. */
	passes: number;
	/** Events per turn: the nodes alternate chunk by chunk, so drift over the run hits both alike. */
	chunk: number;
	inFlight: number;
	/** The built-in node in this node's place too (a second workflow of its own): what the bench itself favours. */
	control?: boolean;
	/** Diagnostics: no event is delivered twice, so both nodes run the same executions. */
	withoutCopies?: boolean;
	/** Diagnostics: this node with Deduplicate off (no Redis command), to tell its dedup from the rest of its cost. */
	oursDedupOff?: boolean;
}

export interface QueueResult {
	/** The median of `passRatios`. */
	throughputRatio: number;
	passRatios: number[];
	/** The same ratio counting only the time until every delivery was answered (n8n 1.x answers before the run is enqueued, 2.x after). */
	answeredOnlyRatio: number;
	/** Executions still queued or running when a chunk's last delivery was answered, on average per chunk. */
	queuedAtAnswer: { ours: number; builtIn: number };
	extraExecutions: number;
	staticWritesPerEvent: number;
	perSecond: { ours: number; builtIn: number };
	/** CPU milliseconds per delivery, by role (n8n's processes, PostgreSQL, Redis, the bench), for each node's chunks. */
	cpuMsPerDelivery: { ours: CpuByRole; builtIn: CpuByRole };
	deliveries: number;
	distinctEvents: number;
	/** When this node's executions were written, against the answers to their deliveries (`enqueueAfterAnswer`). */
	enqueueAfterAnswer: EnqueueGap;
}

/**
 * Milliseconds from a delivery's 2xx to the `createdAt` stamp of the execution row, per event of this node. n8n
 * 1.x answers first, then stamps the row, commits the run data, checks credential permissions and adds the job
 * to its queue; 2.x answers after that (its `afterAnswer` is negative). `afterAnswer` counts from when the bench
 * received the 2xx, after n8n sent it: a lower bound of the gap to the enqueue. `afterSend` counts from when the
 * accepted attempt was sent, before n8n answered: an upper bound of the gap to the stamp only. `pastHold`: events
 * whose `afterSend` reached the Redis store's hold after a 2xx (settling in receive.ts); meaningful on 1.x only.
 */
export interface EnqueueGap {
	events: number;
	afterAnswer: Percentiles;
	afterSend: Percentiles;
	holdMs: number;
	pastHold: number;
}

interface Percentiles {
	p50: number;
	p99: number;
	max: number;
}

const API_TOKEN = 'bench-queue-api-token';
/** Distinct events sent to each node before the measured stream, enough to reach every webhook process. */
const WARM_UP_EVENTS = 40;
const SUBSCRIBE = DELIVERY_BODIES.find((body) => body.event === 'subscribe')!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** This node's workflow: the Redis store, or Deduplicate off (diagnostics). */
function oursWorkflow(webhookId: string, credentials: QueueCredentials, dedupOff: boolean): harness.WorkflowJson {
	const workflow = storeWorkflow('Bench P5: this package', webhookId, credentials, 'redis');
	if (!dedupOff) return workflow;
	const [trigger, ...rest] = workflow.nodes as Array<{ parameters: Record<string, unknown> }>;
	const dedupOffTrigger = { ...trigger, parameters: { ...trigger.parameters, options: { deduplicate: false } } };
	return { ...workflow, nodes: [dedupOffTrigger, ...rest] };
}

/** Counts every UPDATE of one workflow's row (where n8n keeps its static data), with a trigger of the bench's. */
function countRowWrites(database: string, workflowId: string): () => number {
	psql('CREATE TABLE bench_row_writes (at timestamptz NOT NULL DEFAULT now())', database);
	psql(
		`CREATE FUNCTION bench_count_row_write() RETURNS trigger AS $$ BEGIN INSERT INTO bench_row_writes DEFAULT VALUES; RETURN NEW; END $$ LANGUAGE plpgsql`,
		database,
	);
	psql(
		`CREATE TRIGGER bench_row_write AFTER UPDATE ON workflow_entity FOR EACH ROW WHEN (NEW.id = '${workflowId}') EXECUTE FUNCTION bench_count_row_write()`,
		database,
	);
	return () => Number(psql('SELECT count(*) FROM bench_row_writes', database));
}

function percentiles(values: number[]): Percentiles {
	const sorted = [...values].sort((a, b) => a - b);
	const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN;
	return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

/** The contact id of a P5 body: every event of the stream has its own. */
const contactIdOf = (body: string) => /contact%5Bid%5D=(\d+)/.exec(body)?.[1];

/** `EnqueueGap` from the bench's times of each event's accepted delivery and the rows n8n wrote for the workflow. */
function enqueueGap(database: string, workflowId: string, accepted: ReadonlyMap<string, AcceptedTimes>): EnqueueGap {
	// P5's contact ids count up from 500001 (six digits while under 100,000 events), and n8n keeps the item's
	// strings quoted in the run data; `events` shows how many executions were paired.
	const rows = psql(
		`SELECT round(extract(epoch FROM e."createdAt") * 1000), substring(d.data FROM '"(5[0-9]{5})"') FROM execution_entity e ` +
			`JOIN execution_data d ON d."executionId" = e.id WHERE e."workflowId" = '${workflowId}' ORDER BY e."createdAt"`,
		database,
	);
	const afterAnswer: number[] = [];
	const afterSend: number[] = [];
	// An event's first execution is the one its accepted delivery started (a second one would be a copy's).
	const paired = new Set<string>();
	for (const row of rows.split('\n')) {
		const [writtenAt, contactId] = row.split('|');
		const times = accepted.get(contactId);
		if (times === undefined || paired.has(contactId)) continue;
		paired.add(contactId);
		afterAnswer.push(Number(writtenAt) - times.answeredAt);
		afterSend.push(Number(writtenAt) - times.sentAt);
	}
	return {
		events: afterSend.length,
		afterAnswer: percentiles(afterAnswer),
		afterSend: percentiles(afterSend),
		holdMs: settling.afterAnswerMs,
		pastHold: afterSend.filter((gap) => gap >= settling.afterAnswerMs).length,
	};
}

function perDelivery(cpu: CpuByRole, deliveries: number): CpuByRole {
	return Object.fromEntries(Object.entries(cpu).map(([role, seconds]) => [role, Math.round((seconds * 1000 * 100) / deliveries) / 100]));
}

/** n8n's Bull queue of the run: jobs the worker has not finished (waiting and active), and waiting for none. */
function bullQueue(redis: Redis, database: string): { jobs(): Promise<number>; emptied(jobs: number): Promise<void> } {
	const prefix = `bull-${database}:jobs`;
	const jobs = async () => {
		const [waiting, active] = await Promise.all([redis.llen(`${prefix}:wait`), redis.llen(`${prefix}:active`)]);
		return waiting + active;
	};
	return {
		jobs,
		async emptied(known) {
			for (let left = known; left > 0; left = await jobs()) await sleep(10);
		},
	};
}

/** Sends the deliveries with `inFlight` senders; returns the seconds it took. */
async function send(sender: Sender, target: string, bodies: readonly string[], inFlight: number): Promise<number> {
	const started = process.hrtime.bigint();
	const unaccepted = await sendAll({ retryGapMs: 250, ...sender }, target, bodies, inFlight);
	if (unaccepted > 0) throw new Error(`${unaccepted} deliveries to ${target} got no 2xx`);
	return Number(process.hrtime.bigint() - started) / 1e9;
}

export async function measureQueueMode(options: QueueOptions, log: (line: string) => void): Promise<QueueResult> {
	assertServices();
	const tarball = harness.packPackage(path.join(harness.REPO_ROOT, '.cache', 'bench', 'pack'));
	const dedupRedis = await OwnRedis.start();
	const simulator = await ActiveCampaignSimulator.start({ apiToken: API_TOKEN });
	let cluster: QueueCluster | undefined;
	let queueReader: Redis | undefined;
	try {
		cluster = await startQueueCluster({
			version: options.version,
			basePort: 6100,
			userFolder: harness.n8nUserFolder(`bench/queue-${options.version}`),
			packageTarball: tarball,
			webhookUrl: 'https://n8n.bench.test/',
			env: options.env,
		});
		const credentials = await importQueueCredentials(cluster.main, simulator, API_TOKEN, dedupRedis.port);
		const builtInCredential = await cluster.main.importCredentials({
			name: 'ActiveCampaign (simulator), built-in',
			type: 'activeCampaignApi',
			data: { apiUrl: simulator.apiUrl, apiKey: API_TOKEN },
		});
		// The same workflow shape as ours (trigger, then a NoOp), so the worker runs the same number of nodes.
		const builtInWorkflow = (name: string, webhookId: string) =>
			withDownstream(name, {
				id: randomUUID(),
				name: TRIGGER_NAME,
				type: 'n8n-nodes-base.activeCampaignTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId,
				parameters: { events: ['subscribe'], sources: ['public', 'admin', 'api', 'system'] },
				credentials: { activeCampaignApi: { id: builtInCredential, name: 'ActiveCampaign (simulator), built-in' } },
			});
		const oursWebhookId = randomUUID();
		const oursId = await cluster.main.importWorkflow(
			options.control
				? builtInWorkflow('Bench P5: built-in (control)', oursWebhookId)
				: oursWorkflow(oursWebhookId, credentials, options.oursDedupOff === true),
		);
		const builtInWebhookId = randomUUID();
		const builtInId = await cluster.main.importWorkflow(builtInWorkflow('Bench P5: built-in', builtInWebhookId));
		for (const id of [oursId, builtInId]) await cluster.main.activate(id);
		const targets = { ours: registeredTarget(simulator, oursWebhookId), builtIn: registeredTarget(simulator, builtInWebhookId) };

		// Warm-up, not measured: each webhook process loads each node's code on its first delivery (ours brings
		// zod, qs and ioredis, and opens its Redis connection). The figure is the sustained rate after that.
		let contactId = 500_000;
		const warmUp = Array.from({ length: WARM_UP_EVENTS }, () => withContactId(SUBSCRIBE, String(++contactId)).body);
		for (const who of ['ours', 'builtIn'] as const) await send({ simulator, processes: cluster.webhooks }, targets[who], warmUp, options.inFlight);

		const seconds = { ours: 0, builtIn: 0 };
		const answered = { ours: 0, builtIn: 0 };
		const queuedAtAnswer = { ours: 0, builtIn: 0 };
		let chunks = 0;
		const cpu: { ours: CpuByRole; builtIn: CpuByRole } = { ours: {}, builtIn: {} };
		queueReader = new Redis({ host: QUEUE_REDIS.host, port: QUEUE_REDIS.port, lazyConnect: true });
		const queue = bullQueue(queueReader, cluster.database);
		await queue.emptied(await queue.jobs());
		const passRatios: number[] = [];
		let deliveries = 0;
		// The first accepted delivery of each of this node's events: the one that ran (a copy comes 50 events later).
		const accepted = new Map<string, AcceptedTimes>();
		const onAccepted = (body: string, times: AcceptedTimes) => {
			const contactId = contactIdOf(body);
			if (contactId !== undefined && !accepted.has(contactId)) accepted.set(contactId, times);
		};
		const rowWrites = countRowWrites(cluster.database, oursId);
		for (let pass = 1; pass <= options.passes; pass++) {
			// The stream: every tenth event is delivered again 50 events later, as a redelivery comes after the
			// first attempt (twins in flight at once are the queue suite's case; a copy whose twin is still
			// pending waits for it).
			const stream: string[] = [];
			const redeliveries = new Map<number, string>();
			for (let i = 0; i < options.events; i++) {
				const body = withContactId(SUBSCRIBE, String(++contactId)).body;
				stream.push(body);
				if (!options.withoutCopies && i % 10 === 0 && i + 50 < options.events) redeliveries.set(i + 50, body);
				const due = redeliveries.get(i);
				if (due !== undefined) stream.push(due);
			}
			const passSeconds = { ours: 0, builtIn: 0 };
			for (let start = 0; start < stream.length; start += options.chunk) {
				const chunk = stream.slice(start, start + options.chunk);
				const order = (start / options.chunk) % 2 === 0 ? (['ours', 'builtIn'] as const) : (['builtIn', 'ours'] as const);
				for (const who of order) {
					// A chunk lasts until its deliveries are answered and their executions have run: a rate at
					// which the worker falls further behind is not sustained. Each chunk starts with an empty queue.
					const spent = cpuSince();
					const sender = { simulator, processes: cluster.webhooks, onAccepted: who === 'ours' ? onAccepted : undefined };
					const answeredIn = await send(sender, targets[who], chunk, options.inFlight);
					const queued = await queue.jobs();
					const drainStarted = process.hrtime.bigint();
					await queue.emptied(queued);
					passSeconds[who] += answeredIn + Number(process.hrtime.bigint() - drainStarted) / 1e9;
					answered[who] += answeredIn;
					queuedAtAnswer[who] += queued;
					addCpu(cpu[who], spent());
				}
				chunks++;
				log(`P5 pass ${pass} of ${options.passes}: ${Math.min(start + options.chunk, stream.length)} of ${stream.length} deliveries sent to each node`);
			}
			// Same stream for both: the ratio of rates is the inverse ratio of times.
			passRatios.push(passSeconds.builtIn / passSeconds.ours);
			log(`P5 pass ${pass}: ours / built-in ${passRatios[passRatios.length - 1].toFixed(3)}`);
			seconds.ours += passSeconds.ours;
			seconds.builtIn += passSeconds.builtIn;
			deliveries += stream.length;
		}
		await sleep(3000);
		const updates = rowWrites();

		let executions = 0;
		for (let stable = 0, last = -1; stable < 5; ) {
			executions = (await cluster.main.executionStatuses(oursId)).length;
			stable = executions === last ? stable + 1 : 0;
			last = executions;
			await sleep(2000);
		}
		const perSecond = { ours: deliveries / seconds.ours, builtIn: deliveries / seconds.builtIn };
		const distinctEvents = options.events * options.passes;
		return {
			throughputRatio: median(passRatios),
			passRatios,
			answeredOnlyRatio: answered.builtIn / answered.ours,
			queuedAtAnswer: { ours: queuedAtAnswer.ours / chunks, builtIn: queuedAtAnswer.builtIn / chunks },
			extraExecutions: executions - distinctEvents - WARM_UP_EVENTS,
			staticWritesPerEvent: updates / distinctEvents,
			perSecond,
			cpuMsPerDelivery: { ours: perDelivery(cpu.ours, deliveries), builtIn: perDelivery(cpu.builtIn, deliveries) },
			deliveries,
			distinctEvents,
			enqueueAfterAnswer: enqueueGap(cluster.database, oursId, accepted),
		};
	} finally {
		queueReader?.disconnect();
		await cluster?.stop();
		await simulator.close();
		await dedupRedis.stop();
	}
}
