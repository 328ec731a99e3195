/**
 * The dedup store for incoming deliveries. ActiveCampaign delivers webhooks at least once and sends no
 * event id, so two deliveries of one event are recognised by their identical content: the key is a
 * fingerprint of the body's decoded content, remembered for a window (default one hour).
 *
 * Two layers, because n8n gives each request a fresh workflow and a fresh copy of the static data read
 * from the database: two identical deliveries in flight at once both see the copy without the other.
 * - `claimInProcess`: a bounded module-level map that the concurrent requests of one process share.
 * - `checkAndRemember`: a fixed-size table persisted in the node's static data, so the window survives
 *   a restart.
 * - `recordDelivery` does both for one delivery, and also puts back what concurrent requests erased: n8n
 *   saves each request's copy whole, so of two requests that loaded the table at once, the later save
 *   drops the other's entry. Every save therefore carries this process's claims that its copy may lack.
 *
 * A claim is never released, not even when the workflow then fails: the event was delivered and started
 * its execution once. ActiveCampaign never retries a delivery, so an identical body arriving later is a
 * second copy of the same event, not a second chance for a failed one, and dropping it is what dedup is
 * for. Check only deliveries that passed authentication: an unauthenticated request must not be able to
 * claim a body and so suppress the real delivery.
 *
 * When memory runs short (more distinct events in a window than the table holds, or more claims than the
 * map holds) the oldest entries are forgotten and a later duplicate of one passes through: a duplicate
 * item at worst, never a lost event.
 */
import { hash, randomBytes } from 'node:crypto';

import { RecentKeys } from './recentKeys';

export const DEFAULT_WINDOW_MS = 60 * 60 * 1000;

/** A year: beyond what any duplicate needs; far beyond, Redis refuses the `PX` and every claim would fail. */
export const MAX_WINDOW_MINUTES = 365 * 24 * 60;

/** Entries of the persisted table at defaults; its JSON form is then 32,018 characters (<= 32 KB). */
export const DEFAULT_CAPACITY = 2000;

/** Caps a capacity setting so that a typo cannot build a string too long for V8 (~1 MB of JSON here). */
export const MAX_CAPACITY = 65_536;

/** Claims the in-process map holds before it forgets the oldest (~100 bytes each). */
export const IN_PROCESS_CLAIM_LIMIT = 10_000;

export interface DedupOptions {
	windowMs: number;
	/** Entries the persisted table holds, rounded up to a multiple of 4; default `DEFAULT_CAPACITY`. */
	capacity?: number;
}

/**
 * The persisted form, stored whole in the node's static data (a type alias, not an interface, so that it
 * is assignable to n8n's `IDataObject`).
 *
 * The table is `capacity / 4` buckets of 4 entries. An entry is 12 bytes, big-endian: the fingerprint's high
 * 32 bits, its low 32 bits, then the Unix second it was first seen (0 = empty slot). A bucket is 48 bytes =
 * exactly 64 base64 characters without padding, so one lookup decodes only its bucket's substring. A
 * fingerprint lives in bucket `high32 % bucketCount`.
 *
 * `t` holds the buckets in segments of 25 (1,600 characters each; 20 at the default capacity): an insert
 * rebuilds one segment, not the whole 32,000-character table, so the garbage per event is a twentieth of it
 * and does not depend on how many keys are remembered. Version 1 (0.1.0) kept the same buckets in one string,
 * `table`; it is read as well, so an upgrade keeps the entries of the window (see `legacyUntil`).
 *
 * The window is not stored: timestamps are first-seen times and the window is applied when reading, so a
 * changed window takes effect at once. A changed capacity re-files the live entries into a table of the
 * new size.
 */
export type PersistedDedupState = {
	v: 2;
	t: string[];
	/**
	 * Until this Unix second the table may hold entries of 0.1.0, whose form-body fingerprints were
	 * {@link fingerprint}'s: a delivery is then looked up by that fingerprint too. Set when a version-1
	 * table is read (its time plus the window); left out once passed.
	 */
	legacyUntil?: number;
	/** The process that wrote it (`recordDelivery`), and the newest of its claims the table is known to hold. */
	by?: string;
	seq?: number;
};

const WAYS = 4;
const ENTRY_BYTES = 12;
const BUCKET_BYTES = WAYS * ENTRY_BYTES;
const BUCKET_CHARS = (BUCKET_BYTES / 3) * 4;
const SEGMENT_BUCKETS = 25;
const SEGMENT_CHARS = SEGMENT_BUCKETS * BUCKET_CHARS;
const FINGERPRINT_PATTERN = /^[0-9a-f]{16}$/;

/**
 * A 64-bit fingerprint (16 hex characters) of the body's canonical form: the same for the same content
 * whatever the order of keys, at any depth. Strings and keys are quoted as JSON quotes them (lone
 * surrogates escaped), so no two bodies share a canonical form; an array and an object with numeric keys
 * stay distinct. Used for JSON bodies, and for form bodies by 0.1.0 (see {@link formFingerprint}).
 *
 * 64 bits make a false "duplicate" negligible: a new event matches one of the 2,000 entries of a full
 * table with a chance of 2,000 / 2^64 ≈ 1e-16, one of the 10,000 in-process claims with 5e-16; over a
 * billion deliveries, under one in a million. The same bound holds for {@link formFingerprint}.
 */
export function fingerprint(body: Record<string, unknown>): string {
	return hash('sha256', canonical(body), 'hex').slice(0, 16);
}

/**
 * The fingerprint of a form body, from the decoded pairs the parser collected (`[key, value, …]`): the pairs
 * ordered by key (a key's own values keep their order, as they are an array's elements), each written as
 * `<length>:<key><length>:<value>`, which no two different lists of pairs share. Two encodings of the same
 * content (`%5B` or `[`, `+` or `%20`, upper- or lower-case escapes, parameters in another order) give the
 * same fingerprint. It costs about half of {@link fingerprint}, which walks and sorts the parsed object; it
 * differs from it, so 0.1.0's remembered entries are looked up by that one too while they can be live.
 */
export function formFingerprint(pairs: readonly string[]): string {
	let text = 'form';
	for (const i of keyOrder(pairs)) text += `${pairs[i].length}:${pairs[i]}${pairs[i + 1].length}:${pairs[i + 1]}`;
	return hash('sha256', text, 'hex').slice(0, 16);
}

/**
 * The fingerprint of a body as sent, for one whose decoded content does not pin it down (see `asSent` in
 * parse.ts): `%E9` and `%25E9` both read as "%E9", yet they are two events, and neither may be dropped as the
 * other's copy. A copy of such a body is still one: ActiveCampaign sends the same bytes again.
 */
export function asSentFingerprint(text: string): string {
	return hash('sha256', `as sent:${text}`, 'hex').slice(0, 16);
}

/** The keys of the last form body fingerprinted, in body order, and its pairs' indices ordered by key. */
let lastKeys: readonly string[] = [];
let lastOrder: readonly number[] = [];

/** Bodies with more keys than this are sorted every time, so the remembered keys stay small. */
const REMEMBERED_KEYS_LIMIT = 1000;

/**
 * The indices of `pairs`' non-empty keys ordered by key, equal keys in body order. ActiveCampaign writes one
 * event's keys in the same order every time, so when the keys are those of the body before, in the same order,
 * its ordering is reused: comparing the keys costs a fraction of sorting them.
 */
function keyOrder(pairs: readonly string[]): readonly number[] {
	const count = pairs.length / 2;
	if (count === lastKeys.length) {
		let same = true;
		for (let k = 0; k < count && same; k++) same = pairs[2 * k] === lastKeys[k];
		if (same) return lastOrder;
	}
	const order: number[] = [];
	for (let i = 0; i < pairs.length; i += 2) if (pairs[i] !== '') order.push(i);
	order.sort((a, b) => (pairs[a] < pairs[b] ? -1 : pairs[a] > pairs[b] ? 1 : a - b));
	if (count <= REMEMBERED_KEYS_LIMIT) {
		lastKeys = pairs.filter((_, index) => index % 2 === 0);
		lastOrder = order;
	}
	return order;
}

function canonical(value: unknown): string {
	if (typeof value === 'string') return quote(value);
	if (typeof value === 'object' && value !== null) {
		if (Array.isArray(value)) {
			let out = '[';
			for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonical(value[i]);
			return out + ']';
		}
		const record = value as Record<string, unknown>;
		const keys = Object.keys(record).sort();
		let out = '{';
		for (let i = 0; i < keys.length; i++) {
			out += (i === 0 ? '' : ',') + quote(keys[i]) + ':' + canonical(record[keys[i]]);
		}
		return out + '}';
	}
	// A parsed body holds only strings, objects and arrays (qs) or also numbers, booleans and null (JSON):
	// their String() forms, like that of an undefined, are unambiguous beside the quoted strings above.
	if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') {
		return String(value);
	}
	throw new TypeError(`A parsed body cannot hold a ${typeof value}, so it has no fingerprint`);
}

/** Characters JSON escapes, and surrogates (JSON escapes a lone one). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON quoting. Most form values need no escaping, and skipping JSON.stringify for them saves about a
 * third of the fingerprint's cost (measured on the sample deliveries). */
function quote(text: string): string {
	return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** Whether something first seen `age` ago is still inside the window. A negative age (the clock went back)
 * counts as outside: when unsure, let the delivery through. */
function isWithinWindow(age: number, window: number): boolean {
	return age >= 0 && age < window;
}

/** `${scope}:${fp}` -> when it was claimed, in claim order (oldest first). */
const claims = new RecentKeys(() => IN_PROCESS_CLAIM_LIMIT);

/**
 * Claims a fingerprint for one request of this process. `false` means another request of this process
 * claimed it within the window: answer it as a duplicate. `scope` separates the trigger nodes sharing the
 * process (e.g. workflow id + node id).
 */
export function claimInProcess(scope: string, fp: string, now: number, windowMs: number): boolean {
	const key = `${scope}:${fp}`;
	const claimedAt = claims.get(key);
	if (claimedAt !== undefined && isWithinWindow(now - claimedAt, windowMs)) return false;
	claims.set(key, now);
	noteRecentClaim(scope, fp, now);
	return true;
}

/** Recent claims kept per scope for `recordDelivery` to put back; more are in flight only under heavy load. */
export const RECENT_CLAIM_LIMIT = 128;

/** Identifies this process in the state it writes: another process's (or a previous run's) `seq` says
 * nothing about which of this process's claims a table holds. */
const PROCESS_ID = randomBytes(6).toString('base64url');

interface RecentClaim {
	seq: number;
	fp: string;
	at: number;
}

let lastSeq = 0;
const recentClaims = new Map<string, RecentClaim[]>();

function noteRecentClaim(scope: string, fp: string, at: number): void {
	let recent = recentClaims.get(scope);
	if (!recent) recentClaims.set(scope, (recent = []));
	recent.push({ seq: ++lastSeq, fp, at });
	// Trimmed in batches: one shift per claim would move the whole array every time.
	if (recent.length >= 2 * RECENT_CLAIM_LIMIT) recent.splice(0, recent.length - RECENT_CLAIM_LIMIT);
}

/**
 * The dedup decision for one authenticated delivery: whether `fp` is a duplicate (claimed by this process
 * or found in the persisted table), and the state to write back when it changed (`undefined`: leave the
 * static data alone, so n8n does not write it).
 *
 * A written state also holds every claim of this process that the loaded copy may lack: those after the
 * `seq` it was saved with, or all recent ones when another process wrote it. Saves that raced each other
 * hold, together, every claim, so a restart forgets none of them. In the usual sequential case nothing is
 * missing and this costs one comparison.
 */
export function recordDelivery(
	state: unknown,
	scope: string,
	fp: string,
	now: number,
	options: DedupOptions,
	/** 0.1.0's fingerprint of the same body, when it differs from `fp`: computed only while needed. */
	legacyFingerprint?: () => string,
): { duplicate: boolean; state?: PersistedDedupState } {
	const table = new Table(state, now, options);
	const legacy = legacyFingerprint !== undefined && table.nowSecond < table.legacyUntil;
	// Filed before the recent claims are put back: they include this delivery's own claim.
	const filed =
		claimInProcess(scope, fp, now, options.windowMs) && !(legacy && table.holds(legacyFingerprint())) && table.file(fp, table.nowSecond) === 'filed';
	const putBack = putBackRecentClaims(table, state, scope, now, options.windowMs);
	if (!filed && putBack.added === 0) return { duplicate: true };
	return { duplicate: !filed, state: table.persisted({ by: PROCESS_ID, seq: putBack.heldUpTo }) };
}

/** Files the recent claims of `scope` that the loaded `state` may lack into `table`. */
function putBackRecentClaims(
	table: Table,
	state: unknown,
	scope: string,
	now: number,
	windowMs: number,
): { added: number; heldUpTo: number } {
	const { by, seq } = (typeof state === 'object' && state !== null ? state : {}) as { by?: unknown; seq?: unknown };
	const loadedUpTo = by === PROCESS_ID && typeof seq === 'number' ? seq : 0;
	const recent = recentClaims.get(scope) ?? [];
	const oldest = Math.max(0, recent.length - RECENT_CLAIM_LIMIT);
	let added = 0;
	for (let i = recent.length - 1; i >= oldest && recent[i].seq > loadedUpTo; i--) {
		const { fp, at } = recent[i];
		if (!isWithinWindow(now - at, windowMs)) break;
		if (table.file(fp, Math.floor(at / 1000)) === 'filed') added++;
	}
	return { added, heldUpTo: recent.length > 0 ? recent[recent.length - 1].seq : loadedUpTo };
}

/**
 * Answers whether `fp` was seen within the window and remembers it if not. `state` is whatever the
 * static data holds: anything that is not a version-2 or version-1 table (missing, garbled, from a later
 * version) is treated as an empty table, and a garbled bucket as an empty bucket; it never throws on it. Returns the
 * state to write back. A duplicate keeps its first-seen time, so an identical body sent again after the
 * window (a genuinely new event that happens to look the same) passes once per window.
 */
export function checkAndRemember(
	state: unknown,
	fp: string,
	now: number,
	options: DedupOptions,
): { duplicate: boolean; state: PersistedDedupState } {
	const table = new Table(state, now, options);
	const duplicate = table.file(fp, table.nowSecond) === 'duplicate';
	return { duplicate, state: table.persisted({}) };
}

/** The persisted table as segments of buckets, changed one bucket (and so one segment) at a time. */
class Table {
	readonly nowSecond: number;
	private readonly windowSeconds: number;
	private readonly bucketCount: number;
	segments: string[];
	/** Whether `segments` is this table's own array yet: the loaded one belongs to n8n's copy of the state. */
	private owned = false;
	/** See {@link PersistedDedupState.legacyUntil}; 0 when the table holds no entries of 0.1.0. */
	readonly legacyUntil: number;

	constructor(state: unknown, now: number, options: DedupOptions) {
		this.bucketCount = bucketCountFor(options.capacity);
		this.nowSecond = Math.floor(now / 1000);
		this.windowSeconds = Math.ceil(options.windowMs / 1000);
		const usable = usableSegments(state, this.bucketCount, this.nowSecond, this.windowSeconds);
		this.segments = usable.segments;
		this.owned = usable.owned;
		this.legacyUntil = usable.fromVersion1 ? this.nowSecond + this.windowSeconds : legacyUntilOf(state);
	}

	/** The state to write back. */
	persisted(writer: { by?: string; seq?: number }): PersistedDedupState {
		const legacy = this.nowSecond < this.legacyUntil ? { legacyUntil: this.legacyUntil } : {};
		return { v: 2, t: this.segments, ...legacy, ...writer };
	}

	/** Whether a live entry for `fp` is in the table (nothing is filed). */
	holds(fp: string): boolean {
		const { high, low } = parseFingerprint(fp);
		const { bucket } = this.locate(high);
		return findOrChooseSlot(bucket, 0, high, low, this.nowSecond, this.windowSeconds).duplicate;
	}

	private locate(high: number): { segmentIndex: number; start: number; bucket: Buffer } {
		const bucketIndex = high % this.bucketCount;
		const segmentIndex = Math.floor(bucketIndex / SEGMENT_BUCKETS);
		const start = (bucketIndex % SEGMENT_BUCKETS) * BUCKET_CHARS;
		return { segmentIndex, start, bucket: decodeBucket(this.segments[segmentIndex].slice(start, start + BUCKET_CHARS)) };
	}

	/** Files a fingerprint first seen at `seenAt` (a Unix second) into its bucket, see {@link fileEntry}. */
	file(fp: string, seenAt: number): 'duplicate' | 'filed' | 'skipped' {
		const { high, low } = parseFingerprint(fp);
		const { segmentIndex, start, bucket } = this.locate(high);
		const segment = this.segments[segmentIndex];
		const outcome = fileEntry(bucket, 0, high, low, seenAt, this.nowSecond, this.windowSeconds);
		if (outcome === 'filed') {
			if (!this.owned) {
				this.segments = this.segments.slice();
				this.owned = true;
			}
			this.segments[segmentIndex] = segment.slice(0, start) + bucket.toString('base64') + segment.slice(start + BUCKET_CHARS);
		}
		return outcome;
	}
}

function parseFingerprint(fp: string): { high: number; low: number } {
	if (!FINGERPRINT_PATTERN.test(fp)) {
		throw new TypeError(`"${fp}" is not a fingerprint: pass the value returned by fingerprint()`);
	}
	return { high: parseInt(fp.slice(0, 8), 16), low: parseInt(fp.slice(8), 16) };
}

function bucketCountFor(capacity: number | undefined): number {
	const entries =
		capacity !== undefined && Number.isFinite(capacity) && capacity >= 1 ? capacity : DEFAULT_CAPACITY;
	return Math.ceil(Math.min(entries, MAX_CAPACITY) / WAYS);
}

/** The length of segment `index` of a table of `bucketCount` buckets: all full but perhaps the last. */
function segmentLength(index: number, bucketCount: number): number {
	return Math.min(bucketCount - index * SEGMENT_BUCKETS, SEGMENT_BUCKETS) * BUCKET_CHARS;
}

/** Whether `segments` are exactly a table of `bucketCount` buckets: the state as this version saved it. */
function fitsTable(segments: readonly unknown[], bucketCount: number): segments is string[] {
	if (segments.length !== Math.ceil(bucketCount / SEGMENT_BUCKETS)) return false;
	for (let i = 0; i < segments.length; i++) {
		const segment = segments[i];
		if (typeof segment !== 'string' || segment.length !== segmentLength(i, bucketCount)) return false;
	}
	return true;
}

/** Cuts a whole table's characters into segments. */
function toSegments(chars: string): string[] {
	const segments: string[] = [];
	for (let start = 0; start < chars.length; start += SEGMENT_CHARS) segments.push(chars.slice(start, start + SEGMENT_CHARS));
	return segments;
}

/**
 * The loaded state's segments when they fit this table (a wrong-length segment reads as empty buckets), a
 * version-1 table cut into segments, a table of another size re-filed, or an empty table. `owned`: the array
 * is a new one, not the loaded state's.
 */
function usableSegments(
	state: unknown,
	bucketCount: number,
	nowSecond: number,
	windowSeconds: number,
): { segments: string[]; owned: boolean; fromVersion1?: boolean } {
	if (typeof state !== 'object' || state === null) return emptySegments(bucketCount);
	const { v, t, table } = state as { v?: unknown; t?: unknown; table?: unknown };
	// The common case, checked first and without allocating: what this version saved, at this capacity.
	if (v === 2 && Array.isArray(t) && fitsTable(t, bucketCount)) return { segments: t, owned: false };
	let chars: string;
	if (v === 2 && Array.isArray(t) && t.every((segment) => typeof segment === 'string')) {
		const segments = t as string[];
		const wellFormed =
			segments.length > 0 &&
			segments.every((segment, i) => (i < segments.length - 1 ? segment.length === SEGMENT_CHARS : segment.length > 0 && segment.length % BUCKET_CHARS === 0));
		if (!wellFormed && segments.length === Math.ceil(bucketCount / SEGMENT_BUCKETS)) {
			// A segment of a wrong length is garbled: its buckets read as empty, the others are kept.
			const repaired = segments.map((segment, i) => (segment.length === segmentLength(i, bucketCount) ? segment : emptyTable(segmentLength(i, bucketCount))));
			return { segments: repaired, owned: true };
		}
		// Well formed for another capacity (re-filed below), or garbled beyond repair (an empty table).
		chars = wellFormed ? segments.join('') : '';
	} else if (v === 1 && typeof table === 'string') {
		chars = table;
	} else {
		return emptySegments(bucketCount);
	}
	if (chars.length === 0 || chars.length % BUCKET_CHARS !== 0) return emptySegments(bucketCount);
	const fromVersion1 = v === 1;
	if (chars.length === bucketCount * BUCKET_CHARS) return { segments: toSegments(chars), owned: true, fromVersion1 };
	return { segments: toSegments(refile(chars, bucketCount, nowSecond, windowSeconds)), owned: true, fromVersion1 };
}

function emptySegments(bucketCount: number): { segments: string[]; owned: boolean } {
	return { segments: toSegments(emptyTable(bucketCount * BUCKET_CHARS)), owned: true };
}

function legacyUntilOf(state: unknown): number {
	const value = typeof state === 'object' && state !== null ? (state as { legacyUntil?: unknown }).legacyUntil : undefined;
	return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function emptyTable(length: number): string {
	return 'A'.repeat(length);
}

/** Moves the live entries of a table of another size into one of `bucketCount` buckets. Runs once after a
 * capacity change; when shrinking, a bucket keeps its newest entries. */
function refile(table: string, bucketCount: number, nowSecond: number, windowSeconds: number): string {
	const target = Buffer.alloc(bucketCount * BUCKET_BYTES);
	for (let start = 0; start < table.length; start += BUCKET_CHARS) {
		const bucket = decodeBucket(table.slice(start, start + BUCKET_CHARS));
		for (let offset = 0; offset < BUCKET_BYTES; offset += ENTRY_BYTES) {
			const seenAt = bucket.readUInt32BE(offset + 8);
			if (!isLive(seenAt, nowSecond, windowSeconds)) continue;
			const high = bucket.readUInt32BE(offset);
			fileEntry(target, (high % bucketCount) * BUCKET_BYTES, high, bucket.readUInt32BE(offset + 4), seenAt, nowSecond, windowSeconds);
		}
	}
	return target.toString('base64');
}

/** A bucket's 48 bytes; a garbled substring (wrong characters or length) reads as an empty bucket. */
function decodeBucket(chars: string): Buffer {
	const bytes = Buffer.from(chars, 'base64');
	return bytes.length === BUCKET_BYTES ? bytes : Buffer.alloc(BUCKET_BYTES);
}

function isLive(seenAt: number, nowSecond: number, windowSeconds: number): boolean {
	return seenAt !== 0 && isWithinWindow(nowSecond - seenAt, windowSeconds);
}

/**
 * In the bucket at `base`: a live entry for the fingerprint makes a duplicate; otherwise the slot to write
 * is an empty or expired one (a fingerprint's own expired entry among them), else the oldest live one.
 */
function findOrChooseSlot(
	buffer: Buffer,
	base: number,
	high: number,
	low: number,
	nowSecond: number,
	windowSeconds: number,
): { duplicate: boolean; offset: number } {
	let victim = base;
	let victimRank = Infinity;
	for (let offset = base; offset < base + BUCKET_BYTES; offset += ENTRY_BYTES) {
		const seenAt = buffer.readUInt32BE(offset + 8);
		const live = isLive(seenAt, nowSecond, windowSeconds);
		if (live && buffer.readUInt32BE(offset) === high && buffer.readUInt32BE(offset + 4) === low) {
			return { duplicate: true, offset };
		}
		const rank = live ? seenAt : -1;
		if (rank < victimRank) {
			victim = offset;
			victimRank = rank;
		}
	}
	return { duplicate: false, offset: victim };
}

/**
 * Files an entry first seen at `seenAt` (a Unix second) into the bucket at `base`: 'duplicate' when the
 * bucket holds it live already, 'skipped' when the bucket is full of newer entries (it would be forgotten
 * first), else 'filed' over an empty, expired or the oldest slot.
 */
function fileEntry(
	buffer: Buffer,
	base: number,
	high: number,
	low: number,
	seenAt: number,
	nowSecond: number,
	windowSeconds: number,
): 'duplicate' | 'filed' | 'skipped' {
	const slot = findOrChooseSlot(buffer, base, high, low, nowSecond, windowSeconds);
	if (slot.duplicate) return 'duplicate';
	const replaced = buffer.readUInt32BE(slot.offset + 8);
	if (isLive(replaced, nowSecond, windowSeconds) && replaced > seenAt) return 'skipped';
	buffer.writeUInt32BE(high, slot.offset);
	buffer.writeUInt32BE(low, slot.offset + 4);
	buffer.writeUInt32BE(seenAt, slot.offset + 8);
	return 'filed';
}
