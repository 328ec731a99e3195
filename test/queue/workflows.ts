/**
 * What the queue suite, the flood and bench P5 put into a queue-mode n8n: the two credentials, a workflow of
 * this node with a chosen dedup store, and where ActiveCampaign delivers to it.
 */
import type { N8nInstance, WorkflowJson } from '../e2e/harness';
import { triggerWorkflow } from '../e2e/scenarioSupport';
import type { ActiveCampaignSimulator } from '../simulator/ActiveCampaignSimulator';

export interface QueueCredentials {
	api: string;
	redis: string;
}

/** This package's API credential for the simulator, and n8n's Redis credential for the dedup Redis. */
export async function importQueueCredentials(main: N8nInstance, simulator: ActiveCampaignSimulator, apiToken: string, dedupRedisPort: number): Promise<QueueCredentials> {
	const api = await main.importCredentials({
		name: 'ActiveCampaign simulator',
		type: 'activeCampaignTriggerApi',
		data: { apiUrl: simulator.apiUrl, apiKey: apiToken },
	});
	const redis = await main.importCredentials({
		name: 'Dedup Redis',
		type: 'redis',
		data: { host: '127.0.0.1', port: dedupRedisPort, database: 0, password: '', ssl: false },
	});
	return { api, redis };
}

/** Our trigger on `subscribe` with the given dedup store; `downstream` replaces the NoOp node after it. */
export function storeWorkflow(
	name: string,
	webhookId: string,
	credentials: QueueCredentials,
	store: 'redis' | 'staticData',
	downstream?: { node: Record<string, unknown>; connections: WorkflowJson['connections']; settings: WorkflowJson['settings'] },
): WorkflowJson {
	const workflow = triggerWorkflow(name, webhookId, credentials.api, { events: ['subscribe'] });
	const [trigger, ...rest] = workflow.nodes as Array<Record<string, unknown>>;
	const node = {
		...trigger,
		parameters: { ...(trigger.parameters as Record<string, unknown>), dedupStore: store },
		credentials: { ...(trigger.credentials as Record<string, unknown>), redis: { id: credentials.redis, name: 'Dedup Redis' } },
	};
	if (!downstream) return { ...workflow, nodes: [node, ...rest] };
	return { ...workflow, nodes: [node, downstream.node], connections: downstream.connections, settings: downstream.settings };
}

/** The path and query (secret included) of the webhook the node registered, as a load balancer receives it. */
export function registeredTarget(simulator: ActiveCampaignSimulator, webhookId: string): string {
	const registered = simulator.webhooks().find((webhook) => webhook.url.includes(webhookId));
	if (!registered) throw new Error(`No webhook was registered for ${webhookId}`);
	const url = new URL(registered.url);
	return `${url.pathname}${url.search}`;
}
