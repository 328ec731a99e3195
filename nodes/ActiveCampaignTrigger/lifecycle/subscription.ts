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
	type IWebhookFunctions,
	type JsonObject,
} from 'n8n-workflow';

import { ActiveCampaignApiError, ActiveCampaignClient, normaliseApiUrl, type ApiResponse } from './apiClient';
import { isListScoped } from '../catalog';
import { NO_API_CREDENTIAL, OWN_CREDENTIAL } from '../description';
import { SECRET_PARAMETER, UndeliverableUrlError, assertDeliverable, deliveryUrl, parseUrl } from './deliveryUrl';
import { buildFieldNames, type FieldNames } from '../delivery/fieldNames';
import { RemovalError, desiredWebhooks, isOwned, pathOf, removeSubscriptions, type Ownership, type SubscriptionMemory } from './reconcile';
import { holdBack, turnAt } from './pacing';
import { nextSecret, redact, secretHash, secretsMatch } from './secret';
import { credentialForDelivery, credentialKey, forgetReusedCredential, nodeParameter, nodeState, type NodeState, type ReceiveSettings } from '../settings';

export type Slot = 'production' | 'test';

/**
 * Whether n8n is registering or removing the test webhook ("Listen for test event"). It registers test
 * webhooks in manual mode but removes them in 'internal' mode, exactly as it removes production ones; only
 * the webhook data it builds the context from says which (`isTest`, kept by n8n-core's HookContext in 1.x
 * and 2.x, and the reason getNodeWebhookUrl answers the /webhook-test/ URL).
 */
export function slotOf(context: IHookFunctions): Slot {
	if (context.getMode() === 'manual') return 'test';
	const { webhookData } = context as IHookFunctions & { webhookData?: { isTest?: unknown } };
	return webhookData?.isTest === true ? 'test' : 'production';
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

type ApiContext = IHookFunctions | ILoadOptionsFunctions | IWebhookFunctions;

/** The API credential type the node is set to use; undefined when a pasted kind uses none. */
function apiCredentialType(context: ApiContext, node: INode = context.getNode()): string | undefined {
	const type = nodeParameter<string>(context, node, 'authentication', OWN_CREDENTIAL);
	return type === NO_API_CREDENTIAL ? undefined : type;
}

export async function clientFor(context: ApiContext): Promise<ActiveCampaignClient> {
	const credentialType = apiCredentialType(context) ?? OWN_CREDENTIAL;
	const credentials = await context.getCredentials(credentialType);
	const apiUrl = normaliseApiUrl(String(credentials.apiUrl ?? ''));
	return new ActiveCampaignClient({
		apiUrl,
		sleep,
		log: (message) => context.logger.info(message),
		pace: async () => await turnAt(apiUrl),
		rateLimited: (waitMs) => holdBack(apiUrl, waitMs),
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

/**
 * Where the custom field names for this node come from: its API credential (the cache key is the credential's
 * id), or undefined when the node uses none.
 */
export function fieldNamesSource(context: ApiContext, node: INode = context.getNode()): { key: string; load: () => Promise<FieldNames> } | undefined {
	const type = apiCredentialType(context, node);
	if (type === undefined) return undefined;
	return {
		key: credentialKey(node, type) ?? `${type}:unsaved`,
		load: async () => {
			const client = await clientFor(context);
			// One after the other: when the first is refused, the second is not asked at all.
			const contact = await client.listContactFields();
			return buildFieldNames(contact, await client.listDealFields());
		},
	};
}

/**
 * The node's static data. n8n copies static data along with a workflow (Duplicate in some versions, imports
 * with static data, a database restored into staging); a copy that records another node's webhook path or
 * another workflow is that node's secret and webhooks, so it is discarded: this node starts with a new secret
 * and no ids.
 */
export function claimNodeState(context: IHookFunctions): NodeState {
	const staticData = context.getWorkflowStaticData('node');
	const webhookPath = webhookPathOf(context);
	const workflowId = context.getWorkflow().id;
	if (isAnotherNodesState(staticData, webhookPath, workflowId)) {
		context.logger.info('ActiveCampaign Trigger: static data copied from another node was discarded');
		for (const key of Object.keys(staticData)) delete staticData[key];
	}
	Object.assign(staticData, { webhookPath, workflowId });
	return nodeState(staticData);
}

function isAnotherNodesState(staticData: { webhookPath?: unknown; workflowId?: unknown }, webhookPath: string, workflowId: string | undefined): boolean {
	const copied = (key: 'webhookPath' | 'workflowId', value: string | undefined) => staticData[key] !== undefined && staticData[key] !== value;
	return (copied('webhookPath', webhookPath) && !isEarlierFormOf(staticData, webhookPath)) || copied('workflowId', workflowId);
}

/**
 * 0.1.0 recorded the last two segments of the path, also for a node without a webhook id, whose path has
 * three (`<workflowId>/<name>/webhook`); its state, which names no workflow, is this node's own.
 */
function isEarlierFormOf(staticData: { webhookPath?: unknown; workflowId?: unknown }, webhookPath: string): boolean {
	return staticData.workflowId === undefined && webhookPath.endsWith(`/${String(staticData.webhookPath)}`);
}

/**
 * n8n's own name for the node's webhook path, the same in production and test: the end of the URL n8n gives
 * the node, whatever endpoint and base path come before it. That is `<webhookId>/webhook`, or, for a node
 * without a webhook id (one created outside the editor), `<workflowId>/<node name>/webhook`.
 */
function webhookPathOf(context: IHookFunctions | IWebhookFunctions, node: INode = context.getNode()): string {
	const segments = node.webhookId === undefined ? 3 : 2;
	return pathOf(context.getNodeWebhookUrl('default') ?? '').split('/').slice(-segments).join('/');
}

/**
 * This slot's webhooks are the ones at this node's URL path that name this workflow; production also clears
 * the test slot.
 */
export function ownershipOf(context: IHookFunctions): Ownership {
	const path = pathOf(context.getNodeWebhookUrl('default') ?? '');
	const workflowId = context.getWorkflow().id;
	return slotOf(context) === 'production' ? { path, workflowId, removeOtherSlots: webhookPathOf(context) } : { path, workflowId };
}

/**
 * A node without a webhook id has its name in its URL, percent-encoded: "ActiveCampaign Trigger" becomes
 * `activecampaign%20trigger`, which ActiveCampaign does not allow. The fix is the node's, not WEBHOOK_URL's.
 */
function assertNamedDeliverably(node: INode, endpointUrl: string): void {
	if (node.webhookId !== undefined || !encodeURIComponent(node.name.toLowerCase()).includes('%')) return;
	throw new UndeliverableUrlError(
		endpointUrl,
		'the node has no webhook id (it was created outside the n8n editor), so n8n puts its name in the URL, encoded with "%"',
		'Rename the node to letters, digits, "-" and "_" only, or replace it with an ActiveCampaign Trigger added in the n8n editor, then activate again.',
	);
}

export interface SubscriptionSetup {
	client: ActiveCampaignClient;
	state: NodeState;
	memory: SubscriptionMemory;
	ownership: Ownership;
	/** The webhooks the node wants, their URLs carrying `secret` (from `ownSecret`). */
	desired: (secret: string) => ReturnType<typeof desiredWebhooks>;
}

/** Everything a lifecycle step needs; refuses undeliverable URLs before any API call. */
export async function subscriptionSetup(context: IHookFunctions, settings: ReceiveSettings): Promise<SubscriptionSetup> {
	const endpointUrl = context.getNodeWebhookUrl('default') ?? '';
	assertNamedDeliverably(context.getNode(), endpointUrl);
	assertDeliverable(endpointUrl);
	const state = claimNodeState(context);

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
	const name = `n8n: ${workflow.name ?? workflow.id} / ${context.getNode().name}`.slice(0, 250);
	const listIds = events.some(isListScoped) ? settings.listIds : [];
	const desired = (secret: string) => desiredWebhooks({ name, url: deliveryUrl(endpointUrl, secret, workflow.id), events, sources, listIds });
	return {
		client: await clientFor(context),
		state,
		memory: memoryOf(state, slotOf(context)),
		ownership: ownershipOf(context),
		desired,
	};
}

/**
 * The secret each node of this process made or read back, by the node's identity (workflow and webhook path,
 * as claimNodeState records them): `create` follows `checkExists` without another listing. Never by hash alone:
 * a workflow given another's static data must not be handed that node's secret.
 */
const knownSecrets = new Map<string, { sha256: string; secret: string }>();

const identityOf = (state: NodeState) => `${state.workflowId ?? ''}\u0000${state.webhookPath ?? ''}`;

/**
 * The secret of the node's delivery URLs (static data as claimNodeState returns it). Static data keeps only its
 * hash, so the secret is read back from a webhook of the node's own that carries it (one listing, unless
 * this process already knows it); when none does (first activation, webhooks deleted in ActiveCampaign), a new
 * secret is made and the node's webhooks are moved to it. A secret 0.1.x kept in static data is taken as it is
 * and replaced there by its hash.
 */
export async function ownSecret(context: IHookFunctions, { client, state, ownership }: SubscriptionSetup): Promise<string> {
	const secret = (await recalledSecret(client, state, ownership)) ?? (await nextSecretOf(context, context.getNode(), webhookPathOf(context), storedSecretHash(state)));
	state.secretHash = secretHash(secret);
	delete state.secret;
	knownSecrets.set(identityOf(state), { sha256: state.secretHash, secret });
	return secret;
}

/**
 * The secret static data names, if it can be had: a 0.1.x one, the one this process knows for the node, or the
 * one a webhook of the node's own carries (a listing). Found in a listing, this process remembers it.
 */
async function recalledSecret(client: ActiveCampaignClient, state: NodeState, ownership: Ownership): Promise<string | undefined> {
	const legacy = legacySecretOf(state);
	if (legacy !== undefined) return legacy;
	const sha256 = storedSecretHash(state);
	if (sha256 === undefined) return undefined;
	const known = knownSecrets.get(identityOf(state));
	if (known?.sha256 === sha256) return known.secret;
	// Only the node's own webhooks: a hash in another workflow's static data does not open this one's.
	const carried = (await client.listWebhooks()).filter((webhook) => isOwned(webhook, ownership)).map(({ url }) => secretParameterOf(url));
	const secret = carried.find((candidate) => secretsMatch({ sha256 }, candidate));
	if (secret !== undefined) knownSecrets.set(identityOf(state), { sha256, secret });
	return secret;
}

/**
 * nextSecret for the node, keyed with its API credential's key. `reuse`: a delivery takes the credential as an
 * earlier delivery of this process read it (settings.ts, `credentialForDelivery`); activation reads it afresh.
 */
async function nextSecretOf(
	context: IHookFunctions | IWebhookFunctions,
	node: INode,
	webhookPath: string,
	previousHash: string | undefined,
	reuse = false,
): Promise<string> {
	const credentials = await credentialForDelivery(context, apiCredentialType(context, node) ?? OWN_CREDENTIAL, reuse, node);
	const apiKey = typeof credentials.apiKey === 'string' ? credentials.apiKey : '';
	if (apiKey === '') throw new NodeOperationError(node, 'The ActiveCampaign credential has no API key', { description: 'Open the credential and paste the key from ActiveCampaign\'s Settings → Developer.' });
	return nextSecret(apiKey, { workflowId: context.getWorkflow().id ?? '', nodeId: node.id, webhookPath }, previousHash);
}

/**
 * The secret the node's next activation makes when none of its webhooks carries the current one, derived from
 * the static data this request read; undefined when there is none to make (a 0.1.x secret of the node's own
 * is kept as it is). ActiveCampaign may deliver to a new URL before n8n has saved the new secret's hash, and
 * this is how such a delivery is still recognised. The API key is reused as an earlier delivery read it, so
 * forged calls cost no credential read each; one that does not derive `given` reads it again (at most once a
 * second per credential: it may have been edited).
 */
export async function pendingNextSecret(context: IWebhookFunctions, node: INode, given: string): Promise<string | undefined> {
	const staticData = context.getWorkflowStaticData('node');
	const state = nodeState(staticData);
	const webhookPath = webhookPathOf(context, node);
	// Activation discards static data copied from another node (a 0.1.x secret in it too), and derives from no hash then.
	const own = !isAnotherNodesState(staticData, webhookPath, context.getWorkflow().id);
	if (own && legacySecretOf(state) !== undefined) return undefined;
	const derive = async () => await nextSecretOf(context, node, webhookPath, own ? storedSecretHash(state) : undefined, true);
	const next = await derive();
	if (secretsMatch(next, given) || !forgetReusedCredential(node, apiCredentialType(context, node) ?? OWN_CREDENTIAL)) return next;
	return await derive();
}

/** A secret 0.1.x kept in static data; one too short to be its (a hand-edited state) counts as none. */
export function legacySecretOf(state: NodeState): string | undefined {
	return typeof state.secret === 'string' && state.secret.length >= MIN_OWN_SECRET_LENGTH ? state.secret : undefined;
}

/** The hash of the node's secret that static data keeps; undefined when it holds none (or not a usable one). */
export function storedSecretHash(state: NodeState): string | undefined {
	return typeof state.secretHash === 'string' && state.secretHash !== '' ? state.secretHash : undefined;
}

/** nextSecret() makes 32 characters; 0.1.x made the same. */
const MIN_OWN_SECRET_LENGTH = 16;

/** Forgets the secrets this process knows (tests: an activation in "another process"). */
export function forgetKnownSecrets(): void {
	knownSecrets.clear();
}

const secretParameterOf = (url: string) => parseUrl(url)?.searchParams.get(SECRET_PARAMETER) ?? undefined;

/**
 * Removes the webhooks this node registered, for deactivation and for pasted kinds (which register none, but
 * may still own webhooks from before the Webhook Kind was changed). A pasted kind removes only webhooks it
 * remembers registering: a webhook someone created by hand for the pasted URL is theirs to keep.
 */
export async function removeRegisteredWebhooks(context: IHookFunctions, kind: ReceiveSettings['kind'], step: 'activation' | 'removal'): Promise<void> {
	const namedItsWorkflow = context.getWorkflowStaticData('node').workflowId !== undefined;
	const state = claimNodeState(context);
	const memory = memoryOf(state, slotOf(context));
	// n8n removes the webhooks of a copy whose activation it refused (its path is taken): ids in a state that
	// names no workflow (an earlier version's, which a copy may have kept) are then no proof that a webhook
	// naming no workflow is this node's. An activation n8n let through is the path's owner's.
	if (step === 'removal' && !namedItsWorkflow) memory.ids = [];
	if (kind !== 'subscriptions' && memory.ids.length === 0) return;
	if (apiCredentialType(context) === undefined) {
		throw new NodeOperationError(context.getNode(), `This node still has ${memory.ids.length} webhook(s) in ActiveCampaign from when it registered events`, {
			description:
				'Choose your ActiveCampaign credential under "Credential Type" so the node can remove them, then activate again; or delete them in ActiveCampaign under Settings → Developer → Webhooks.',
		});
	}
	const ownership = ownershipOf(context);
	const client = await clientFor(context);
	// n8n removes a workflow's webhooks before it activates a changed one: read the secret while a webhook still
	// carries it, so the activation that follows keeps it. Not finding it only costs a new secret then.
	if (kind === 'subscriptions' && slotOf(context) === 'production') await recalledSecret(client, state, ownership).catch(() => undefined);
	try {
		await removeSubscriptions(client, kind === 'subscriptions' ? ownership : { ...ownership, onlyIds: memory.ids }, memory);
	} catch (error) {
		throw toNodeError(context.getNode(), error, [state.secret, knownSecrets.get(identityOf(state))?.secret]);
	}
}

/** Maps the lifecycle's errors to n8n errors with a hint, secrets removed. */
export function toNodeError(node: INode, error: unknown, secrets: ReadonlyArray<string | undefined>): Error {
	if (error instanceof ActiveCampaignApiError) {
		return apiError(node, redact(error.message, secrets), {
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
	// n8n's own errors (a missing credential, say) already speak to the user: their words are kept, secrets
	// removed, in a new error, for the original may carry more (a failed request's body, its stack).
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		const message = redact(error.message, secrets);
		const description = typeof error.description === 'string' ? redact(error.description, secrets) : undefined;
		const { level } = error;
		if (error instanceof NodeOperationError) return new NodeOperationError(node, message, { description, level });
		return apiError(node, message, { description, level, httpCode: error.httpCode ?? undefined });
	}
	return new NodeOperationError(node, redact(error instanceof Error ? error.message : String(error), secrets));
}

/** n8n's API error with these words alone: no response body or other error behind it. */
function apiError(node: INode, message: string, options: { description?: string; httpCode?: string; level?: NodeApiError['level'] }): NodeApiError {
	return new NodeApiError(node, { message } as JsonObject, { message, ...options });
}
