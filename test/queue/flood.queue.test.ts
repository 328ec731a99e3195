/**
 * A campaign-sized flood in a real queue-mode n8n (main, two webhook processes, one worker) with the Redis
 * dedup store: 20,000 distinct events, then their 20,000 copies, each delivery to one of the two webhook
 * processes and retried until a 2xx. Executions are not stored (thousands of rows would measure PostgreSQL);
 * each one posts its contact id to a counting server. Part of `npm run test:queue` (alone: `npm run test:flood`);
 * see README, "Queue mode".
 */
import path from 'node:path';

import { closeRedisConnections } from '../../nodes/ActiveCampaignTrigger/delivery/redisStore';
import { REPO_ROOT, n8nUserFolder, packPackage, type N8nMajor } from '../e2e/harness';
import { withContactId } from '../e2e/scenarioSupport';
import { DELIVERY_BODIES } from '../fixtures/deliveryBodies';
import { ActiveCampaignSimulator } from '../simulator/ActiveCampaignSimulator';
import { TRIGGER_NAME } from '../support/triggerNode';
import { assertServices, startQueueCluster, type QueueCluster } from './cluster';
import { CountingServer } from './countingServer';
import { sendAll } from './loadBalancer';
import { OwnRedis } from './redisServer';
import { importQueueCredentials, registeredTarget, storeWorkflow } from './workflows';

// Not 6000: fetch refuses that port (X11).
const BASE_PORTS: Record<N8nMajor, number> = { v1: 6200, v2: 6250 };
const API_TOKEN = 'flood-api-token';
const FLOOD_EVENTS = 20_000;
/**
 * How long a major may take on two cores: in a clean-clone CI run each major took its 40,000 deliveries in
 * 330 s (121 a second; n8n 2.x with the setting below), n8n 2.x's worker then needing about 20 minutes in all.
 */
const LIMITS: Record<N8nMajor, { testMs: number; settleMs: number }> = {
	v1: { testMs: 30 * 60_000, settleMs: 15 * 60_000 },
	v2: { testMs: 45 * 60_000, settleMs: 30 * 60_000 },
};
/**
 * n8n 2.x takes an isolate of its expression engine for every webhook request to a node other than its own
 * Webhook node, and builds a new one for each request that finds its pool of one in use: 23 deliveries a
 * second here, the flood 40 minutes. With this n8n setting (README, "Queue mode") it takes one only for an
 * expression, which this node at version 1.1 does not need per delivery (114 a second). The rest of the
 * queue suite runs n8n's defaults.
 */
const SETTINGS: Record<N8nMajor, Record<string, string>> = {
	v1: {},
	v2: { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' },
};
const IN_FLIGHT = 64;
const WEBHOOK_ID = '2c3d4e5f-0000-4000-8000-000000000001';
const SUBSCRIBE = DELIVERY_BODIES.find((body) => body.event === 'subscribe')!;

let packageTarball: string;

beforeAll(() => {
	assertServices();
	packageTarball = packPackage(path.join(REPO_ROOT, '.cache', 'queue', 'pack'));
});

describe.each<N8nMajor>(['v1', 'v2'])('n8n %s in queue mode: a flood', (version) => {
	let cluster: QueueCluster;
	let simulator: ActiveCampaignSimulator;
	let dedupRedis: OwnRedis;
	let counter: CountingServer;

	beforeAll(async () => {
		dedupRedis = await OwnRedis.start();
		simulator = await ActiveCampaignSimulator.start({ apiToken: API_TOKEN });
		counter = await CountingServer.start();
		cluster = await startQueueCluster({
			version,
			basePort: BASE_PORTS[version],
			userFolder: n8nUserFolder(`queue/flood-${version}`),
			packageTarball,
			webhookUrl: 'https://n8n.flood.test/',
			env: SETTINGS[version],
		});
	});

	afterAll(async () => {
		await cluster?.stop();
		await counter?.close();
		await simulator?.close();
		await closeRedisConnections();
		await dedupRedis?.stop();
	});

	it(`runs ${FLOOD_EVENTS} distinct events, then their ${FLOOD_EVENTS} copies, exactly ${FLOOD_EVENTS} times with Redis`, async () => {
		const credentials = await importQueueCredentials(cluster.main, simulator, API_TOKEN, dedupRedis.port);
		const workflowId = await cluster.main.importWorkflow(
			storeWorkflow('Queue: flood', WEBHOOK_ID, credentials, 'redis', {
				node: counter.node('Count'),
				connections: { [TRIGGER_NAME]: { main: [[{ node: 'Count', type: 'main', index: 0 }]] } },
				settings: { executionOrder: 'v1', saveDataSuccessExecution: 'none', saveDataErrorExecution: 'all' },
			}),
		);
		await cluster.main.activate(workflowId);
		const target = registeredTarget(simulator, WEBHOOK_ID);

		let contactId = version === 'v1' ? 1_000_000 : 2_000_000;
		const bodies = Array.from({ length: FLOOD_EVENTS }, () => withContactId(SUBSCRIBE, String(++contactId)).body);
		const sender = { simulator, processes: cluster.webhooks };
		const started = Date.now();
		expect(await sendAll(sender, target, bodies, IN_FLIGHT)).toBe(0);
		expect(await sendAll(sender, target, bodies, IN_FLIGHT)).toBe(0);
		const sentSeconds = (Date.now() - started) / 1000;
		const counts = await counter.settled(FLOOD_EVENTS, LIMITS[version].settleMs);
		console.info(
			`n8n ${version} queue mode, flood: ${2 * FLOOD_EVENTS} deliveries in ${sentSeconds.toFixed(0)} s ` +
				`(${((2 * FLOOD_EVENTS) / sentSeconds).toFixed(0)}/s); ${counts.total} executions of ${counts.distinct} distinct events`,
		);
		expect(counts).toEqual({ total: FLOOD_EVENTS, distinct: FLOOD_EVENTS });
	}, LIMITS[version].testMs);
});
