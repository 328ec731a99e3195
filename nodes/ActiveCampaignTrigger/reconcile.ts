/**
 * Keeps ActiveCampaign's webhooks for one trigger node exactly as the node wants them.
 *
 * Every decision starts from a fresh listing of the account's webhooks, never from a guess: a webhook is
 * "ours" when its id is remembered in static data or its URL points at this node's endpoint (whatever
 * secret it carries), so lost static data, webhooks edited in ActiveCampaign's UI and creations whose
 * answer was lost are all found and repaired instead of duplicated or orphaned.
 */
import {
	ActiveCampaignApiError,
	isTransient,
	settle,
	type ActiveCampaignClient,
	type RemoteWebhook,
	type WebhookFields,
} from './apiClient';
import { endpointOf } from './deliveryUrl';

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

/** One ActiveCampaign webhook per chosen list (its API takes one `listid` per webhook), or one for all lists. */
export function desiredWebhooks(request: SubscriptionRequest): WebhookFields[] {
	const events = [...new Set(request.events)].sort();
	const sources = [...new Set(request.sources)].sort();
	const listIds = request.listIds.length > 0 ? [...new Set(request.listIds)].sort() : ['0'];
	return listIds.map((listid) => ({ name: request.name, url: request.url, events, sources, listid }));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
	if (a.length !== b.length) return false;
	const set = new Set(a);
	return b.every((value) => set.has(value));
}

export function matches(remote: WebhookFields, wanted: WebhookFields): boolean {
	return (
		remote.url === wanted.url &&
		remote.name === wanted.name &&
		remote.listid === wanted.listid &&
		sameSet(remote.events, wanted.events) &&
		sameSet(remote.sources, wanted.sources)
	);
}

export function isOwned(webhook: RemoteWebhook, endpoint: string, knownIds: ReadonlySet<string>): boolean {
	return knownIds.has(webhook.id) || endpointOf(webhook.url) === endpoint;
}

/**
 * Pure: what to keep, update, create and remove so that the owned webhooks become exactly `desired`.
 * Exact matches are kept; the remaining owned webhooks are reused (same list first) before anything is created.
 */
export function planReconcile(
	desired: readonly WebhookFields[],
	remote: readonly RemoteWebhook[],
	endpoint: string,
	knownIds: ReadonlySet<string>,
): ReconcilePlan {
	const unused = remote.filter((webhook) => isOwned(webhook, endpoint, knownIds));
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
	plan.remove = unused;
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
	knownIds: readonly string[],
	options: ReconcileOptions,
): Promise<ReconcileResult> {
	const endpoint = endpointOf(desired[0].url);
	const known = new Set(knownIds);
	const maxRounds = options.maxRounds ?? 5;
	let lastFailure: ActiveCampaignApiError | undefined;

	for (let round = 1; round <= maxRounds; round++) {
		const remote = await client.listWebhooks();
		const plan = planReconcile(desired, remote, endpoint, known);
		const owned = [...plan.keep, ...plan.update, ...plan.remove].map((webhook) => webhook.id);
		known.clear();
		owned.forEach((id) => known.add(id));
		if (isEmptyPlan(plan)) return { ids: owned, complete: true };

		options.log?.(
			`Reconciling ActiveCampaign webhooks: keep ${plan.keep.length}, update ${plan.update.length}, create ${plan.create.length}, remove ${plan.remove.length}`,
		);
		for (const webhook of plan.remove) {
			await client.deleteWebhook(webhook.id);
			known.delete(webhook.id);
		}
		for (const { id, fields } of plan.update) {
			if ((await client.updateWebhook(id, fields)) === 'gone') known.delete(id);
		}
		if (!options.allowCreate) {
			if (plan.create.length > 0) return { ids: [...known], complete: false };
			continue;
		}
		for (const fields of plan.create) {
			const created = await settle(client.createWebhook(fields));
			if (created.ok) {
				known.add(created.value.id);
				continue;
			}
			if (!isTransient(created.error)) throw created.error;
			// It may or may not exist now; the next round's listing tells.
			lastFailure = created.error;
			options.log?.(`Creating an ActiveCampaign webhook got no clear answer (${lastFailure.message}); checking again`);
		}
	}
	throw new ActiveCampaignApiError(
		`ActiveCampaign's webhooks did not settle after ${maxRounds} attempts${lastFailure ? `: ${lastFailure.message}` : ''}`,
		lastFailure?.status,
		true,
		'ActiveCampaign is failing or slow right now. Activate the workflow again later; nothing will be duplicated.',
	);
}

export interface RemoveResult {
	/** Ids that could not be removed; kept so the next attempt tries again. */
	remaining: string[];
	failures: ActiveCampaignApiError[];
}

/**
 * Deletes every webhook this node owns (remembered ids and any other pointing at its endpoint), then lists
 * again to verify, since a 404 on DELETE is taken as "already gone" and a listing is the only proof.
 */
export async function removeOwned(
	client: ActiveCampaignClient,
	endpoint: string,
	knownIds: readonly string[],
	maxRounds = 5,
): Promise<RemoveResult> {
	let targets = [...knownIds];
	for (let round = 1; round <= maxRounds; round++) {
		const listing = await settle(client.listWebhooks());
		// Without a listing the remembered ids are still worth deleting, but nothing is verified.
		if (!listing.ok && !(listing.error instanceof ActiveCampaignApiError)) throw listing.error;
		const listingFailure = listing.ok ? undefined : (listing.error as ActiveCampaignApiError);
		if (listing.ok) {
			const known = new Set(targets);
			targets = listing.value.filter((webhook) => isOwned(webhook, endpoint, known)).map(({ id }) => id);
		}
		if (targets.length === 0 && !listingFailure) return { remaining: [], failures: [] };

		const failures: ActiveCampaignApiError[] = listingFailure ? [listingFailure] : [];
		const remaining: string[] = [];
		for (const id of targets) {
			const deleted = await settle(client.deleteWebhook(id));
			if (deleted.ok) continue;
			if (!(deleted.error instanceof ActiveCampaignApiError)) throw deleted.error;
			remaining.push(id);
			failures.push(deleted.error);
		}
		if (failures.length > 0) return { remaining: listingFailure ? targets : remaining, failures };
	}
	const unsettled = new ActiveCampaignApiError(
		`ActiveCampaign still lists webhooks of this node after ${maxRounds} rounds of deleting`,
		undefined,
		true,
	);
	return { remaining: targets, failures: [unsettled] };
}

/** State the lifecycle keeps between steps (in the node's static data). */
export interface SubscriptionMemory {
	ids: string[];
}

/**
 * One lifecycle step as n8n calls it: `checkExists` (allowCreate false) or `create` (true).
 * Returns whether the account now holds exactly the desired webhooks; remembers the owned ids either way.
 */
export async function ensureSubscriptions(
	client: ActiveCampaignClient,
	desired: readonly WebhookFields[],
	memory: SubscriptionMemory,
	options: ReconcileOptions,
): Promise<boolean> {
	const result = await reconcile(client, desired, memory.ids, options);
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

	readonly hint =
		'They are remembered and removed on the next activation or deactivation. You can also delete them in ActiveCampaign under Settings → Developer → Webhooks.';
}

/** Deletes every owned webhook; throws RemovalError (keeping the ids it could not delete) when any failed. */
export async function removeSubscriptions(
	client: ActiveCampaignClient,
	endpoint: string,
	memory: SubscriptionMemory,
): Promise<void> {
	const result = await removeOwned(client, endpoint, memory.ids);
	memory.ids = result.remaining;
	if (result.failures.length > 0) throw new RemovalError(result.remaining.length, result.failures[0]);
}
