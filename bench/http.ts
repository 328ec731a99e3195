/**
 * P3: per-delivery HTTP latency in one real n8n (1.x, and 2.x for `p3_ratio_latency_v2`; test/e2e/harness.ts),
 * this package's trigger against n8n's built-in ActiveCampaign Trigger. Each round sends one new body to every target over one keep-alive
 * connection, the targets taking turns at going first; see {@link TARGETS}.
 *
 * - Ours runs as an automation webhook with a pasted secret, so activation registers nothing; its deliveries
 *   go through the same receive pipeline as subscribed events.
 * - The built-in node registers its webhook through the API when activated; its credential points at the
 *   ActiveCampaign simulator, which accepts the registration. Nothing is ever delivered by the simulator: the
 *   bench posts to the webhook URLs itself.
 * - `builtInWithTable` is the built-in node again, its workflow given as much static data as ours persists
 *   (a 32 KB string): n8n reads a workflow's static data with it for every request, so this separates
 *   what that costs from what the node itself costs.
 * - `oursAtVersion1` is ours saved at node version 1, as by releases before 1.1: n8n evaluates an expression
 *   on every delivery to a webhook node of version 1, which costs little on 1.x and much on 2.x's isolated
 *   expression engine; the built-in node is version 1.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import { checkAndRemember, DEFAULT_WINDOW_MS } from '../nodes/ActiveCampaignTrigger/delivery/dedup';
import * as harness from '../test/e2e/harness';
import { ActiveCampaignSimulator } from '../test/simulator/ActiveCampaignSimulator';
import { TRIGGER_NAME, TRIGGER_TYPE, TRIGGER_VERSION } from '../test/support/triggerNode';

import type { BodyTemplate } from './bodies';
import { median } from './measure';


/** This file runs as .build/bench/http.js. */
const { REPO_ROOT } = harness;
const BENCH_CACHE = path.join(REPO_ROOT, '.cache', 'bench');

const BUILT_IN_NODE_TYPE = 'n8n-nodes-base.activeCampaignTrigger';
const FORM = 'application/x-www-form-urlencoded';
const API_TOKEN = 'bench-api-token';

export interface HttpOptions {
	warmup: number;
	/** Rounds after the warm-up; each sends one new body to every target. */
	requests: number;
	/** Pause after each request, so the execution it started does not overlap the next request. */
	gapMs: number;
}

/**
 * Where each round's body goes. `oursNoDedup` is this package with deduplication off, which keeps nothing in
 * the workflow's static data. (A duplicate is not timed: the node answers a new event before its execution
 * starts, so a duplicate's answer takes as long; what it saves is the execution.)
 */
const TARGETS = ['ours', 'builtIn', 'oursNoDedup', 'builtInWithTable', 'oursAtVersion1'] as const;
type Target = (typeof TARGETS)[number];

export interface HttpLatency {
	/** Median milliseconds per delivery, by target. */
	medianMs: Record<Target, number>;
	/** Median ours over median built-in. */
	ratio: number;
	/** Median of ours / built-in within each round (same body). */
	pairedRatio: number;
	/** Median ours over median built-in, per body. */
	ratioByBody: Record<string, number>;
	/** Median ours with dedup off over median built-in. */
	noDedupRatio: number;
	/** Median ours over the built-in node whose workflow carries as much static data as ours. */
	sameStaticDataRatio: number;
	/** Median ours saved at node version 1 over median built-in. */
	versionOneRatio: number;
	requests: number;
	/** Executions ours started: one per delivery. */
	oursExecutions: number;
	n8nStartupMs: number;
	samples: Record<Target, number[]>;
}

export function n8nVersion(version: harness.N8nMajor = 'v1'): string | null {
	const file = path.join(harness.n8nInstallFolder(version), 'node_modules', 'n8n', 'package.json');
	if (!fs.existsSync(file)) return null;
	return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

interface Answer {
	status: number;
	text: string;
	ms: number;
}

/** One POST over the shared keep-alive connection, timed from sending to the last byte of the answer. */
function post(agent: http.Agent, url: URL, body: string): Promise<Answer> {
	return new Promise((resolve, reject) => {
		const start = process.hrtime.bigint();
		const request = http.request(
			url,
			{ method: 'POST', agent, headers: { 'content-type': FORM, 'content-length': Buffer.byteLength(body) } },
			(response) => {
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => chunks.push(chunk));
				response.on('end', () =>
					resolve({
						status: response.statusCode ?? 0,
						text: Buffer.concat(chunks).toString('utf8'),
						ms: Number(process.hrtime.bigint() - start) / 1e6,
					}),
				);
				response.on('error', reject);
			},
		);
		request.on('error', reject);
		request.end(body);
	});
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Both nodes answer a delivery that starts an execution with n8n's default for the "onReceived" mode (in 1.x
 * the text `firstEntryJson`); ours answers one that starts none with `{ received, emitted: false, reason }`.
 */
function expectStarted(answer: Answer, who: string): void {
	if (answer.status !== 200 || answer.text.includes('"emitted":false')) {
		throw new Error(`${who} answered ${answer.status} ${answer.text.slice(0, 300)}; expected an execution to start`);
	}
}

/** Ours as the automation action's target: the secret comes from a Query Auth credential (`?secret=`). */
function ourWorkflow(
	name: string,
	webhookId: string,
	queryAuthId: string,
	options: Record<string, unknown>,
	typeVersion = TRIGGER_VERSION,
): harness.WorkflowJson {
	const parameters = { webhookKind: 'automation', authentication: 'none', options };
	const credentials = { httpQueryAuth: { id: queryAuthId, name: 'Bench: pasted URL secret' } };
	return {
		name,
		nodes: [{ id: randomUUID(), name: TRIGGER_NAME, type: TRIGGER_TYPE, typeVersion, position: [0, 0], webhookId, parameters, credentials }],
		connections: {},
	};
}

/** A dedup table as ours persists it at default settings (its size does not depend on what it holds). */
function persistedTableAtDefaults() {
	return checkAndRemember(undefined, '0123456789abcdef', Date.now(), { windowMs: DEFAULT_WINDOW_MS }).state;
}

function workflows(queryAuthId: string, credentialId: string, ids: Record<Target, string>): Record<Target, harness.WorkflowJson> {
	const ours = ourWorkflow('Bench: this package', ids.ours, queryAuthId, {});
	const oursNoDedup = ourWorkflow('Bench: this package, dedup off', ids.oursNoDedup, queryAuthId, { deduplicate: false });
	const oursAtVersion1 = ourWorkflow('Bench: this package, node version 1', ids.oursAtVersion1, queryAuthId, {}, 1);
	const builtInNode = (webhookId: string) => ({
		id: randomUUID(),
		name: TRIGGER_NAME,
		type: BUILT_IN_NODE_TYPE,
		typeVersion: 1,
		position: [0, 0] as [number, number],
		webhookId,
		parameters: { events: ['subscribe', 'update', 'deal_update'], sources: ['public', 'admin', 'api', 'system'] },
		credentials: { activeCampaignApi: { id: credentialId, name: 'ActiveCampaign (simulator)' } },
	});
	const builtIn: harness.WorkflowJson = { name: 'Bench: built-in', nodes: [builtInNode(ids.builtIn)], connections: {} };
	const builtInWithTable: harness.WorkflowJson = {
		name: 'Bench: built-in, 32 KB of static data',
		nodes: [builtInNode(ids.builtInWithTable)],
		connections: {},
		staticData: { global: { padding: persistedTableAtDefaults() } },
	};
	return { ours, builtIn, oursNoDedup, builtInWithTable, oursAtVersion1 };
}

export async function measureHttpLatency(
	version: harness.N8nMajor,
	bodies: readonly BodyTemplate[],
	options: HttpOptions,
): Promise<HttpLatency> {
	const userFolder = harness.n8nUserFolder(`bench/n8n-${version}`);
	fs.rmSync(userFolder, { recursive: true, force: true });
	const tarball = harness.packPackage(path.join(BENCH_CACHE, 'pack'));
	const simulator = await ActiveCampaignSimulator.start({ apiToken: API_TOKEN });
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	let n8n: harness.N8nInstance | undefined;
	try {
		n8n = await harness.startN8n({
			version,
			port: await freePort(),
			userFolder,
			webhookUrl: 'https://n8n.bench.test/',
			packageTarball: tarball,
		});
		const credentialId = await n8n.importCredentials({
			name: 'ActiveCampaign (simulator)',
			type: 'activeCampaignApi',
			data: { apiUrl: simulator.apiUrl, apiKey: API_TOKEN },
		});
		const secret = randomUUID().replace(/-/g, '');
		const queryAuthId = await n8n.importCredentials({
			name: 'Bench: pasted URL secret',
			type: 'httpQueryAuth',
			data: { name: 'secret', value: secret },
		});
		const ids: Record<Target, string> = {
			ours: randomUUID(),
			builtIn: randomUUID(),
			oursNoDedup: randomUUID(),
			builtInWithTable: randomUUID(),
			oursAtVersion1: randomUUID(),
		};
		const flows = workflows(queryAuthId, credentialId, ids);
		const oursId = await n8n.importWorkflow(flows.ours);
		for (const workflowId of [
			oursId,
			await n8n.importWorkflow(flows.builtIn),
			await n8n.importWorkflow(flows.oursNoDedup),
			await n8n.importWorkflow(flows.builtInWithTable),
			await n8n.importWorkflow(flows.oursAtVersion1),
		]) {
			await n8n.activate(workflowId);
		}
		if (simulator.webhooks().length !== 2) throw new Error('The built-in nodes did not register their webhooks');

		const url = (webhookId: string, query = '') => new URL(`/webhook/${webhookId}/webhook${query}`, n8n!.baseUrl);
		const urls: Record<Target, URL> = {
			ours: url(ids.ours, `?secret=${secret}`),
			builtIn: url(ids.builtIn),
			oursNoDedup: url(ids.oursNoDedup, `?secret=${secret}`),
			builtInWithTable: url(ids.builtInWithTable),
			oursAtVersion1: url(ids.oursAtVersion1, `?secret=${secret}`),
		};
		const samples = Object.fromEntries(TARGETS.map((target) => [target, [] as number[]])) as Record<Target, number[]>;
		const byBody = new Map(bodies.map((body) => [body.name, { ours: [] as number[], builtIn: [] as number[] }]));
		const pairRatios: number[] = [];

		for (let round = 0; round < options.warmup + options.requests; round++) {
			const template = bodies[round % bodies.length];
			const body = template.vary(round + 1);
			// The targets take turns at each position, so none always follows the executions the others started.
			const order = [...TARGETS.slice(round % TARGETS.length), ...TARGETS.slice(0, round % TARGETS.length)];
			const taken = {} as Record<Target, number>;
			for (const target of order) {
				const answer = await post(agent, urls[target], body);
				expectStarted(answer, target);
				taken[target] = answer.ms;
				await pause(options.gapMs);
			}
			if (round < options.warmup) continue;
			for (const target of TARGETS) samples[target].push(taken[target]);
			pairRatios.push(taken.ours / taken.builtIn);
			byBody.get(template.name)!.ours.push(taken.ours);
			byBody.get(template.name)!.builtIn.push(taken.builtIn);
		}

		const rounds = options.warmup + options.requests;
		const executions = await n8n.waitForExecutions(oursId, TRIGGER_NAME, rounds, 120_000);
		if (executions.length !== rounds) {
			throw new Error(`Expected ${rounds} executions of ours, found ${executions.length}`);
		}

		const medianMs = Object.fromEntries(TARGETS.map((target) => [target, median(samples[target])])) as Record<Target, number>;
		const ratioByBody: Record<string, number> = {};
		for (const [name, latencies] of byBody) ratioByBody[name] = median(latencies.ours) / median(latencies.builtIn);
		return {
			medianMs,
			ratio: medianMs.ours / medianMs.builtIn,
			pairedRatio: median(pairRatios),
			ratioByBody,
			noDedupRatio: medianMs.oursNoDedup / medianMs.builtIn,
			sameStaticDataRatio: medianMs.ours / medianMs.builtInWithTable,
			versionOneRatio: medianMs.oursAtVersion1 / medianMs.builtIn,
			requests: options.requests,
			oursExecutions: executions.length,
			n8nStartupMs: n8n.startupMs,
			samples,
		};
	} catch (error) {
		if (n8n) console.error(`n8n log: ${n8n.logFile}`);
		throw error;
	} finally {
		agent.destroy();
		await n8n?.stop();
		await simulator.close();
	}
}
