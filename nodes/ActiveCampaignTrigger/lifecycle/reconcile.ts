/**
 * Keeps ActiveCampaign's webhooks for one trigger node exactly as the node wants them.
 *
 * Every decision starts from a fresh listing of the account's webhooks, never from a guess. A webhook is
 * this node's only when its URL's path is this node's own webhook path (n8n gives every trigger node a path
 * of its own, `/webhook/<webhookId>/webhook`) and its URL names this node's workflow (`workflow=<id>`): a copy
 * of a workflow can keep the node's webhook id and so its path, and must not take over or delete the
 * original's webhook. A webhook that names no workflow was registered before the id was recorded, and is
 * adopted by path. Origin and secret are not compared, so a changed `WEBHOOK_URL` or secret is still
 * recognised. Remembered ids are never proof of ownership: static data is copied by n8n's Duplicate, by
 * imports and by restored databases. Lost static data, webhooks edited in ActiveCampaign's UI and creations
 * whose answer was lost are all found by path and repaired instead of duplicated or orphaned.
 */
import {
	ActiveCampaignApiError,
	isTransient,
	settle,
	uniqueById,
	type ActiveCampaignClient,
	type RemoteWebhook,
	type WebhookFields,
} from './apiClient';
import { isListScoped } from '../catalog';
import { ownerOf, parseUrl } from './deliveryUrl';

export interface ReconcilePlan {
	keep: RemoteWebhook[];
	update: Array<{ id: string; fields: WebhookFields }>;
	create: WebhookFields[];
	remove: RemoteWebhook[];
}

export interface SubscriptionRequest {
	name: string;
	/** The delivery URL, secret included. */
	url: string;
	events: string[];
	sources: string[];
	/** Lists to narrow list-scoped events to; empty means all lists. */
	listIds: string[];
}

/** Which of the account's webhooks belong to this node. */
export interface Ownership {
	/** The URL path of this node's webhooks in this slot (production or test). */
	path: string;
	/** The workflow the node is in; webhooks naming another workflow are never this node's. */
	workflowId: string | undefined;
	/**
	 * This node's path below n8n's endpoint (`<webhookId>/webhook`, or `<workflowId>/<node name>/webhook` for
	 * a node without a webhook id). When given, the node's webhooks under other
	 * paths that end in it are removed: a test webhook left by a restart during "Listen for test event", or
	 * one registered under an earlier `WEBHOOK_URL` path. Production activations give it; test runs do not,
	 * so that listening for a test event never touches the production webhook.
	 */
	removeOtherSlots?: string;
	/** Only these ids count, the ones the node remembers registering (pasted kinds clearing up after Events). */
	onlyIds?: readonly string[];
}

/** The path of a URL, without a trailing slash; the whole text when it is not a URL. */
export function pathOf(url: string): string {
	return (parseUrl(url)?.pathname ?? url).replace(/\/+$/, '');
}

export function isOwned(webhook: RemoteWebhook, ownership: Ownership): boolean {
	return pathOf(webhook.url) === ownership.path && isThisWorkflows(webhook, ownership) && isRemembered(webhook, ownership);
}

/** Registered by this workflow, or before webhooks named their workflow (adopted, then renamed by a PUT). */
function isThisWorkflows(webhook: RemoteWebhook, ownership: Ownership): boolean {
	const owner = ownerOf(webhook.url);
	return owner === undefined || owner === ownership.workflowId;
}

function isRemembered(webhook: RemoteWebhook, ownership: Ownership): boolean {
	return ownership.onlyIds === undefined || ownership.onlyIds.includes(webhook.id);
}

function isOtherSlot(webhook: RemoteWebhook, ownership: Ownership): boolean {
	const nodePath = ownership.removeOtherSlots;
	if (nodePath === undefined || !isRemembered(webhook, ownership) || !isThisWorkflows(webhook, ownership)) return false;
	const path = pathOf(webhook.url);
	return path !== ownership.path && path.endsWith(`/${nodePath}`);
}

/**
 * The webhooks the node wants. ActiveCampaign takes one `listid` per webhook and applies it only to
 * list-scoped events (docs/activecampaign-events.md): the list-scoped events go in one webhook per chosen
 * list, every other event in a single webhook for all lists (`listid` 0), so each event is sent once.
 */
export function desiredWebhooks(request: SubscriptionRequest): WebhookFields[] {
	const events = [...new Set(request.events)].sort();
	const sources = [...new Set(request.sources)].sort();
	const listIds = [...new Set(request.listIds)].filter((id) => id !== '0').sort();
	const webhook = (listid: string, chosen: string[]): WebhookFields => ({ name: request.name, url: request.url, events: chosen, sources, listid });
	if (listIds.length === 0) return [webhook('0', events)];
	const scoped = events.filter(isListScoped);
	const unscoped = events.filter((event) => !isListScoped(event));
	return [
		...(unscoped.length > 0 ? [webhook('0', unscoped)] : []),
		...(scoped.length > 0 ? listIds.map((listid) => webhook(listid, scoped)) : []),
	];
}

/**
 * How ActiveCampaign may store what was sent: a name trimmed, event and source ids in another order or
 * case, a URL re-encoded, a list id as a number. Compared in this form such a webhook has not drifted, and
 * is not PUT again on every activation.
 */
function normalisedFields(fields: WebhookFields): Record<keyof WebhookFields, string> {
	const ids = (values: readonly string[]) => [...new Set(values.map((value) => value.trim().toLowerCase()))].sort().join(', ');
	return {
		name: fields.name.trim(),
		url: comparableUrl(fields.url.trim()),
		events: ids(fields.events),
		sources: ids(fields.sources),
		listid: String(Number(fields.listid) || 0),
	};
}

/** A URL with its query parameters in one order: the secret and the workflow may come back either way. */
function comparableUrl(url: string): string {
	const parsed = parseUrl(url);
	if (parsed === undefined) return url;
	parsed.searchParams.sort();
	return parsed.href;
}

/** The fields in which a remote webhook differs from the wanted one, both normalised. */
export function differingFields(remote: WebhookFields, wanted: WebhookFields): Array<keyof WebhookFields> {
	const stored = normalisedFields(remote);
	const sent = normalisedFields(wanted);
	return (Object.keys(sent) as Array<keyof WebhookFields>).filter((field) => stored[field] !== sent[field]);
}

export function matches(remote: WebhookFields, wanted: WebhookFields): boolean {
	return differingFields(remote, wanted).length === 0;
}

/**
 * Pure: what to keep, update, create and remove so that the owned webhooks become exactly `desired`.
 * Exact matches are kept; the remaining owned webhooks are reused (same list first) before anything is
 * created; this node's webhooks under another slot's path are removed. A listing that shows a webhook
 * twice (a page boundary that moved while paging) still gives one decision per id, and an id that is kept
 * or updated is never removed.
 */
export function planReconcile(desired: readonly WebhookFields[], remote: readonly RemoteWebhook[], ownership: Ownership): ReconcilePlan {
	const listed = uniqueById(remote);
	const unused = listed.filter((webhook) => isOwned(webhook, ownership));
	const take = (predicate: (webhook: RemoteWebhook) => boolean) => {
		const index = unused.findIndex(predicate);
		return index === -1 ? undefined : unused.splice(index, 1)[0];
	};

	const plan: ReconcilePlan = { keep: [], update: [], create: [], remove: [] };
	const unmatched: WebhookFields[] = [];
	for (const wanted of desired) {
		const exact = take((webhook) => matches(webhook, wanted));
		if (exact) plan.keep.push(exact);
		else unmatched.push(wanted);
	}
	const reused = new Map<WebhookFields, RemoteWebhook>();
	for (const wanted of unmatched) {
		const sameList = take((webhook) => webhook.listid === wanted.listid);
		if (sameList) reused.set(wanted, sameList);
	}
	for (const wanted of unmatched) {
		const reusable = reused.get(wanted) ?? take(() => true);
		if (reusable) plan.update.push({ id: reusable.id, fields: wanted });
		else plan.create.push(wanted);
	}
	// Each id is decided once, so what is kept or updated is never also removed; other slots' webhooks are
	// at another path than the owned ones.
	plan.remove = [...unused, ...listed.filter((webhook) => isOtherSlot(webhook, ownership))];
	return plan;
}

export function isEmptyPlan(plan: ReconcilePlan): boolean {
	return plan.update.length === 0 && plan.create.length === 0 && plan.remove.length === 0;
}

export interface ReconcileOptions {
	/** checkExists repairs drift but leaves creation to n8n's create step. */
	allowCreate: boolean;
	maxRounds?: number;
	log?: (message: string) => void;
	/** Told the owned ids after every listing and round, so a failure later in the step still knows them. */
	onOwned?: (ids: string[]) => void;
}

export interface ReconcileResult {
	/** Ids of the owned webhooks after the last round. */
	ids: string[];
	/** True when the remote webhooks are exactly the desired ones. */
	complete: boolean;
}

/**
 * Lists, plans and applies, then lists again to verify, until the account holds exactly `desired`.
 * A creation whose answer is lost is never retried blindly: the next listing shows whether it happened.
 */
export async function reconcile(
	client: ActiveCampaignClient,
	desired: readonly WebhookFields[],
	ownership: Ownership,
	options: ReconcileOptions,
): Promise<ReconcileResult> {
	const maxRounds = options.maxRounds ?? 5;
	let lastFailure: ActiveCampaignApiError | undefined;
	/** What each webhook was last PUT with, to tell a webhook ActiveCampaign stores differently from a slow one. */
	const sentLastRound = new Map<string, WebhookFields>();
	let stubborn: { id: string; fields: Array<keyof WebhookFields>; stored: WebhookFields; sent: WebhookFields } | undefined;

	for (let round = 1; round <= maxRounds; round++) {
		const remote = await client.listWebhooks();
		const plan = planReconcile(desired, remote, ownership);
		const owned = new Set([...plan.keep, ...plan.update, ...plan.remove.filter((webhook) => isOwned(webhook, ownership))].map(({ id }) => id));
		options.onOwned?.([...owned]);
		if (isEmptyPlan(plan)) return { ids: [...owned], complete: true };

		options.log?.(
			`Reconciling ActiveCampaign webhooks: keep ${plan.keep.length}, update ${plan.update.length}, create ${plan.create.length}, remove ${plan.remove.length}`,
		);
		for (const { id, fields } of plan.update) {
			const stored = remote.find((webhook) => webhook.id === id);
			const sent = sentLastRound.get(id);
			if (stored && sent && matches(sent, fields)) stubborn = { id, fields: differingFields(stored, fields), stored, sent };
		}
		sentLastRound.clear();
		for (const webhook of plan.remove) {
			await client.deleteWebhook(webhook.id);
			owned.delete(webhook.id);
		}
		for (const { id, fields } of plan.update) {
			if ((await client.updateWebhook(id, fields)) === 'gone') owned.delete(id);
			else sentLastRound.set(id, fields);
		}
		if (!options.allowCreate) {
			if (plan.create.length > 0) return { ids: [...owned], complete: false };
			continue;
		}
		let unclear = false;
		for (const fields of plan.create) {
			const created = await settle(client.createWebhook(fields));
			if (created.ok) continue;
			// A 429 that outlasted the client's retries created nothing: another round would only add to the load.
			if (!isTransient(created.error) || created.error.status === 429) throw created.error;
			// It may or may not exist now; the next round's listing tells.
			lastFailure = created.error;
			unclear = true;
			options.log?.(`Creating an ActiveCampaign webhook got no clear answer (${lastFailure.message}); checking again`);
		}
		// A failing API gets time to recover before it is asked again.
		if (unclear && round < maxRounds) await client.backOff(round);
	}
	if (stubborn) throw storedDifferently(stubborn);
	throw new ActiveCampaignApiError(
		`ActiveCampaign's webhooks did not settle after ${maxRounds} attempts${lastFailure ? `: ${lastFailure.message}` : ''}`,
		lastFailure?.status,
		true,
		'ActiveCampaign is failing or slow right now. Activate the workflow again later; nothing will be duplicated.',
	);
}

/** ActiveCampaign accepted a PUT but keeps listing other values: name the fields instead of blaming a slow API. */
function storedDifferently(stubborn: { id: string; fields: Array<keyof WebhookFields>; stored: WebhookFields; sent: WebhookFields }): ActiveCampaignApiError {
	const show = (fields: WebhookFields, field: keyof WebhookFields) => {
		const value = fields[field];
		return field === 'url' ? '(the delivery URL)' : JSON.stringify(value);
	};
	const details = stubborn.fields.map((field) => `${field}: sent ${show(stubborn.sent, field)}, stored ${show(stubborn.stored, field)}`).join('; ');
	return new ActiveCampaignApiError(
		`ActiveCampaign stores webhook ${stubborn.id} differently from what the node sends (${details})`,
		undefined,
		false,
		'ActiveCampaign changes this value when it saves it. For events: check that your account offers every chosen event (Settings → Developer → Webhooks); remove the ones it does not, then activate again.',
	);
}

export interface RemoveResult {
	/** Ids that could not be removed; kept so the next attempt tries again. */
	remaining: string[];
	failures: ActiveCampaignApiError[];
}

/**
 * Deletes every webhook this node owns (and, for a production removal, its webhooks under other slots' paths),
 * a webhook that names no workflow (an earlier version's) only when the node remembers registering it: a copy
 * that kept the node's webhook id has the same path, and n8n removes its webhooks when it refuses to activate
 * it. Then lists again to verify, since a 404 on DELETE is taken as "already gone" and a listing is the only proof.
 * Without a listing nothing is deleted: a remembered id alone could be another workflow's webhook.
 */
export async function removeOwned(
	client: ActiveCampaignClient,
	ownership: Ownership,
	knownIds: readonly string[],
	maxRounds = 5,
): Promise<RemoveResult> {
	const goneIds = new Set<string>();
	for (let round = 1; round <= maxRounds; round++) {
		const listing = await settle(listWithRemembered(client, knownIds, goneIds));
		if (!listing.ok) {
			if (!(listing.error instanceof ActiveCampaignApiError)) throw listing.error;
			return { remaining: [...knownIds], failures: [listing.error] };
		}
		const { webhooks, unread } = listing.value;
		const targets = webhooks
			.filter((webhook) => isOwned(webhook, ownership) || isOtherSlot(webhook, ownership))
			.filter((webhook) => ownerOf(webhook.url) !== undefined || knownIds.includes(webhook.id))
			.map(({ id }) => id);
		if (targets.length === 0) return { remaining: unread.map(({ id }) => id), failures: unread.map(({ error }) => error) };

		const failures: ActiveCampaignApiError[] = [];
		const remaining: string[] = [];
		for (const id of targets) {
			const deleted = await settle(client.deleteWebhook(id));
			if (deleted.ok) {
				goneIds.add(id);
				continue;
			}
			if (!(deleted.error instanceof ActiveCampaignApiError)) throw deleted.error;
			remaining.push(id);
			failures.push(deleted.error);
		}
		if (failures.length > 0) return { remaining, failures };
	}
	const unsettled = new ActiveCampaignApiError(
		`ActiveCampaign still lists webhooks of this node after ${maxRounds} rounds of deleting`,
		undefined,
		true,
	);
	return { remaining: [...knownIds], failures: [unsettled] };
}

/**
 * The account's webhooks, and each remembered one the listing missed, read by its id: ActiveCampaign pages by
 * offset, so a webhook another workflow deletes meanwhile moves a row past a page boundary unseen. Ids found
 * gone (read or deleted) are not read again; one that could not be read is `unread`, to be tried next time.
 */
async function listWithRemembered(
	client: ActiveCampaignClient,
	knownIds: readonly string[],
	goneIds: Set<string>,
): Promise<{ webhooks: RemoteWebhook[]; unread: Array<{ id: string; error: ActiveCampaignApiError }> }> {
	const webhooks = await client.listWebhooks();
	const listedIds = new Set(webhooks.map(({ id }) => id));
	const unread: Array<{ id: string; error: ActiveCampaignApiError }> = [];
	for (const id of knownIds) {
		if (listedIds.has(id) || goneIds.has(id)) continue;
		const read = await settle(client.getWebhook(id));
		if (!read.ok) {
			if (!(read.error instanceof ActiveCampaignApiError)) throw read.error;
			unread.push({ id, error: read.error });
		} else if (read.value === 'gone') goneIds.add(id);
		else webhooks.push(read.value);
	}
	return { webhooks, unread };
}

/** State the lifecycle keeps between steps (in the node's static data). */
export interface SubscriptionMemory {
	ids: string[];
}

/**
 * One lifecycle step as n8n calls it: `checkExists` (allowCreate false) or `create` (true).
 * Returns whether the account now holds exactly the desired webhooks; remembers the owned ids either way, those
 * of the last listing when the step fails (remembered ids that point elsewhere are forgotten, never updated or
 * deleted).
 */
export async function ensureSubscriptions(
	client: ActiveCampaignClient,
	desired: readonly WebhookFields[],
	ownership: Ownership,
	memory: SubscriptionMemory,
	options: ReconcileOptions,
): Promise<boolean> {
	const result = await reconcile(client, desired, ownership, {
		...options,
		onOwned: (ids) => {
			memory.ids = ids;
			options.onOwned?.(ids);
		},
	});
	memory.ids = result.ids;
	return result.complete;
}

export class RemovalError extends Error {
	constructor(
		readonly remaining: number,
		readonly cause: ActiveCampaignApiError,
	) {
		super(`Could not remove ${remaining > 0 ? remaining : 'all'} ActiveCampaign webhook(s): ${cause.message}`);
		this.name = 'RemovalError';
	}

	get hint(): string {
		const retried = 'They are remembered and removed on the next activation or deactivation. You can also delete them in ActiveCampaign under Settings → Developer → Webhooks.';
		return this.cause.hint ? `${this.cause.hint} ${retried}` : retried;
	}
}

/** Deletes every owned webhook; throws RemovalError (keeping the ids it could not delete) when any failed. */
export async function removeSubscriptions(
	client: ActiveCampaignClient,
	ownership: Ownership,
	memory: SubscriptionMemory,
): Promise<void> {
	const result = await removeOwned(client, ownership, memory.ids);
	memory.ids = result.remaining;
	if (result.failures.length > 0) throw new RemovalError(result.remaining.length, result.failures[0]);
}
