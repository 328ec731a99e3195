/**
 * What happens to one delivery: authenticate, parse, validate and normalise, filter, deduplicate.
 * `decideDelivery` is pure but for the in-process dedup claims; `receiveDelivery` is the n8n edge.
 */
import type { IDataObject, INode, INodeExecutionData, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { settle } from '../lifecycle/apiClient';
import { isListScoped, SOURCE_IDS } from '../catalog';
import { asSentFingerprint, fingerprint, formFingerprint, recordDelivery } from './dedup';
import { SECRET_PARAMETER } from '../lifecycle/deliveryUrl';
import { NAMES_WAIT_MS, fieldNamesFor, nameFields } from './fieldNames';
import { toItem, type DeliveryItem } from './normalise';
import { Outage, ThrottledWarnings } from '../outage';
import { parseDeliveryBody } from './parse';
import { secretsMatch, type ExpectedSecret } from '../lifecycle/secret';
import { claimDelivery, dedupKey, type Settle } from './redisStore';
import { fieldNamesSource, legacySecretOf, pendingNextSecret, storedSecretHash } from '../lifecycle/subscription';
import { slottedDelay } from '../timers';
import {
	QUERY_AUTH_CREDENTIAL,
	forgetReusedCredential,
	nodeState,
	readQueryAuth,
	readRedisSettings,
	readSettings,
	type NodeState,
	type ReceiveSettings,
} from '../settings';

export type Outcome =
	| { action: 'reject'; status: number; reason: string }
	| { action: 'drop'; event: string; reason: string }
	| { action: 'duplicate'; event: string }
	/** Redis store: a copy of this event is still in flight after a wait and may fail: this one must come again. */
	| { action: 'retry'; event: string }
	| { action: 'emit'; item: DeliveryItem };

export interface Delivery {
	rawBody: Buffer | string;
	contentType: string | undefined;
	/** The secret the request carried in its query. */
	givenSecret: unknown;
}

export interface DedupContext {
	/** Separates the in-process claims of different workflows and nodes. */
	scope: string;
	state: unknown;
	now: number;
}

export interface Decision {
	outcome: Outcome;
	/** The dedup table to persist, when it changed. */
	dedupState?: IDataObject;
	/** With the Redis store: the fingerprint of an event to emit, which the caller claims there. */
	fingerprint?: string;
}

/** Why an item is not wanted by these settings, or undefined when it is. */
export function filterReason(item: DeliveryItem, settings: ReceiveSettings): string | undefined {
	if (settings.events.length > 0 && !settings.events.includes(item.event)) {
		return `event ${JSON.stringify(item.event)} is not among the chosen events`;
	}
	const allSources = SOURCE_IDS.every((source) => settings.sources.includes(source));
	if (!allSources && item.initiatedFrom !== null && !settings.sources.includes(item.initiatedFrom)) {
		return `initiated from ${JSON.stringify(item.initiatedFrom)}, which is not among the chosen initiators`;
	}
	// ActiveCampaign already sent this only for the chosen lists (one webhook per list). Many list-scoped
	// deliveries name no list of their own (`update` carries list=0, a public unsubscribe `list[][id]`), so
	// only a body that names a list outside the chosen ones is dropped.
	if (settings.listIds.length > 0 && isListScoped(item.event) && item.listId !== null && !settings.listIds.includes(item.listId)) {
		return `list ${JSON.stringify(item.listId)} is not among the chosen lists`;
	}
	return undefined;
}

export function decideDelivery(
	delivery: Delivery,
	expectedSecret: ExpectedSecret,
	settings: ReceiveSettings,
	dedup: DedupContext,
): Decision {
	// Authenticate first: a forged copy of a real body must not claim it before the real delivery arrives.
	if (!secretsMatch(expectedSecret, delivery.givenSecret)) {
		return {
			outcome: {
				action: 'reject',
				status: 401,
				reason: 'Unauthorized: this URL needs the secret it was registered with',
			},
		};
	}
	const parsed = parseDeliveryBody(delivery.rawBody, delivery.contentType);
	if (!parsed.ok) return { outcome: { action: 'reject', status: parsed.status, reason: parsed.reason } };

	const normalised = toItem(parsed.body, { includeRaw: settings.includeRaw, anyShape: settings.kind === 'custom' });
	if (!normalised.ok) {
		return { outcome: { action: 'reject', status: 400, reason: `Invalid ActiveCampaign payload: ${normalised.reason}` } };
	}
	const { item } = normalised;
	const reason = filterReason(item, settings);
	if (reason) return { outcome: { action: 'drop', event: item.event, reason } };
	if (!settings.deduplicate) return { outcome: { action: 'emit', item } };
	const { body, pairs, asSent } = parsed;
	const fp = asSent !== undefined ? asSentFingerprint(asSent) : pairs === undefined ? fingerprint(body) : formFingerprint(pairs);
	if (settings.store === 'redis') return { outcome: { action: 'emit', item }, fingerprint: fp };

	// 0.1.0 fingerprinted form bodies like JSON ones; its entries are looked up that way too while live.
	const legacy = pairs === undefined || asSent !== undefined ? undefined : () => fingerprint(body);
	const recorded = recordDelivery(dedup.state, dedup.scope, fp, dedup.now, { windowMs: settings.windowMs }, legacy);
	// n8n writes static data back to its database only when it changed: not for most duplicates.
	return {
		outcome: recorded.duplicate ? { action: 'duplicate', event: item.event } : { action: 'emit', item },
		dedupState: recorded.state,
	};
}

/** The body as sent, or why it could not be read. */
type BodyRead = { body: Buffer | string } | { refused: { status: 400 | 413; reason: string } };

/**
 * The body as sent. n8n keeps it as `rawBody`. For a node of version 1.1 n8n reads the body only for the
 * content types it parses itself (JSON, forms, text, XML), so a delivery without a Content-Type, or with a
 * `+json` one, is still unread: the node reads it with n8n's own reader (n8n's size limit and gzip/deflate
 * decoding apply); a read that fails is refused, never taken as an empty event. Only without either (a body
 * n8n parsed as multipart, whose stream is gone) is what n8n parsed encoded again: JSON as JSON, a form from
 * its flat keys (`contact[email]`), a repeated key once per value in the order sent.
 */
async function rawBodyOf(context: IWebhookFunctions, contentType: string | undefined): Promise<BodyRead> {
	const request = context.getRequestObject() as {
		rawBody?: Buffer;
		readable?: boolean;
		readRawBody?: () => Promise<void>;
	};
	if (!Buffer.isBuffer(request.rawBody) && request.readable === true && typeof request.readRawBody === 'function') {
		try {
			await request.readRawBody();
		} catch (error) {
			return { refused: unreadBody(error) };
		}
	}
	if (Buffer.isBuffer(request.rawBody)) return { body: request.rawBody };
	const body = context.getBodyData() as IDataObject | undefined;
	// Nothing read and nothing parsed: an empty body, refused (400).
	if (body === undefined) return { body: '' };
	if (contentType !== undefined && /json/i.test(contentType)) return { body: JSON.stringify(body) };
	const pairs: string[] = [];
	for (const [key, value] of Object.entries(body)) {
		for (const one of Array.isArray(value) ? value : [value]) {
			pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(one ?? ''))}`);
		}
	}
	return { body: pairs.join('&') };
}

/** n8n's reader (raw-body) says `entity.too.large` over n8n's payload limit; anything else: the body did not arrive whole. */
function unreadBody(error: unknown): { status: 400 | 413; reason: string } {
	if ((error as { type?: unknown } | null)?.type === 'entity.too.large') {
		return { status: 413, reason: "Body over n8n's payload limit (N8N_PAYLOAD_SIZE_MAX)" };
	}
	return { status: 400, reason: 'Body could not be read whole: the sender went away, or its compression is broken' };
}

/**
 * One query parameter, read from the URL itself: n8n's Express parses the whole query string with qs again on
 * every read of `req.query`, on the busiest path there is. Repeated: all its values (never a match). Only
 * percent-decoded: a `+` in a pasted secret (base64 has them) is a `+`, not the space of form encoding.
 */
function queryValue(context: IWebhookFunctions, name: string): unknown {
	const { url } = context.getRequestObject();
	const at = url.indexOf('?');
	if (at < 0) return undefined;
	const values: string[] = [];
	for (const pair of url.slice(at + 1).split('&')) {
		const equals = pair.indexOf('=');
		if (percentDecoded(equals < 0 ? pair : pair.slice(0, equals)) !== name) continue;
		values.push(equals < 0 ? '' : percentDecoded(pair.slice(equals + 1)));
	}
	return values.length > 1 ? values : values[0];
}

function percentDecoded(text: string): string {
	if (!text.includes('%')) return text;
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}

/**
 * Refusals are logged once a minute per node and status: anyone who has the URL can send them, and a flood of
 * forged calls must not flood n8n's log.
 */
const refusals = new ThrottledWarnings();

/** Answers a refused delivery with its status and reason, starting nothing. */
function refuse(context: IWebhookFunctions, scope: string, status: number, reason: string): IWebhookResponseData {
	refusals.warn(context.logger, `${scope}:${status}`, `ActiveCampaign Trigger refused a delivery (HTTP ${status}): ${reason}`);
	context.getResponseObject().status(status).json({ message: reason });
	return { noWebhookResponse: true };
}

export async function receiveDelivery(context: IWebhookFunctions): Promise<IWebhookResponseData> {
	// Read once: each getNode() copies the whole node.
	const node = context.getNode();
	const settings = readSettings(context, node);
	// Test mode ("listen for test event") gets its own claims: it may run while the workflow is active.
	const scope = `${context.getWorkflow().id}:${node.id}:${context.getMode()}`;
	const state = nodeState(context.getWorkflowStaticData('node'));
	const secret: { name: string; value: ExpectedSecret } | undefined =
		settings.kind === 'subscriptions'
			? { name: SECRET_PARAMETER, value: ownExpectedSecret(state) }
			: await readQueryAuth(context, true, node).catch(() => undefined);
	if (secret === undefined) {
		// The credential was deleted or unshared since activation: 503, so the sender may retry once it is back.
		return refuse(context, scope, 503, "The node's Query Auth credential cannot be read; pick one in the node and activate again");
	}
	const contentType = context.getRequestObject().headers['content-type'];
	const read = await rawBodyOf(context, contentType);
	if ('refused' in read) return refuse(context, scope, read.refused.status, read.refused.reason);
	const decide = (expected: { name: string; value: ExpectedSecret }) =>
		decideDelivery({ rawBody: read.body, contentType, givenSecret: queryValue(context, expected.name) }, expected.value, settings, {
			scope,
			state: state.dedup,
			now: Date.now(),
		});
	let decision = decide(secret);
	if (isRefusedSecret(decision.outcome)) {
		const again = await secretToTryAgain(context, node, settings, queryValue(context, secret.name));
		if (again !== undefined) decision = decide(again);
	}
	if (decision.dedupState) state.dedup = decision.dedupState;
	const claimed = decision.fingerprint === undefined ? undefined : await claimInRedis(context, node, settings, scope, decision);
	const outcome = claimed?.outcome ?? decision.outcome;

	const log = context.logger;
	switch (outcome.action) {
		case 'reject':
			return refuse(context, scope, outcome.status, outcome.reason);
		// Below, event names are quoted as JSON: a custom payload's may hold a line break, which would forge a log line.
		case 'drop':
			// 200, never 410: ActiveCampaign deactivates a webhook that answers 410.
			log.info(`ActiveCampaign Trigger dropped ${JSON.stringify(outcome.event)}: ${outcome.reason}`);
			return { webhookResponse: { received: true, emitted: false, reason: outcome.reason } };
		case 'duplicate':
			log.info(`ActiveCampaign Trigger dropped a duplicate ${JSON.stringify(outcome.event)} delivery`);
			return { webhookResponse: { received: true, emitted: false, reason: 'duplicate' } };
		case 'retry':
			// Not 2xx: the copy in flight may still fail, and then this one must be retried.
			log.info(`ActiveCampaign Trigger asked for a retry (409) of a ${JSON.stringify(outcome.event)} delivery: a copy of it is still in flight`);
			context.getResponseObject().status(409).json({ message: 'A copy of this event is being processed; retry later' });
			return { noWebhookResponse: true };
		case 'emit': {
			// n8n answers (on n8n 2.x in queue mode a 2xx then means the execution was enqueued) unless the
			// static-data table changed: the Redis store and deliveries not deduplicated leave it as it was.
			if (decision.dedupState === undefined) {
				if (claimed?.settle !== undefined) settleWhenAnswered(context, claimed.settle);
				return { workflowData: [[await itemWithFieldNames(context, node, settings, outcome.item)]] };
			}
			// Answered before n8n starts the execution. Left to n8n, 2.x answers (and saves the static data)
			// only after the run has started, by which time a new Workflow object has reset the flag that says
			// the static data changed, and the dedup table would never be saved.
			context.getResponseObject().status(200).json({ received: true, emitted: true });
			return { noWebhookResponse: true, workflowData: [[await itemWithFieldNames(context, node, settings, outcome.item)]] };
		}
	}
}

/**
 * The Events kind's secret as activation left it: a 0.1.x secret while static data still holds one (ownSecret
 * takes it first too), else the hash; nothing before the first activation (then only the secret that
 * activation derives is accepted: `secretToTryAgain`).
 */
function ownExpectedSecret(state: NodeState): ExpectedSecret {
	const legacy = legacySecretOf(state);
	if (legacy !== undefined) return legacy;
	const sha256 = storedSecretHash(state);
	return sha256 === undefined ? '' : { sha256 };
}

const isRefusedSecret = (outcome: Outcome) => outcome.action === 'reject' && outcome.status === 401;

/**
 * Before a delivery is refused for its secret, the secret it may have been sent with after all: the Events
 * kind's next secret, when this request read static data an activation has not yet saved (its URL looks like
 * the node's own: 32 characters of base64url); or the pasted kinds' Query Auth credential read again, which may
 * have been edited since this process read it (at most once a second per credential).
 */
async function secretToTryAgain(context: IWebhookFunctions, node: INode, settings: ReceiveSettings, given: unknown): Promise<{ name: string; value: ExpectedSecret } | undefined> {
	if (settings.kind === 'subscriptions') {
		if (typeof given !== 'string' || !OWN_SECRET_FORM.test(given)) return undefined;
		const next = await pendingNextSecret(context, node, given).catch(() => undefined);
		return next === undefined ? undefined : { name: SECRET_PARAMETER, value: next };
	}
	if (!forgetReusedCredential(node, QUERY_AUTH_CREDENTIAL)) return undefined;
	return await readQueryAuth(context, true, node).catch(() => undefined);
}

/** What nextSecret makes. */
const OWN_SECRET_FORM = /^[A-Za-z0-9_-]{32}$/;

/** The item to emit, its custom fields keyed as "Custom Field Keys" says (fieldNames.ts). */
async function itemWithFieldNames(context: IWebhookFunctions, node: INode, settings: ReceiveSettings, item: DeliveryItem): Promise<INodeExecutionData> {
	// Custom-object payloads pass through as their author designed them.
	if (settings.fieldKeys === 'id' || settings.kind === 'custom') return { json: item as unknown as IDataObject };
	const source = fieldNamesSource(context, node);
	if (source === undefined) return { json: item as unknown as IDataObject };
	const started = Date.now();
	const names = await fieldNamesFor(source.key, source.load, context.logger);
	let named = nameFields(item, names, settings.fieldKeys);
	if (named.unknown && names !== undefined) {
		// A field created since the names were read: read them again (at most once per TTL) and name it,
		// within what is left of the one wait a delivery may spend on names.
		const waitMs = Math.max(0, NAMES_WAIT_MS - (Date.now() - started));
		const again = await fieldNamesFor(source.key, source.load, context.logger, { unknownSeen: true, waitMs, freshSince: started });
		named = nameFields(item, again, settings.fieldKeys);
	}
	return { json: named.item as unknown as IDataObject };
}

/** Nodes whose Redis credential could not be read, by scope: one warning each until it can be read again. */
const unreadableRedisCredentials = new Map<string, Outage>();

/**
 * The Redis store's claim of an event to emit: a settled copy makes it a duplicate, a copy still in flight after
 * the store's short wait asks for a retry; a new claim is settled once n8n's answer has left. Redis not
 * answering in time, or its credential not readable (deleted or unshared since activation): emitted unclaimed,
 * and a claim that lands late is settled the same way.
 */
async function claimInRedis(
	context: IWebhookFunctions,
	node: INode,
	settings: ReceiveSettings,
	scope: string,
	decision: Decision,
): Promise<{ outcome: Outcome; settle?: Settle }> {
	const { outcome, fingerprint } = decision;
	if (outcome.action !== 'emit' || fingerprint === undefined) return { outcome };
	const redis = await settle(readRedisSettings(context, true, node));
	if (!redis.ok) {
		const outage = unreadableRedisCredentials.get(scope) ?? new Outage();
		unreadableRedisCredentials.set(scope, outage);
		const reason = redis.error instanceof Error ? redis.error.message : String(redis.error);
		outage.failed(
			context.logger,
			`ActiveCampaign Trigger: the Redis credential cannot be read (${reason}); deliveries are emitted without deduplication until it can. Pick a Redis credential in the node, or set Dedup Store to "Workflow Static Data".`,
		);
		return { outcome };
	}
	unreadableRedisCredentials.get(scope)?.recovered(context.logger, 'ActiveCampaign Trigger: the Redis credential can be read again; deduplication resumed');
	const claim = await claimDelivery(redis.value, dedupKey(scope, fingerprint), settings.windowMs, context.logger);
	switch (claim.outcome) {
		case 'duplicate':
			return { outcome: { action: 'duplicate', event: outcome.item.event } };
		case 'pending':
			return { outcome: { action: 'retry', event: outcome.item.event } };
		case 'claimed':
		case 'unavailable':
			return { outcome, settle: claim.settle };
	}
}

/**
 * How long a claim stays pending after its delivery's 2xx has left. n8n 1.x answers before it writes and
 * enqueues the execution: a webhook process killed in between left a settled claim for an event that never
 * ran, and its copy was dropped as a duplicate (queue suite: 6 of 200 events). Still pending when the process
 * dies, the claim expires instead and the copy runs. A copy arriving meanwhile waits for the settle (up to
 * `twinWait.maxMs`, redisStore.ts). Half a second: n8n 1.x's way from the answer to the enqueue is a row
 * written in PostgreSQL and a job added in Redis; under the queue-mode bench's load (P5, about 100
 * deliveries/s) the row was stamped at least 37 ms (median) and up to at least 266 ms after the answer, and at
 * most 628 ms after the request was sent (bench/README.md); and it is no longer than the time before a
 * redelivery in the bench (0.5-0.8 s), where a full second turned copies into 409s and retries (P5 0.963,
 * before copies waited for their twin). The price, on both majors (the node cannot tell them apart): a
 * process that dies or restarts within the half second *after* the execution was enqueued leaves a claim that
 * expires too, and a later copy of that event runs a second time. A dropped event is the worse of the two.
 * Tests shorten it.
 */
export const settling = { afterAnswerMs: 500 };

/**
 * 'close' comes once the answer has left, or when the request died first (not finished: not a success). A
 * failure gives the claim up at once; a success keeps it `settling.afterAnswerMs` later.
 */
function settleWhenAnswered(context: IWebhookFunctions, settle: Settle): void {
	const response = context.getResponseObject();
	// The request died while the claim was made (a twin's wait can take seconds): its 'close' has come already.
	if (response.destroyed) return void settle(false);
	response.once('close', () => {
		if (!(response.writableFinished && response.statusCode >= 200 && response.statusCode < 300)) return void settle(false);
		// settle() catches Redis's failures itself; nothing else is expected to throw, and nothing may escape.
		slottedDelay(settling.afterAnswerMs)
			.then(async () => await settle(true))
			.catch(() => undefined);
	});
}
