/**
 * Proves the harness on both n8n majors with n8n's own nodes, then that n8n loads our packed package.
 * Each major's user folder is kept in n8nUserFolder("e2e/smoke-<version>") (n8n.log there, under the system temp folder) until the next run.
 */
import fs from 'node:fs';
import path from 'node:path';

import { TRIGGER_TYPE } from '../support/triggerNode';
import { REPO_ROOT, n8nUserFolder, packPackage, startN8n, type N8nInstance, type N8nMajor, type WorkflowJson } from './harness';

const PORTS: Record<N8nMajor, number> = { v1: 5811, v2: 5821 };
const NODE_SOURCE = path.join(REPO_ROOT, 'nodes', 'ActiveCampaignTrigger', 'ActiveCampaignTrigger.node.ts');
const WEBHOOK_PATH = 'e2e-smoke';

/** n8n's Webhook node (production URL `/webhook/<path>`) feeding a Set node that keeps two posted fields. */
const SMOKE_WORKFLOW: WorkflowJson = {
	name: 'E2E smoke: webhook to set',
	nodes: [
		{
			id: 'smoke-webhook',
			name: 'Webhook',
			type: 'n8n-nodes-base.webhook',
			typeVersion: 2,
			position: [0, 0],
			webhookId: 'e2e-smoke-webhook',
			parameters: { httpMethod: 'POST', path: WEBHOOK_PATH, options: {} },
		},
		{
			id: 'smoke-set',
			name: 'Keep posted fields',
			type: 'n8n-nodes-base.set',
			typeVersion: 3.4,
			position: [220, 0],
			parameters: {
				assignments: {
					assignments: [
						{ id: 'email', name: 'email', value: '={{ $json.body.email }}', type: 'string' },
						{ id: 'score', name: 'score', value: '={{ $json.body.score }}', type: 'number' },
					],
				},
				options: {},
			},
		},
	],
	connections: { Webhook: { main: [[{ node: 'Keep posted fields', type: 'main', index: 0 }]] } },
};

/** Packed once for both majors; undefined while the node is not written yet. */
let packageTarball: string | undefined;

beforeAll(() => {
	if (fs.existsSync(NODE_SOURCE)) packageTarball = packPackage(path.join(REPO_ROOT, '.cache', 'e2e', 'pack'));
});

describe.each<N8nMajor>(['v1', 'v2'])('n8n %s', (version) => {
	let n8n: N8nInstance;

	beforeAll(async () => {
		const userFolder = n8nUserFolder(`e2e/smoke-${version}`);
		fs.rmSync(userFolder, { recursive: true, force: true });
		n8n = await startN8n({ version, port: PORTS[version], userFolder, packageTarball });
		console.info(`n8n ${version} answered after ${(n8n.startupMs / 1000).toFixed(1)} s (log: ${n8n.logFile})`);
	});

	afterAll(async () => {
		await n8n?.stop();
	});

	it('runs an active webhook workflow once per request, with the posted values', async () => {
		const workflowId = await n8n.importWorkflow(SMOKE_WORKFLOW);
		await n8n.activate(workflowId);

		const response = await fetch(`${n8n.baseUrl}/webhook/${WEBHOOK_PATH}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ email: 'ada@example.com', score: 42 }),
		});
		expect(response.status).toBe(200);

		const executions = await n8n.waitForExecutions(workflowId, 'Keep posted fields', 1);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ status: 'success', mode: 'webhook' });
		expect(executions[0].items).toEqual([{ email: 'ada@example.com', score: 42 }]);

		await n8n.deactivate(workflowId);
		const afterDeactivation = await fetch(`${n8n.baseUrl}/webhook/${WEBHOOK_PATH}`, { method: 'POST' });
		expect(afterDeactivation.status).toBe(404);
	});

	it('loads the packed package as a community node', async () => {
		if (!packageTarball) {
			console.warn(`Not checked yet: ${path.relative(REPO_ROOT, NODE_SOURCE)} does not exist, so nothing is packed.`);
			return;
		}
		expect(await n8n.nodeTypes()).toContain(TRIGGER_TYPE);
	});
});
