/**
 * The demo's world, for demo.ts and screenshots.ts: the pinned n8n 1.x with this package installed from its
 * packed tarball the way the Community nodes panel installs it, the ActiveCampaign simulator standing in for
 * an account, and an active workflow whose trigger registered its webhook there.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { SOURCE_IDS } from '../nodes/ActiveCampaignTrigger/catalog';
import { redactUrl } from '../nodes/ActiveCampaignTrigger/lifecycle/deliveryUrl';
import { ActiveCampaignSimulator, type RequestRecord } from '../test/simulator/ActiveCampaignSimulator';
import type { N8nInstance, WorkflowJson } from '../test/e2e/harness';
import * as harness from '../test/e2e/harness';
import { TRIGGER_NAME, TRIGGER_TYPE, TRIGGER_VERSION } from '../test/support/triggerNode';

/** ActiveCampaign delivers only to https on port 443; the simulator swaps this origin for the local n8n's. */
export const PUBLIC_WEBHOOK_ORIGIN = 'https://n8n.demo.test/';
export const DEMO_EVENTS = ['subscribe', 'update', 'contact_tag_added', 'open', 'click', 'deal_add', 'deal_update'];
export const SUMMARY_NAME = 'Summarise';
/** Fixed, so the editor can be opened on a node: /workflow/<workflow id>/<node id>. */
export const TRIGGER_NODE_ID = '5c1f3b0e-7a62-4d5e-9a61-0c3a7e2d9b10';
export const SUMMARY_NODE_ID = '8e4d2a71-3f09-4b8c-b5d2-6a1e0f7c3d42';
const NOTE_NODE_ID = 'c2b7e5d8-1a4f-4e63-8f20-9d5b3c6a7e14';
/** The node's webhookId, so the webhook path is the same on every run. */
const WEBHOOK_ID = 'activecampaign-demo';
const SIMULATOR_API_TOKEN = 'demo-api-key';

const { REPO_ROOT } = harness;

export type Say = (line: string) => void;

export interface DemoOptions {
	/** n8n's port (the editor, the APIs and the webhooks); v1 also takes the next one. */
	port: number;
	/** Holds the packed tarball and n8n's user folder; emptied first. */
	folder: string;
	say: Say;
}

export interface Demo {
	n8n: N8nInstance;
	simulator: ActiveCampaignSimulator;
	workflowId: string;
	/** Deactivates the workflow (the node removes its webhook), stops n8n and the simulator. Safe to call twice. */
	stop(): Promise<void>;
}

export async function startDemo({ port, folder, say }: DemoOptions): Promise<Demo> {
	await assertPortFree(port);
	await assertPortFree(port + 1);

	await timed(say, 'Installing the pinned n8n 1.x (reused when already installed)', async () => {
		const install = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'install-n8n.sh'), 'v1'], { stdio: 'inherit' });
		if (install.status !== 0) throw new Error('scripts/install-n8n.sh v1 failed; its output is above.');
	});

	fs.rmSync(folder, { recursive: true, force: true });
	const userFolder = harness.n8nUserFolder(`${path.basename(folder)}/n8n`);
	const tarball = await timed(say, 'Packing this package (npm pack)', async () => harness.packPackage(folder));
	await timed(say, `Installing ${path.basename(tarball)} into a fresh n8n user folder, as the Community nodes panel does`, async () =>
		harness.installCommunityPackage(userFolder, tarball),
	);

	const simulator = await ActiveCampaignSimulator.start({
		apiToken: SIMULATOR_API_TOKEN,
		deliveryOrigin: `http://127.0.0.1:${port}`,
	});
	say(`ActiveCampaign simulator: ${simulator.apiUrl} (delivers to http://127.0.0.1:${port})`);

	let n8n: N8nInstance;
	try {
		n8n = await timed(say, `Starting n8n on port ${port} (30-60 s)`, () =>
			harness.startN8n({ version: 'v1', port, userFolder, webhookUrl: PUBLIC_WEBHOOK_ORIGIN }),
		);
	} catch (error) {
		await simulator.close();
		throw error;
	}

	let active = false;
	const demo: Demo = {
		n8n,
		simulator,
		workflowId: '',
		stop: async () => {
			if (active) {
				active = false;
				say('Deactivating the workflow: the trigger removes its webhook from ActiveCampaign');
				const before = simulator.requests.length;
				await n8n.deactivate(demo.workflowId).catch((error: unknown) => say(`  deactivation failed: ${String(error)}`));
				printApiCalls(say, simulator.requests.slice(before));
				say(`  ActiveCampaign now has ${simulator.webhooks().length} webhook(s)`);
			}
			await n8n.stop();
			await simulator.close();
			say('n8n and the simulator stopped');
		},
	};

	try {
		const credentialId = await n8n.importCredentials({
			name: 'ActiveCampaign (simulator)',
			type: 'activeCampaignTriggerApi',
			data: { apiUrl: simulator.apiUrl, apiKey: SIMULATOR_API_TOKEN },
		});
		demo.workflowId = await n8n.importWorkflow(demoWorkflow(credentialId));
		say(`Imported the credential and the workflow "ActiveCampaign demo" (id ${demo.workflowId}); activating it`);
		const before = simulator.requests.length;
		await n8n.activate(demo.workflowId);
		active = true;
		printApiCalls(say, simulator.requests.slice(before));
		for (const webhook of simulator.webhooks()) {
			say(`  registered webhook ${webhook.id}: ${redactUrl(webhook.url)}`);
			say(`    events: ${webhook.events.join(', ')}; initiated by: ${webhook.sources.join(', ')}; lists: ${webhook.listid === '0' ? 'all' : webhook.listid}`);
		}
	} catch (error) {
		await demo.stop();
		throw error;
	}
	return demo;
}

/**
 * The trigger, registering its webhook with the simulator's credential, feeding a Set node that sums up each
 * event, and a sticky note saying so to whoever opens the editor.
 */
function demoWorkflow(credentialId: string): WorkflowJson {
	return {
		name: 'ActiveCampaign demo',
		nodes: [
			{
				id: TRIGGER_NODE_ID,
				name: TRIGGER_NAME,
				type: TRIGGER_TYPE,
				typeVersion: TRIGGER_VERSION,
				position: [0, 0],
				webhookId: WEBHOOK_ID,
				parameters: {
					webhookKind: 'subscriptions',
					authentication: 'activeCampaignTriggerApi',
					events: DEMO_EVENTS,
					sources: [...SOURCE_IDS],
					listIds: [],
					options: {},
				},
				credentials: { activeCampaignTriggerApi: { id: credentialId, name: 'ActiveCampaign (simulator)' } },
			},
			{
				id: SUMMARY_NODE_ID,
				name: SUMMARY_NAME,
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [260, 0],
				parameters: {
					assignments: {
						assignments: [
							{ id: 'event', name: 'event', value: '={{ $json.event }}', type: 'string' },
							{ id: 'who', name: 'who', value: '={{ $json.deal ? $json.deal.title : $json.contact.email }}', type: 'string' },
							{ id: 'occurredAt', name: 'occurredAt', value: '={{ $json.occurredAt }}', type: 'string' },
						],
					},
					options: {},
				},
			},
			{
				id: NOTE_NODE_ID,
				name: 'About this demo',
				type: 'n8n-nodes-base.stickyNote',
				typeVersion: 1,
				position: [-60, -260],
				parameters: {
					width: 560,
					height: 180,
					content: [
						'## ActiveCampaign Trigger demo',
						'On activation the trigger registered its webhook with the ActiveCampaign simulator; on deactivation it removes it.',
						'',
						'Each accepted event runs this workflow once: open **Executions** above. Retried deliveries, events that were not chosen and calls without the secret start nothing.',
					].join('\n'),
				},
			},
		],
		connections: { [TRIGGER_NAME]: { main: [[{ node: SUMMARY_NAME, type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

function printApiCalls(say: Say, calls: RequestRecord[]): void {
	for (const call of calls) {
		say(`  ActiveCampaign API: ${call.method} ${call.path}${call.query ? `?${decodeURIComponent(call.query)}` : ''} -> ${call.status}`);
	}
}

async function assertPortFree(port: number): Promise<void> {
	const server = net.createServer();
	await new Promise<void>((resolve, reject) => {
		server.once('error', (error: NodeJS.ErrnoException) =>
			reject(
				new Error(
					error.code === 'EADDRINUSE'
						? `Port ${port} is in use (another n8n, or a demo still running?). Stop it, or choose other ports with DEMO_PORT.`
						: `Port ${port}: ${error.message}`,
				),
			),
		);
		server.listen(port, resolve);
	});
	await new Promise((resolve) => server.close(resolve));
}

/** Runs a slow step, saying what it is, that it is still going every 10 s, and how long it took. */
async function timed<T>(say: Say, what: string, step: () => Promise<T>): Promise<T> {
	const startedAt = Date.now();
	const seconds = () => Math.round((Date.now() - startedAt) / 1000);
	say(`${what} ...`);
	const ticker = setInterval(() => say(`  ... ${seconds()} s`), 10_000);
	try {
		const result = await step();
		say(`  done in ${seconds()} s`);
		return result;
	} finally {
		clearInterval(ticker);
	}
}
