/**
 * The edge between n8n's hook and load-options contexts and the pure client and reconciler: reads the node's
 * parameters and credential, builds the client on n8n's own authenticated request helper, and keeps the
 * node's subscription state in its static data.
 */
import {
	NodeApiError,
	NodeOperationError,
	sleep,
	type IHookFunctions,
	type ILoadOptionsFunctions,
	type INode,
	type JsonObject,
} from 'n8n-workflow';

import { ActiveCampaignApiError, ActiveCampaignClient, normaliseApiUrl, type ApiResponse } from './apiClient';
import { isListScoped } from './catalog';
import { OWN_CREDENTIAL } from './description';
import { UndeliverableUrlError, assertDeliverable, withSecret } from './deliveryUrl';
import { RemovalError, desiredWebhooks, type SubscriptionMemory } from './reconcile';
import { newSecret, redact } from './secret';
import { nodeState, type NodeState, type ReceiveSettings } from './settings';

export type Slot = 'production' | 'test';

/** n8n registers test webhooks ("Listen for test event") in manual mode. */
export function slotOf(context: IHookFunctions): Slot {
	return context.getMode() === 'manual' ? 'test' : 'production';
}

/** A view of one slot's remembered webhook ids that writes through to static data. */
export function memoryOf(state: NodeState, slot: Slot): SubscriptionMemory {
	return {
		get ids() {
			return state.webhookIds?.[slot] ?? [];
		},
		set ids(ids: string[]) {
			state.webhookIds = { ...state.webhookIds, [slot]: ids };
		},
	};
}

type ApiContext = IHookFunctions | ILoadOptionsFunctions;

export async function clientFor(context: ApiContext): Promise<ActiveCampaignClient> {
	const credentialType = context.getNodeParameter('authentication', OWN_CREDENTIAL) as string;
	const credentials = await context.getCredentials(credentialType);
	const apiUrl = normaliseApiUrl(String(credentials.apiUrl ?? ''));
	return new ActiveCampaignClient({
		apiUrl,
		sleep,
		log: (message) => context.logger.info(message),
		send: async (request) => {
			const response = (await context.helpers.httpRequestWithAuthentication.call(context, credentialType, {
				method: request.method,
				url: `${apiUrl}/api/3${request.path}`,
				qs: request.query,
				body: request.body,
				json: true,
				timeout: request.timeoutMs,
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
			})) as { statusCode: number; headers: Record<string, unknown>; body: unknown };
			return { status: response.statusCode, headers: response.headers, body: response.body } satisfies ApiResponse;
		},
	});
}

export interface SubscriptionSetup {
	client: ActiveCampaignClient;
	state: NodeState;
	memory: SubscriptionMemory;
	desired: ReturnType<typeof desiredWebhooks>;
}

/** Everything a lifecycle step needs; refuses undeliverable URLs before any API call. */
export async function subscriptionSetup(context: IHookFunctions, settings: ReceiveSettings): Promise<SubscriptionSetup> {
	const endpointUrl = context.getNodeWebhookUrl('default') ?? '';
	assertDeliverable(endpointUrl);
	const state = nodeState(context.getWorkflowStaticData('node'));
	state.secret ??= newSecret();

	const { events, sources } = settings;
	if (events.length === 0) {
		throw new NodeOperationError(context.getNode(), 'No events are chosen', {
			description: 'Pick at least one event in the "Events" parameter of the ActiveCampaign Trigger.',
		});
	}
	if (sources.length === 0) {
		throw new NodeOperationError(context.getNode(), 'No initiators are chosen', {
			description: 'Pick at least one entry in "Initiated By", e.g. "By a Contact".',
		});
	}
	const workflow = context.getWorkflow();
	const desired = desiredWebhooks({
		name: `n8n: ${workflow.name ?? workflow.id} / ${context.getNode().name}`.slice(0, 250),
		url: withSecret(endpointUrl, state.secret),
		events,
		sources,
		listIds: events.some(isListScoped) ? settings.listIds : [],
	});
	return { client: await clientFor(context), state, memory: memoryOf(state, slotOf(context)), desired };
}

/** Maps the lifecycle's errors to n8n errors with a hint, secrets removed. */
export function toNodeError(node: INode, error: unknown, secrets: ReadonlyArray<string | undefined>): Error {
	if (error instanceof ActiveCampaignApiError) {
		const message = redact(error.message, secrets);
		return new NodeApiError(node, { message } as JsonObject, {
			message,
			description: error.hint,
			httpCode: error.status === undefined ? undefined : String(error.status),
		});
	}
	if (error instanceof RemovalError) {
		return new NodeOperationError(node, redact(error.message, secrets), { description: error.hint });
	}
	if (error instanceof UndeliverableUrlError) {
		return new NodeOperationError(node, error.message, { description: error.hint });
	}
	// n8n's own errors (a missing credential, say) already speak to the user; anything else is unexpected.
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeOperationError(node, redact(error instanceof Error ? error.message : String(error), secrets));
}
