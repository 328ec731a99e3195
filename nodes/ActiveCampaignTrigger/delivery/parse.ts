// A declared runtime dependency (package.json): qs reads PHP-style bracket keys (`contact[fields][39]`) into
// nested objects with the depth, parameter and prototype controls below; n8n's own webhook parsing gives only
// flat keys, and no library n8n allows community nodes parses them. The common shapes are read by the node's
// own one-pass reader, held to qs's result (readBracketKeys); qs reads every other body.
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports
import * as qs from 'qs';

/**
 * Turns the raw body of one delivery into a nested object, or says why it cannot (with the HTTP status
 * to answer). ActiveCampaign posts `application/x-www-form-urlencoded` bodies with PHP-style bracket keys
 * (`contact[fields][39]=...`); JSON is accepted too, for custom-object webhooks and replays.
 *
 * Nothing is dropped or truncated silently: ActiveCampaign puts no limit on a field's length and accounts
 * have hundreds of custom fields, so a body either parses whole or is refused with a reason naming the
 * limit. `qs` on its own would silently drop parameters past `parameterLimit`, flatten keys past `depth`
 * and skip keys it considers dangerous; each of those is turned into an explicit refusal here.
 */

export interface ParseLimits {
	/** Largest body accepted, in bytes. */
	maxBytes: number;
	/** Most `&`-separated parameters in a form body, or scalar values in a JSON body. */
	maxParameters: number;
	/** Most bracket levels below a top-level key: `deal[fields][0][value][0]` is 4. */
	maxDepth: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = {
	maxBytes: 4 * 1024 * 1024,
	maxParameters: 10_000,
	// ActiveCampaign's deepest real key is 4 levels (`deal[fields][0][value][0]`); 8 leaves room.
	maxDepth: 8,
};

export type ParseResult =
	/**
	 * `pairs`: a form body's decoded keys and values in body order, `[key, value, key, value, …]`.
	 * `asSent`: only when decoding kept or replaced something it could not read (bytes that are not UTF-8, a
	 * percent escape that is not), so that two different bodies may decode alike: the body as sent (bytes as
	 * Latin-1), which the fingerprint is then taken of.
	 */
	| { ok: true; body: Record<string, unknown>; pairs?: string[]; asSent?: string }
	| { ok: false; status: 400 | 413 | 415; reason: string };

type Refusal = Extract<ParseResult, { ok: false }>;

function refuse(status: Refusal['status'], reason: string): Refusal {
	return { ok: false, status, reason };
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

class RefusedKeyError extends Error {}

/**
 * A key that would let a later naive deep merge reach `Object.prototype`: any `__proto__` segment, or
 * `constructor` followed by `prototype`. ActiveCampaign never sends either; refusing them (instead of
 * letting `qs` drop `__proto__` silently) keeps the "nothing silently dropped" promise.
 */
function isPollutingPath(segments: readonly string[]): boolean {
	for (let i = 0; i < segments.length; i++) {
		if (segments[i] === '__proto__') return true;
		if (segments[i] === 'constructor' && segments[i + 1] === 'prototype') return true;
	}
	return false;
}

function isPollutingKey(key: string): boolean {
	if (!key.includes('__proto__') && !key.includes('prototype')) return false;
	return isPollutingPath(key.split(/[[\]]/).filter((segment) => segment !== ''));
}

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/** What qs does to a form body before splitting it: encoded brackets, in keys and values alike, become brackets. */
function literalBrackets(text: string): string {
	return text.includes('%') ? text.replace(/%5B/gi, '[').replace(/%5D/gi, ']') : text;
}

/**
 * Decodes one key or value: `+` is a space, percent escapes are UTF-8. qs's own decoder leaves the whole
 * value undecoded when one escape is malformed (`100%25 sure %ZZ`); here each run of escapes that is not
 * valid UTF-8 is kept as written and the rest still decodes (`100% sure %ZZ`), so nothing is lost. In such a
 * run an encoded bracket is read as a bracket (`%E2%5B` → `%E2[`), as qs reads a body's brackets before
 * decoding it: a key reads the same whichever path (the reader, qs, PHP's `[]` numbering) decodes it.
 */
function decodeComponent(encoded: string): string {
	const text = encoded.includes('+') ? encoded.replace(/\+/g, ' ') : encoded;
	if (!text.includes('%')) return text;
	try {
		return decodeURIComponent(text);
	} catch {
		keptEscapes = true;
		// Run by run as qs would see the text: with encoded brackets already read as brackets (literalBrackets)
		return literalBrackets(text).replace(PERCENT_RUN, (run) => {
			try {
				return decodeURIComponent(run);
			} catch {
				return run;
			}
		});
	}
}

/**
 * Whether the form body being read kept a `%` as written (a run of escapes that is not UTF-8, or a `%` that
 * starts none): `%E9` and `%25E9`, or `%ZZ` and `%25ZZ`, then read alike.
 */
let keptEscapes = false;

/** The pairs of the form body qs is parsing now (qs parses synchronously, one body at a time). */
let decodedPairs: string[] = [];
const NO_PAIRS: string[] = [];

/** qs decodes each part's key, then its value when it has one: the pairs are collected as they go by. */
const formDecoder = (encoded: string, _default: unknown, _charset: unknown, type: 'key' | 'value'): string => {
	const decoded = decodeComponent(encoded);
	if (type === 'key') {
		if (isPollutingKey(decoded)) throw new RefusedKeyError(`key "${truncate(decoded)}" could reach Object.prototype`);
		decodedPairs.push(decoded, '');
	} else {
		decodedPairs[decodedPairs.length - 1] = decoded;
	}
	return decoded;
};

function truncate(text: string, length = 60): string {
	return text.length > length ? `${text.slice(0, length)}…` : text;
}

function countParameters(text: string): number {
	let count = 1;
	for (let at = text.indexOf('&'); at !== -1; at = text.indexOf('&', at + 1)) count++;
	return count;
}

function parseForm(text: string, limits: ParseLimits): ParseResult {
	// Counted the way qs splits (every `&`-separated part, empty ones included), so a body within the
	// limit is never cut short by qs's own parameterLimit.
	const parameters = countParameters(text);
	if (parameters > limits.maxParameters) {
		return refuse(413, `Body has ${parameters} parameters, over the limit of ${limits.maxParameters} (maxParameters)`);
	}
	keptEscapes = false;
	const read = readBracketKeys(text, limits.maxDepth);
	const result: ParseResult = read === undefined ? parseFormWithQs(text, limits) : { ok: true, ...read };
	return result.ok && keptEscapes ? { ...result, asSent: text } : result;
}

/**
 * Reads a form body whose keys all have the shapes ActiveCampaign sends, in one pass: a name (whatever comes
 * before the first `[`), then at most `maxDepth` `[segment]`s, each segment non-empty and free of brackets,
 * and no key both a value and a container of others. The result is exactly what {@link parseFormWithQs} gives
 * the same body (the same splitting, decoding, nesting and repeated keys; `test/formReaders.test.ts` holds the
 * two to it over generated bodies) for a fraction of qs's time and allocation: qs builds and merges a small
 * object tree per parameter, a cost that matters to a node answering inside n8n's request. Anything else (`[]`, an
 * unbalanced bracket, a key that could reach `Object.prototype`, a key deeper than the limit) returns
 * `undefined`, and qs reads the body with the checks that refuse or number such keys.
 */
export function readBracketKeys(
	text: string,
	maxDepth: number,
): { body: Record<string, unknown>; pairs: string[] } | undefined {
	const body: Record<string, unknown> = {};
	const pairs: string[] = [];
	// qs reads nothing, not even an empty key, from an empty string
	if (text === '') return { body, pairs };
	for (let start = 0; start <= text.length; ) {
		let end = text.indexOf('&', start);
		if (end === -1) end = text.length;
		let part = text.slice(start, end);
		start = end + 1;
		// qs splits a part at its first `]=` (a bracketed key may hold `=`), else at its first `=`, after
		// reading encoded brackets as brackets. With one `=` in the part both are that `=`; decoding reads
		// `%5B` as `[` anyway (and decodeComponent's fallback does as qs does).
		let equals = part.indexOf('=');
		if (equals !== -1 && part.includes('=', equals + 1)) {
			part = literalBrackets(part);
			const bracketEquals = part.indexOf(']=');
			equals = bracketEquals === -1 ? part.indexOf('=') : bracketEquals + 1;
		}
		const key = decodeComponent(equals === -1 ? part : part.slice(0, equals));
		const value = equals === -1 ? '' : decodeComponent(part.slice(equals + 1));
		pairs.push(key, value);
		// qs skips a part with an empty key, after decoding it
		if (key === '') continue;
		if (isPollutingKey(key) || !place(body, key, value, maxDepth)) return undefined;
	}
	return { body, pairs };
}

/**
 * Puts one value at its key's place in `body`, creating the containers on its way; false (and `body` is
 * then left half-built) for a key of a shape {@link readBracketKeys} leaves to qs.
 */
function place(body: Record<string, unknown>, key: string, value: string, maxDepth: number): boolean {
	let open = key.indexOf('[');
	if (open === 0) return false;
	let container = body;
	let name = open === -1 ? key : key.slice(0, open);
	for (let depth = 0; open !== -1; depth++) {
		const close = key.indexOf(']', open + 1);
		if (close === -1 || close === open + 1 || depth === maxDepth) return false;
		// The next `[` must open the next segment right after this one closes, or there is none.
		const nextOpen = key.indexOf('[', open + 1);
		if (nextOpen !== -1 && nextOpen !== close + 1) return false;
		if (nextOpen === -1 && close + 1 < key.length) return false;
		// Containers and values are only ever objects, strings and arrays: a function is inherited from
		// Object.prototype (`toString`), so the name is still free here.
		let child = container[name];
		if (child === undefined || typeof child === 'function') {
			child = {};
			container[name] = child;
		} else if (typeof child !== 'object' || Array.isArray(child)) {
			return false;
		}
		container = child as Record<string, unknown>;
		name = key.slice(open + 1, close);
		open = nextOpen;
	}
	const existing = container[name];
	if (existing === undefined || typeof existing === 'function') container[name] = value;
	else if (typeof existing === 'string') container[name] = [existing, value];
	else if (Array.isArray(existing)) existing.push(value);
	else return false;
	return true;
}

/**
 * Reads any form body with qs. It refuses keys that could reach `Object.prototype` and keys deeper than the
 * limit, and numbers PHP's `[]` elements; {@link readBracketKeys} reads the common shapes faster.
 */
export function parseFormWithQs(text: string, limits: ParseLimits): ParseResult {
	const pairs: string[] = [];
	decodedPairs = pairs;
	try {
		const appended = EMPTY_BRACKETS.test(text) ? numberEmptyBrackets(text, limits.maxDepth) : undefined;
		const body = qs.parse(appended?.text ?? text, {
			// Keeps keys such as `constructor` or `toString` (possible personalisation tags in automation
			// webhooks) as own data properties; by default qs drops them silently. The keys that could
			// reach Object.prototype are refused by formDecoder, and qs never assigns `__proto__`.
			allowPrototypes: true,
			// Numeric keys stay object keys: `contact[fields][39]` keeps the field id 39, where qs's arrays
			// would compact them and lose the ids (`[]` was numbered above). A repeated key is still a list of
			// its values. (Its other way to keep ids, `arrayLimit: -1`, tracks every numeric key in a WeakMap:
			// a third of the parse for 200 custom fields.)
			parseArrays: false,
			// However often a key repeats: without this, past 20 values qs would turn the list into an object
			// (maxParameters bounds the count).
			arrayLimit: Infinity,
			depth: limits.maxDepth,
			strictDepth: true,
			parameterLimit: Infinity,
			decoder: formDecoder,
		});
		for (const path of appended?.lists ?? []) toArray(body, path);
		return { ok: true, body, pairs };
	} catch (error) {
		if (error instanceof RefusedKeyError) {
			return refuse(400, `Refused body: ${error.message}`);
		}
		if (error instanceof RangeError && /depth/i.test(error.message)) {
			return refuse(400, `A key nests deeper than ${limits.maxDepth} bracket levels (maxDepth)`);
		}
		return refuse(400, 'Malformed form body');
	} finally {
		// The last body's text is not kept alive by the module.
		decodedPairs = NO_PAIRS;
	}
}

/** `[]` in a key, written or percent-encoded (either case). */
const EMPTY_BRACKETS = /\[\]|%5B%5D/i;

/**
 * ActiveCampaign's bodies follow PHP's form encoding, where every `[]` in a key starts a new element:
 * `list[][id]=3&list[][id]=5` is `[{ id: "3" }, { id: "5" }]`. qs reads that as `{ id: { 0: "3", 1: "5" } }`,
 * so each `[]` is numbered first (`list[0][id]`, `list[1][id]`, counted per prefix the way PHP appends), and
 * the containers it numbered become arrays after parsing. Keys without `[]` are passed on as written.
 */
function numberEmptyBrackets(text: string, maxDepth: number): { text: string; lists: string[][] } {
	const counters = new Map<string, number>();
	const lists = new Map<string, string[]>();
	const parts = text.split('&').map((part) => {
		const equals = part.indexOf('=');
		const rawKey = equals === -1 ? part : part.slice(0, equals);
		if (!EMPTY_BRACKETS.test(rawKey)) return part;
		let numbered = '';
		let rest = decodeComponent(rawKey);
		// Refused before numbering, which costs more per `[]` the longer the key: a few kilobytes of `[]` in
		// one key would otherwise hold the process for seconds (qs refuses such keys, but only after this).
		if (bracketCount(rest) > maxDepth) throw new RangeError('Input depth exceeded the depth option');
		for (let at = rest.indexOf('[]'); at > 0 || (at === 0 && numbered !== ''); at = rest.indexOf('[]')) {
			const prefix = numbered + rest.slice(0, at);
			const index = counters.get(prefix) ?? 0;
			counters.set(prefix, index + 1);
			if (!lists.has(prefix)) lists.set(prefix, segmentsOf(prefix));
			numbered = `${prefix}[${index}]`;
			rest = rest.slice(at + 2);
		}
		return encodeURIComponent(numbered + rest) + (equals === -1 ? '' : part.slice(equals));
	});
	return { text: parts.join('&'), lists: [...lists.values()] };
}

function bracketCount(key: string): number {
	let count = 0;
	for (let at = key.indexOf('['); at !== -1; at = key.indexOf('[', at + 1)) count++;
	return count;
}

/** `list[0][b]` → `["list", "0", "b"]`, the way qs splits a key. */
function segmentsOf(key: string): string[] {
	const open = key.indexOf('[');
	if (open === -1) return [key];
	return [key.slice(0, open), ...Array.from(key.slice(open).matchAll(/\[([^[\]]*)\]/g), (match) => match[1])];
}

/** Turns the object at `path` into an array when its keys are exactly 0, 1, 2, … (as numbered above). */
function toArray(body: Record<string, unknown>, path: readonly string[]): void {
	let parent: Record<string, unknown> | undefined;
	let node: unknown = body;
	for (const segment of path) {
		if (typeof node !== 'object' || node === null) return;
		parent = node as Record<string, unknown>;
		node = parent[segment];
	}
	if (parent === undefined || typeof node !== 'object' || node === null || Array.isArray(node)) return;
	const keys = Object.keys(node);
	if (!keys.every((key, index) => key === String(index))) return;
	parent[path[path.length - 1]] = keys.map((key) => (node as Record<string, unknown>)[key]);
}

type JsonCheck = { parameters: number; refusal?: Refusal };

/**
 * Whether JSON text opens more than `maxOpen` nested objects/arrays at once. JSON.parse takes seconds on a
 * few MiB of `[[[[...`, so depth is checked on the text, before parsing. `{"a":{"b":1}}` opens 2 at most
 * and is depth 1, like `a[b]=1`.
 */
function jsonNestsDeeperThan(text: string, maxOpen: number): boolean {
	let open = 0;
	let inString = false;
	for (let i = 0; i < text.length; i++) {
		const char = text[i];
		if (inString) {
			if (char === '\\') i++;
			else if (char === '"') inString = false;
		} else if (char === '"') {
			inString = true;
		} else if (char === '{' || char === '[') {
			if (++open > maxOpen) return true;
		} else if (char === '}' || char === ']') {
			open--;
		}
	}
	return false;
}

/** One walk over a parsed JSON body: scalar count and polluting keys. It stops at the first problem. */
function checkJson(container: object, limits: ParseLimits, state: JsonCheck): void {
	const record = container as Record<string, unknown>;
	for (const key of Object.keys(record)) {
		const child = record[key];
		const isContainer = typeof child === 'object' && child !== null;
		if (key === '__proto__' || (key === 'constructor' && isContainer && 'prototype' in child)) {
			state.refusal = refuse(400, `Refused body: key "${key}" could reach Object.prototype`);
			return;
		}
		if (isContainer) {
			checkJson(child, limits, state);
			if (state.refusal !== undefined) return;
		} else if (++state.parameters > limits.maxParameters) {
			state.refusal = refuse(413, `Body has more than ${limits.maxParameters} values (maxParameters)`);
			return;
		}
	}
}

function describeJson(value: unknown): string {
	if (Array.isArray(value)) return 'an array';
	if (value === null) return 'null';
	return `a ${typeof value}`;
}

function parseJson(text: string, limits: ParseLimits): ParseResult {
	if (jsonNestsDeeperThan(text, limits.maxDepth + 1)) {
		return refuse(400, `A value nests deeper than ${limits.maxDepth} levels (maxDepth)`);
	}
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		// V8 quotes a piece of the body in some messages (`…, ..."{"email": jane@…"... is not valid JSON`): personal
		// data, for n8n's log and the answer. The rest of the message says enough.
		const message = (error as Error).message.replace(/, (\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '');
		return refuse(400, `Malformed JSON body: ${truncate(message, 100)}`);
	}
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		return refuse(400, `JSON body must be an object, got ${describeJson(value)}`);
	}
	const state: JsonCheck = { parameters: 0 };
	checkJson(value, limits, state);
	return state.refusal ?? { ok: true, body: value as Record<string, unknown> };
}

type MediaType = { kind: 'form' | 'json' } | { kind: 'unsupported'; reason: string };

/** A missing Content-Type is read as a form body: that is what ActiveCampaign sends. */
function readContentType(contentType: string | undefined): MediaType {
	if (contentType === undefined || contentType.trim() === '') return { kind: 'form' };
	const [essence, ...parameters] = contentType.split(';');
	const mediaType = essence.trim().toLowerCase();
	for (const parameter of parameters) {
		const [name, rawValue = ''] = parameter.split('=');
		const value = rawValue.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
		if (name.trim().toLowerCase() === 'charset' && value !== 'utf-8' && value !== 'utf8' && value !== 'us-ascii') {
			return { kind: 'unsupported', reason: `Unsupported charset "${truncate(value, 30)}": only UTF-8 bodies are read` };
		}
	}
	if (mediaType === FORM) return { kind: 'form' };
	if (mediaType === JSON_TYPE || mediaType.endsWith('+json')) return { kind: 'json' };
	return {
		kind: 'unsupported',
		reason: `Unsupported Content-Type "${truncate(mediaType, 60)}": expected ${FORM} or ${JSON_TYPE}`,
	};
}

function resolveLimits(overrides: Partial<ParseLimits> | undefined): ParseLimits {
	if (overrides === undefined) return DEFAULT_PARSE_LIMITS;
	const limits = { ...DEFAULT_PARSE_LIMITS, ...overrides };
	for (const [name, value] of Object.entries(limits)) {
		if (!Number.isInteger(value) || value < 1) {
			throw new RangeError(`Parse limit ${name} must be a positive integer, got ${String(value)}`);
		}
	}
	return limits;
}

/**
 * Parses one delivery body. Limits default to {@link DEFAULT_PARSE_LIMITS}; an invalid limit (not a
 * positive integer) is a programming error and throws.
 */
export function parseDeliveryBody(
	rawBody: Buffer | string,
	contentType: string | undefined,
	limits?: Partial<ParseLimits>,
): ParseResult {
	const resolved = resolveLimits(limits);
	const mediaType = readContentType(contentType);
	if (mediaType.kind === 'unsupported') return refuse(415, mediaType.reason);

	const bytes = typeof rawBody === 'string' ? Buffer.byteLength(rawBody, 'utf8') : rawBody.length;
	if (bytes > resolved.maxBytes) {
		return refuse(413, `Body is ${bytes} bytes, over the limit of ${resolved.maxBytes} (maxBytes)`);
	}
	const decoded = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
	// A byte-order mark is no part of a form's first key, nor of JSON.
	const text = decoded.charCodeAt(0) === 0xfeff ? decoded.slice(1) : decoded;
	if (text.trim() === '') return refuse(400, 'Empty body');

	const result = mediaType.kind === 'form' ? parseForm(text, resolved) : parseJson(text, resolved);
	// Bytes that are not UTF-8 each became U+FFFD: the body as sent tells such bodies apart.
	if (result.ok && typeof rawBody !== 'string' && text.includes('\uFFFD') && !isUtf8(rawBody)) {
		return { ...result, asSent: rawBody.toString('latin1') };
	}
	return result;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(bytes: Buffer): boolean {
	try {
		strictUtf8.decode(bytes);
		return true;
	} catch {
		return false;
	}
}
