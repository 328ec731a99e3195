/**
 * Custom fields by name (the "Custom Field Keys" option). Standard deliveries key a contact's custom fields by
 * numeric field id (`contact.fields["39"]`), automation-action deliveries by personalisation tag
 * (`contact.fields.lead_source`); with a name option both come out keyed the same way:
 * - `tag`: the personalisation tag in lower case, as automation payloads spell it;
 * - `title`: the title as ActiveCampaign shows it; two fields with one title get ` (<id>)` appended.
 * Deal custom fields (`deal.fields[]`) gain `title` and `tag` beside `id`, `key` and `value`.
 *
 * The names come from the API (`GET /api/3/fields`, `GET /api/3/dealCustomFieldMeta`), kept per process and
 * credential: loaded at activation, reloaded in the background once older than NAMES_TTL_MS, and reloaded at
 * most once per NAMES_TTL_MS when a delivery carries an id or tag they do not know. A delivery waits for a
 * load at most NAMES_WAIT_MS; the API down or slow never fails one: what cannot be named keeps its id (or
 * tag), and one warning is logged per outage. Nothing is ever dropped.
 */
import { Outage, type NodeLog } from '../outage';
import { delay } from '../timers';

export type FieldKeys = 'id' | 'tag' | 'title';

/** One custom field as the API lists it; `tag` in lower case, without `%` marks. */
export interface NamedField {
	id: string;
	title: string;
	tag: string;
}

export interface FieldNames {
	contactById: ReadonlyMap<string, NamedField & { titleKey: string }>;
	contactByTag: ReadonlyMap<string, NamedField & { titleKey: string }>;
	dealById: ReadonlyMap<string, NamedField>;
}

export const NAMES_TTL_MS = 5 * 60_000;
/** After a failed load the next may come sooner than the TTL: the names are missing, not just old. */
export const NAMES_RETRY_MS = 30_000;
export const NAMES_WAIT_MS = 2_000;

/** `%LEAD_SOURCE%` or `LEAD_SOURCE` → `lead_source`. */
export function tagOf(personalisation: string): string {
	return personalisation.replace(/^%|%$/g, '').trim().toLowerCase();
}

export function buildFieldNames(contact: readonly NamedField[], deal: readonly NamedField[]): FieldNames {
	const titles = new Map<string, number>();
	for (const field of contact) titles.set(field.title, (titles.get(field.title) ?? 0) + 1);
	const contactById = new Map<string, NamedField & { titleKey: string }>();
	const contactByTag = new Map<string, NamedField & { titleKey: string }>();
	for (const field of contact) {
		const title = field.title === '' ? field.tag || field.id : field.title;
		const named = { ...field, titleKey: (titles.get(field.title) ?? 0) > 1 || field.title === '' ? `${title} (${field.id})` : title };
		contactById.set(field.id, named);
		if (field.tag !== '') contactByTag.set(field.tag, named);
	}
	return { contactById, contactByTag, dealById: new Map(deal.map((field) => [field.id, field])) };
}

/** `39`, not `lead_source`: what `/^\d+$/` matches, without a regular expression per field. */
function isNumericId(key: string): boolean {
	if (key === '') return false;
	for (let i = 0; i < key.length; i++) {
		const code = key.charCodeAt(i);
		if (code < 0x30 || code > 0x39) return false;
	}
	return true;
}

/**
 * The item with its custom fields named (a new item; the given one is not changed), and whether it carried
 * an id or tag the names do not know. Without names every field keeps its key.
 */
export function nameFields<T extends Record<string, unknown>>(item: T, names: FieldNames | undefined, keys: 'tag' | 'title'): { item: T; unknown: boolean } {
	let unknown = false;
	const result: Record<string, unknown> = { ...item };
	const contact = item.contact;
	if (isRecord(contact) && isRecord(contact.fields)) {
		const fields = contact.fields;
		const named: Record<string, unknown> = {};
		for (const key of Object.keys(fields)) {
			const isId = isNumericId(key);
			const field = isId ? names?.contactById.get(key) : names?.contactByTag.get(key.toLowerCase());
			if (field === undefined && (isId || keys === 'title')) unknown = true;
			const wanted = field === undefined ? key : keys === 'tag' ? field.tag || key : field.titleKey;
			// A name another field already took keeps this one apart: nothing is dropped.
			let free = wanted;
			for (let n = 1; Object.hasOwn(named, free); n++) free = n === 1 ? `${wanted} (${key})` : `${wanted} (${key}, ${n})`;
			// A field named "__proto__" is kept as data, not taken as the object's prototype.
			if (free === '__proto__') {
				Object.defineProperty(named, free, { value: fields[key], enumerable: true, writable: true, configurable: true });
			} else {
				named[free] = fields[key];
			}
		}
		result.contact = { ...contact, fields: named };
	}
	const deal = item.deal;
	if (isRecord(deal) && Array.isArray(deal.fields)) {
		result.deal = {
			...deal,
			fields: deal.fields.map((entry: unknown) => {
				if (!isRecord(entry) || entry.id === null || entry.id === undefined) return entry;
				const field = names?.dealById.get(String(entry.id));
				if (field === undefined) {
					unknown = true;
					return entry;
				}
				return { ...entry, title: field.title, tag: field.tag };
			}),
		};
	}
	return { item: result as T, unknown };
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface CacheEntry {
	names?: FieldNames;
	loadedAt: number;
	attemptedAt: number;
	/** The last load an unknown id or tag asked for: at most one per NAMES_TTL_MS. */
	unknownLoadAt: number;
	loading?: Promise<void>;
	/** From a failed load to the next one that succeeds. */
	outage: Outage;
}

const cache = new Map<string, CacheEntry>();

/**
 * The names for one credential (`key`), loading them with `load` when they are missing, older than the TTL,
 * or when `unknownSeen` (at most once per TTL). `force`: load now (activation). Waits for a load only when
 * it could name more than the names at hand, and then at most `waitMs`.
 */
export async function fieldNamesFor(
	key: string,
	load: () => Promise<FieldNames>,
	log: NodeLog,
	options: {
		unknownSeen?: boolean;
		force?: boolean;
		waitMs?: number;
		/** With `unknownSeen`: names loaded at or after this time are as new as a reload would give. */
		freshSince?: number;
	} = {},
): Promise<FieldNames | undefined> {
	let entry = cache.get(key);
	if (entry === undefined) {
		entry = { loadedAt: 0, attemptedAt: 0, unknownLoadAt: 0, outage: new Outage() };
		cache.set(key, entry);
	}
	const now = Date.now();
	const stale = entry.names === undefined || now - entry.loadedAt >= NAMES_TTL_MS;
	// Missing or failed names are tried again sooner than old ones are refreshed.
	const staleDue = stale && now - entry.attemptedAt >= (entry.names === undefined || entry.outage.down ? NAMES_RETRY_MS : 0);
	const unknownDue =
		options.unknownSeen === true &&
		entry.names !== undefined &&
		now - entry.unknownLoadAt >= NAMES_TTL_MS &&
		entry.loadedAt < (options.freshSince ?? Number.POSITIVE_INFINITY);
	// Activation loads unless names were read moments ago (n8n activates through checkExists, then create,
	// and at start-up every workflow sharing the credential activates).
	const forceDue = options.force === true && (entry.names === undefined || now - entry.loadedAt >= NAMES_RETRY_MS);
	if ((forceDue || staleDue || unknownDue) && entry.loading === undefined) {
		if (unknownDue) entry.unknownLoadAt = now;
		entry.loading = startLoad(entry, load, log).finally(() => {
			entry.loading = undefined;
		});
	}
	const { loading } = entry;
	if (loading !== undefined && (options.force === true || entry.names === undefined || options.unknownSeen === true)) {
		await Promise.race([loading, delay(options.waitMs ?? NAMES_WAIT_MS)]);
	}
	return entry.names;
}

/** One load; never rejects (a failure is logged once per outage). */
async function startLoad(entry: CacheEntry, load: () => Promise<FieldNames>, log: NodeLog): Promise<void> {
	entry.attemptedAt = Date.now();
	try {
		entry.names = await load();
		entry.loadedAt = Date.now();
		entry.outage.recovered(log, 'ActiveCampaign Trigger: custom field names can be read again');
	} catch (error) {
		entry.outage.failed(
			log,
			`ActiveCampaign Trigger: could not read custom field names (${(error as Error).message}); fields keep their ids or tags until they can be read`,
		);
	}
}

/** Forgets every credential's names (tests). */
export function forgetFieldNames(): void {
	cache.clear();
}
