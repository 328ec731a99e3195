/**
 * The node's parameters and static data, read once per call into plain values.
 */
import type { ICredentialDataDecryptedObject, IDataObject, IHookFunctions, INode, IWebhookFunctions } from 'n8n-workflow';

import { SOURCE_IDS } from './catalog';
import { DEFAULT_WINDOW_MS, MAX_WINDOW_MINUTES } from './delivery/dedup';
import type { FieldKeys } from './delivery/fieldNames';
import type { RedisSettings } from './delivery/redisStore';

/**
 * - `subscriptions`: webhooks registered through the API on activation (standard events).
 * - `automation`: the URL is pasted into an automation's "Webhook" action; nothing to register.
 * - `custom`: the URL is pasted into a custom-object webhook (Settings → Developer → Manage webhooks).
 */
export type WebhookKind = 'subscriptions' | 'automation' | 'custom';

/** Where claims of delivered events live: the node's static data (one n8n process) or Redis (several). */
export type DedupStore = 'staticData' | 'redis';

export interface ReceiveSettings {
	kind: WebhookKind;
	store: DedupStore;
	/** Events to emit; empty means any. */
	events: string[];
	sources: string[];
	listIds: string[];
	deduplicate: boolean;
	windowMs: number;
	includeRaw: boolean;
	/** How contact custom fields are keyed: by id as delivered (default), or by name (fieldNames.ts). */
	fieldKeys: FieldKeys;
}

/** What the node keeps in its static data. Test-mode webhooks are kept apart from production ones. */
export interface NodeState {
	/**
	 * The node and workflow this state belongs to (`<webhookId>/webhook`, the workflow's id); state copied
	 * from another node or workflow is discarded.
	 */
	webhookPath?: string;
	workflowId?: string;
	/** The SHA-256 of the secret in the node's delivery URL (`secretHash`): the secret itself is not kept. */
	secretHash?: string;
	/** 0.1.x kept the secret itself; the next activation replaces it with `secretHash`. */
	secret?: string;
	webhookIds?: { production?: string[]; test?: string[] };
	dedup?: IDataObject;
}

export function nodeState(staticData: IDataObject): NodeState {
	return staticData as NodeState;
}

export const MIN_PASTED_SECRET_LENGTH = 16;

/**
 * Standard events carry `date_time` to the second, so two identical bodies within an hour are one event
 * delivered twice. The pasted kinds' bodies carry no timestamp or event id: the same contact passing an
 * automation's Webhook action twice with unchanged data is two real events with identical bodies, so only
 * copies within a minute (concurrent and near-immediate redeliveries) are taken as duplicates there.
 */
export const DEFAULT_WINDOW_MINUTES: Record<WebhookKind, number> = { subscriptions: DEFAULT_WINDOW_MS / 60_000, automation: 1, custom: 1 };

interface ReceiveOptions {
	deduplicate?: boolean;
	dedupWindowMinutes?: number;
	includeRaw?: boolean;
	customFieldKeys?: FieldKeys;
}

/** n8n's built-in Query Auth credential: the pasted kinds' secret is the query parameter it names. */
export const QUERY_AUTH_CREDENTIAL = 'httpQueryAuth';

export interface QueryAuth {
	name: string;
	value: string;
}

/** n8n's built-in Redis credential, for the Redis dedup store. */
export const REDIS_CREDENTIAL = 'redis';

/**
 * How long deliveries in one process reuse a credential that an earlier delivery read. n8n reads a credential
 * from its database and decrypts it on every call; per delivery that is a query on the busiest path there is.
 * A change to the credential reaches deliveries within this time; activation always reads it afresh.
 */
export const CREDENTIAL_REUSE_MS = 60_000;

/** A credential kept for reuse is read again on a refusal it caused once it is this old (`forgetReusedCredential`). */
const REREAD_AFTER_MS = 1_000;

/** The read itself is kept, so that concurrent deliveries share one; a failed read is not kept. */
const readCredentials = new Map<string, { read: Promise<ICredentialDataDecryptedObject>; until: number }>();

/** A credential's identity in this process's caches (its type and n8n's id); undefined while it has no id. */
export function credentialKey(node: Pick<INode, 'credentials'>, type: string): string | undefined {
	const id = node.credentials?.[type]?.id;
	return id ? `${type}:${id}` : undefined;
}

/**
 * Reads a credential for a delivery: once per CREDENTIAL_REUSE_MS per process and credential. `node`: the
 * node as the caller already read it (`getNode()` copies the whole node on every call).
 */
export async function credentialForDelivery(
	context: IWebhookFunctions | IHookFunctions,
	type: string,
	reuse: boolean,
	node: Pick<INode, 'credentials'> = context.getNode(),
): Promise<ICredentialDataDecryptedObject> {
	const key = credentialKey(node, type);
	if (!reuse || key === undefined) return await context.getCredentials(type);
	const now = Date.now();
	const known = readCredentials.get(key);
	if (known !== undefined && known.until > now) return await known.read;
	const entry = { read: context.getCredentials(type), until: now + CREDENTIAL_REUSE_MS };
	readCredentials.set(key, entry);
	entry.read.catch(() => {
		if (readCredentials.get(key) === entry) readCredentials.delete(key);
	});
	return await entry.read;
}

/**
 * Drops a credential this process keeps for reuse, so the next delivery reads it from n8n: for a refusal that an
 * edited credential may have caused (a new Query Auth secret pasted into ActiveCampaign). At most once per
 * REREAD_AFTER_MS per credential, so forged requests cannot make every delivery a database read. Whether it did.
 */
export function forgetReusedCredential(node: Pick<INode, 'credentials'>, type: string): boolean {
	const key = credentialKey(node, type);
	const known = key === undefined ? undefined : readCredentials.get(key);
	if (key === undefined || known === undefined || Date.now() - (known.until - CREDENTIAL_REUSE_MS) < REREAD_AFTER_MS) return false;
	readCredentials.delete(key);
	return true;
}

/** `reuse`: a delivery may take the credential as an earlier delivery read it (CREDENTIAL_REUSE_MS). */
export async function readRedisSettings(context: IWebhookFunctions | IHookFunctions, reuse = false, node?: INode): Promise<RedisSettings> {
	const credentials = await credentialForDelivery(context, REDIS_CREDENTIAL, reuse, node);
	return {
		host: String(credentials.host ?? 'localhost'),
		port: Number(credentials.port ?? 6379),
		user: String(credentials.user ?? ''),
		password: String(credentials.password ?? ''),
		database: Number(credentials.database ?? 0),
		ssl: credentials.ssl === true,
		disableTlsVerification: credentials.disableTlsVerification === true,
	};
}

/** The pasted kinds' secret: which query parameter carries it, and its value. */
export async function readQueryAuth(context: IWebhookFunctions | IHookFunctions, reuse = false, node?: INode): Promise<QueryAuth> {
	const credentials = await credentialForDelivery(context, QUERY_AUTH_CREDENTIAL, reuse, node);
	return { name: String(credentials.name ?? '').trim(), value: String(credentials.value ?? '') };
}

/** Whether a saved parameter value is, or holds, an n8n expression (`={{ … }}`). */
function holdsExpression(value: unknown): boolean {
	if (typeof value === 'string') return value.startsWith('=');
	if (typeof value !== 'object' || value === null) return false;
	return Object.values(value).some(holdsExpression);
}

/** What reading a parameter needs of n8n's hook, webhook and load-options contexts alike. */
interface ParameterContext {
	getNodeParameter(name: string, fallback?: unknown): unknown;
}

/**
 * A parameter as `getNodeParameter` gives it. A value without an expression is taken from the node as saved
 * (n8n has filled in the defaults there), which is what getNodeParameter returns for it: that copies the value,
 * looks the parameter up in the node's description and validates it on every read, six reads per delivery on
 * the busiest path there is. Expressions are still resolved by n8n. (No parameter of this node is of a kind
 * whose saved form differs from its value, such as a resource locator: test/receive.test.ts checks.)
 */
export function nodeParameter<T>(context: ParameterContext, node: INode, name: string, fallback: T): T {
	const saved = node.parameters[name];
	if (saved === undefined) return fallback;
	if (holdsExpression(saved)) return context.getNodeParameter(name, fallback) as T;
	return saved as T;
}

/**
 * A window in minutes as a number, or as text an expression gave ("15"); undefined for anything else (blank
 * text, a boolean, "soon"), which then keeps the default window.
 */
function minutesOf(value: unknown): number | undefined {
	if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
	if (typeof value !== 'string' || value.trim() === '') return undefined;
	const minutes = Number(value);
	return Number.isFinite(minutes) ? minutes : undefined;
}

/**
 * A multi-option parameter as a list of strings. Set by an expression it may be one value (a list id as a
 * number) or comma-separated text ("1, 2") rather than a list.
 */
function stringList(value: unknown): string[] {
	if (Array.isArray(value)) return value.map(String);
	if (value === undefined || value === null) return [];
	return String(value)
		.split(',')
		.map((one) => one.trim())
		.filter(Boolean);
}

/** `node`: the node as the caller already read it (`getNode()` copies the whole node on every call). */
export function readSettings(context: IWebhookFunctions | IHookFunctions, node: INode = context.getNode()): ReceiveSettings {
	const kind = nodeParameter<WebhookKind>(context, node, 'webhookKind', 'subscriptions');
	const options = nodeParameter<ReceiveOptions>(context, node, 'options', {});
	const windowMinutes = minutesOf(options.dedupWindowMinutes) ?? DEFAULT_WINDOW_MINUTES[kind];
	const common = {
		kind,
		store: nodeParameter<DedupStore>(context, node, 'dedupStore', 'staticData'),
		deduplicate: options.deduplicate ?? true,
		// Whole milliseconds: a window of 1.07 minutes is 64200.00000000001 ms in floating point, which Redis's
		// `SET PX` refuses (every settle would fail, and a pending claim expire into a second run).
		windowMs: Math.round(Math.min(MAX_WINDOW_MINUTES, Math.max(1, windowMinutes)) * 60_000),
		includeRaw: options.includeRaw ?? false,
		fieldKeys: options.customFieldKeys ?? 'id',
	};
	if (kind === 'subscriptions') {
		return {
			...common,
			events: stringList(nodeParameter<unknown>(context, node, 'events', [])),
			sources: stringList(nodeParameter<unknown>(context, node, 'sources', [])),
			// List 0 is "all lists" (as registered): no filter, so no list-scoped event is dropped for it.
			listIds: stringList(nodeParameter<unknown>(context, node, 'listIds', [])).filter((id) => Number(id) !== 0),
		};
	}
	const eventNames = kind === 'custom' ? String(nodeParameter(context, node, 'customEvents', '')) : '';
	return {
		...common,
		events: eventNames
			.split(',')
			.map((name) => name.trim())
			.filter(Boolean),
		sources: [...SOURCE_IDS],
		listIds: [],
	};
}
