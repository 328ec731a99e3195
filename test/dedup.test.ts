import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { IDataObject } from 'n8n-workflow';
import { parse } from 'qs';

import { parseDeliveryBody } from '../nodes/ActiveCampaignTrigger/delivery/parse';

import {
	checkAndRemember,
	claimInProcess,
	DEFAULT_CAPACITY,
	DEFAULT_WINDOW_MS,
	fingerprint,
	formFingerprint,
	IN_PROCESS_CLAIM_LIMIT,
	RECENT_CLAIM_LIMIT,
	recordDelivery,
	type DedupOptions,
	type PersistedDedupState,
} from '../nodes/ActiveCampaignTrigger/delivery/dedup';

const HOUR = 60 * 60 * 1000;
const T0 = Date.UTC(2024, 4, 14, 9, 21, 7);
const defaults = { windowMs: DEFAULT_WINDOW_MS };

/** A table of `buckets` buckets holds the fingerprint `hex8(high) + hex8(low)` in bucket `high % buckets`. */
const fpIn = (high: number, low: number): string =>
	high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');

/** The first 64 bits of a text's sha256, in hex: what `fingerprint` returns for the canonical form `text`. */
const sha256Prefix = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** Distinct, evenly spread fingerprints without paying for a hash each. */
const syntheticFp = (i: number): string => fpIn(Math.imul(i, 0x9e3779b1) >>> 0, i);

/** Feeds fingerprints in order, one second apart from T0, and returns the final state. */
/** The whole table of a persisted state, its segments joined. */
const tableOf = (state: PersistedDedupState): string => state.t.join('');

function rememberAll(fps: string[], options: DedupOptions): PersistedDedupState {
	let current: unknown;
	fps.forEach((fp, i) => {
		current = checkAndRemember(current, fp, T0 + i * 1000, options).state;
	});
	return current as PersistedDedupState;
}

/** A form body's fingerprint as the node takes it: from the pairs its parser collected. */
function formFp(body: string): string {
	const parsed = parseDeliveryBody(body, 'application/x-www-form-urlencoded');
	if (!parsed.ok || parsed.pairs === undefined) throw new Error(`not a parsed form: ${body}`);
	return formFingerprint(parsed.pairs);
}

describe('formFingerprint', () => {
	it('hashes the decoded pairs ordered by key as <length>:<key><length>:<value>, first 64 bits of sha256 in hex', () => {
		expect(formFp('b=x+y&a%5Bc%5D=1')).toBe(sha256Prefix('form4:a[c]1:11:b3:x y'));
	});

	it.each([
		['percent-encoded or literal brackets', 'contact%5Bemail%5D=jane%40example.com&type=update', 'contact[email]=jane@example.com&type=update'],
		['+ or %20 for a space', 'contact[first_name]=Mary+Ann&type=update', 'contact[first_name]=Mary%20Ann&type=update'],
		['upper- or lower-case escapes', 'contact%5Bemail%5D=jane%C3%A9%40example.com', 'contact%5bemail%5d=jane%c3%a9%40example.com'],
		['an empty value written with or without =', 'a=&b=1', 'a&b=1'],
		['parameters in another order', 'type=update&contact[id]=1234&list=0', 'list=0&type=update&contact[id]=1234'],
		['a trailing &', 'type=update&list=0', 'type=update&list=0&'],
	])('is the same for %s', (_, one, other) => {
		expect(formFp(one)).toBe(formFp(other));
	});

	it.each([
		['a value', 'type=update&list=0', 'type=update&list=1'],
		['the order of a repeated key (an array)', 'tags[]=a&tags[]=b', 'tags[]=b&tags[]=a'],
		['where a key ends and its value starts', 'ab=c', 'a=bc'],
		['a key that appears once more', 'a=1', 'a=1&a=1'],
	])('differs by %s', (_, one, other) => {
		expect(formFp(one)).not.toBe(formFp(other));
	});

	it('gives a body the same fingerprint after a body with the same keys in the same order (its key order reused)', () => {
		const first = 'type=update&contact[id]=1&list=0';
		const second = 'type=update&contact[id]=2&list=0';
		const alone = formFp(second);
		formFp('z=1&a=2'); // another key order in between

		expect(formFp(first)).toBe(sha256Prefix('form11:contact[id]1:14:list1:04:type6:update'));
		expect(formFp(second)).toBe(alone);
		expect(formFp(second)).toBe(sha256Prefix('form11:contact[id]1:24:list1:04:type6:update'));
		expect(formFp('list=0&type=update&contact[id]=2')).toBe(alone);
	});

	it('takes the pairs the parser collected, decoded, in body order', () => {
		const parsed = parseDeliveryBody('contact[fields][2]=b&contact[fields][1]=a&contact[email]=x&type=update', undefined);
		expect(parsed.ok && parsed.pairs).toEqual(['contact[fields][2]', 'b', 'contact[fields][1]', 'a', 'contact[email]', 'x', 'type', 'update']);
	});
});

describe('fingerprint', () => {
	it('hashes the canonical form: sorted keys, JSON-quoted strings, first 64 bits of sha256 in hex', () => {
		expect(fingerprint({ b: ['x', { c: '2' }], a: '1' })).toBe(sha256Prefix('{"a":"1","b":["x",{"c":"2"}]}'));
	});

	it('is the same whatever the order of keys, at every depth', () => {
		const one = { type: 'update', contact: { id: '1234', email: 'jane@example.com', fields: { a: '1', b: '2' } } };
		const other = {
			contact: { fields: { b: '2', a: '1' }, email: 'jane@example.com', id: '1234' },
			type: 'update',
		};

		expect(fingerprint(one)).toBe(fingerprint(other));
	});

	it('is the same for a delivery whose form fields arrive in another order', () => {
		const sent = 'type=update&contact%5Bid%5D=1234&contact%5Bemail%5D=jane%40example.com&list=0';
		const resent = 'list=0&contact%5Bemail%5D=jane%40example.com&type=update&contact%5Bid%5D=1234';

		expect(fingerprint(parse(resent))).toBe(fingerprint(parse(sent)));
	});

	it('differs when a top-level value differs', () => {
		expect(fingerprint({ type: 'update', list: '0' })).not.toBe(fingerprint({ type: 'update', list: '1' }));
	});

	it('differs when a nested value differs', () => {
		expect(fingerprint({ contact: { tags: ['a', 'b'] } })).not.toBe(fingerprint({ contact: { tags: ['a', 'c'] } }));
	});

	it('is the same for numeric-key objects built in another order', () => {
		const built = { fields: {} as Record<string, string> };
		built.fields['39'] = 'b';
		built.fields['12'] = 'a';

		expect(fingerprint(built)).toBe(fingerprint({ fields: { '12': 'a', '39': 'b' } }));
	});

	it('differs when a value under a numeric key differs', () => {
		expect(fingerprint({ fields: { '12': 'a', '39': 'b' } })).not.toBe(
			fingerprint({ fields: { '12': 'a', '39': 'c' } }),
		);
	});

	it('differs when a numeric key differs', () => {
		expect(fingerprint({ fields: { '12': 'a' } })).not.toBe(fingerprint({ fields: { '13': 'a' } }));
	});

	it('tells an array from an object with numeric keys', () => {
		expect(fingerprint({ tags: ['a'] })).not.toBe(fingerprint({ tags: { '0': 'a' } }));
	});

	it('tells a number from its string', () => {
		expect(fingerprint({ id: 1 })).not.toBe(fingerprint({ id: '1' }));
	});

	it('cannot be fooled by quotes and separators inside a value', () => {
		expect(fingerprint({ a: 'x', b: 'y' })).not.toBe(fingerprint({ a: 'x","b":"y' }));
	});

	it('quotes strings as JSON does, escapes included', () => {
		expect(fingerprint({ a: 'say "hi"\n' })).toBe(sha256Prefix('{"a":"say \\"hi\\"\\n"}'));
	});

	it('tells a lone surrogate from the replacement character that UTF-8 would turn it into', () => {
		expect(fingerprint({ a: '\ud800' })).not.toBe(fingerprint({ a: '\ufffd' }));
	});

	it('hashes JSON\'s serialisation with the keys sorted at every level, for any JSON body', () => {
		// Any code point, lone surrogates included, with the characters JSON escapes made frequent.
		const codePoint = fc.integer({ min: 0, max: 0x10ffff }).map((code) => String.fromCodePoint(code));
		const unit = fc.oneof(fc.constantFrom('"', '\\', '\n', '\u0000', '\ud800', '\udfff'), codePoint);
		const value = fc.jsonValue({ stringUnit: unit, maxDepth: 3 });
		const body = fc.dictionary(fc.string({ unit }), value, { maxKeys: 8 });
		/** JSON.stringify writes an object's keys in the order of an allowlist array, at every depth. */
		const sortedJson = (value: unknown): string => {
			const keys = new Set<string>();
			const collect = (node: unknown): void => {
				if (typeof node !== 'object' || node === null) return;
				for (const [key, child] of Object.entries(node)) {
					if (!Array.isArray(node)) keys.add(key);
					collect(child);
				}
			};
			collect(value);
			return JSON.stringify(value, [...keys].sort());
		};

		fc.assert(
			fc.property(body, (generated) => {
				expect(fingerprint(generated)).toBe(sha256Prefix(sortedJson(generated)));
			}),
		);
	});

	it('rejects a value no parser produces', () => {
		expect(() => fingerprint({ a: Symbol('a') })).toThrow(TypeError);
	});
});

describe('checkAndRemember', () => {
	const fp = fingerprint({ type: 'subscribe', contact: { id: '1234' } });
	const otherFp = fingerprint({ type: 'subscribe', contact: { id: '5678' } });

	it('lets the first delivery through', () => {
		expect(checkAndRemember(undefined, fp, T0, defaults).duplicate).toBe(false);
	});

	it('answers a second identical delivery as a duplicate', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);

		expect(checkAndRemember(first.state, fp, T0 + 1000, defaults).duplicate).toBe(true);
	});

	it('lets a different body through', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);

		expect(checkAndRemember(first.state, otherFp, T0 + 1000, defaults).duplicate).toBe(false);
	});

	it('still answers a duplicate one second before the window ends', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);

		expect(checkAndRemember(first.state, fp, T0 + HOUR - 1000, defaults).duplicate).toBe(true);
	});

	it('lets an identical body through once the window has passed', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);

		expect(checkAndRemember(first.state, fp, T0 + HOUR, defaults).duplicate).toBe(false);
	});

	it('counts the window from the first delivery, not from the duplicates', () => {
		let state = checkAndRemember(undefined, fp, T0, defaults).state;
		state = checkAndRemember(state, fp, T0 + HOUR / 2, defaults).state;

		expect(checkAndRemember(state, fp, T0 + HOUR, defaults).duplicate).toBe(false);
	});

	it('lets a delivery through when the clock went back before the remembered time', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);

		expect(checkAndRemember(first.state, fp, T0 - 1000, defaults).duplicate).toBe(false);
	});

	it('remembers across a restart (a JSON round trip of the state)', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);
		const reloaded: unknown = JSON.parse(JSON.stringify(first.state));

		expect(checkAndRemember(reloaded, fp, T0 + 1000, defaults).duplicate).toBe(true);
	});

	it('returns a state that n8n can keep as static data', () => {
		const { state } = checkAndRemember(undefined, fp, T0, defaults);
		const staticData: IDataObject = { dedup: state };

		expect(JSON.parse(JSON.stringify(staticData))).toEqual({ dedup: state });
	});

	it('applies a changed window to what it already remembers', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);

		expect(checkAndRemember(first.state, fp, T0 + 2 * HOUR, { windowMs: 3 * HOUR }).duplicate).toBe(true);
	});

	it('keeps what it remembers when the capacity changes', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);
		const resized = checkAndRemember(first.state, otherFp, T0 + 1000, { windowMs: HOUR, capacity: 100 });

		expect(checkAndRemember(resized.state, fp, T0 + 2000, { windowMs: HOUR, capacity: 100 }).duplicate).toBe(true);
	});

	it('rebuilds the table at the new size when the capacity changes', () => {
		const first = checkAndRemember(undefined, fp, T0, defaults);

		expect(tableOf(checkAndRemember(first.state, otherFp, T0, { windowMs: HOUR, capacity: 100 }).state)).toHaveLength(
			25 * 64,
		);
	});

	it('keeps the newest entries of a bucket when shrinking to it', () => {
		// In 2 buckets the oldest, fpIn(1, 1), sits alone in bucket 1 and the 4 newer ones fill bucket 0.
		const fps = [1, 2, 4, 6, 8].map((i) => fpIn(i, i));
		const large = rememberAll(fps, { windowMs: HOUR, capacity: 8 });
		const shrunk = checkAndRemember(large, fps[4], T0 + 10_000, { windowMs: HOUR, capacity: 4 }).state;
		const answers = fps.map(
			(one) => checkAndRemember(shrunk, one, T0 + 11_000, { windowMs: HOUR, capacity: 4 }).duplicate,
		);

		expect(answers).toEqual([false, true, true, true, true]);
	});

	it('rounds the capacity up to whole buckets of 4', () => {
		expect(tableOf(checkAndRemember(undefined, fp, T0, { windowMs: HOUR, capacity: 10 }).state)).toHaveLength(3 * 64);
	});

	it('holds 2,000 entries by default in a table of 500 buckets of 64 base64 characters, in 20 segments', () => {
		expect(DEFAULT_CAPACITY).toBe(2000);
		const { state } = checkAndRemember(undefined, fp, T0, defaults);
		expect(tableOf(state)).toHaveLength(32_000);
		expect(state.t.map((segment) => segment.length)).toEqual(Array.from({ length: 20 }, () => 1600));
	});

	it('rebuilds only the segment of the bucket it files into, and shares the others with the loaded state', () => {
		const before = checkAndRemember(undefined, fpIn(0, 1), T0, defaults).state;
		const after = checkAndRemember(before, fpIn(499, 1), T0 + 1000, defaults).state;
		expect(after.t).not.toBe(before.t);
		expect(after.t.filter((segment, i) => segment !== before.t[i]).length).toBe(1);
		expect(after.t[19]).not.toBe(before.t[19]);
		// A duplicate changes nothing.
		expect(checkAndRemember(after, fpIn(499, 1), T0 + 2000, defaults).state.t).toBe(after.t);
	});

	it('keeps its JSON form at 32,073 characters (<= 32 KB) after 1,000,000 distinct events', () => {
		let state: unknown;
		for (let i = 0; i < 1_000_000; i++) {
			state = checkAndRemember(state, syntheticFp(i), T0 + i * 10, defaults).state;
		}
		const size = JSON.stringify(state).length;

		expect(size).toBe(32_073);
		expect(size).toBeLessThanOrEqual(32_768);
	}, 60_000);

	it('forgets the oldest entry of a full bucket and keeps the newest', () => {
		const fps = [1, 2, 3, 4, 5].map((i) => fpIn(i, i));
		const state = rememberAll(fps, { windowMs: HOUR, capacity: 4 });
		const answers = fps.map(
			(one) => checkAndRemember(state, one, T0 + 10_000, { windowMs: HOUR, capacity: 4 }).duplicate,
		);

		expect(answers).toEqual([false, true, true, true, true]);
	});

	it('reuses an expired slot before forgetting a live entry', () => {
		const options = { windowMs: 10_000, capacity: 4 };
		let state = checkAndRemember(undefined, fpIn(1, 1), T0, options).state;
		for (const i of [2, 3, 4, 5]) state = checkAndRemember(state, fpIn(i, i), T0 + 10_000, options).state;
		const answers = [2, 3, 4, 5].map((i) => checkAndRemember(state, fpIn(i, i), T0 + 11_000, options).duplicate);

		expect(answers).toEqual([true, true, true, true]);
	});

	it('reuses a slot dated in the future (the clock went back) before forgetting a live entry', () => {
		const options = { windowMs: HOUR, capacity: 4 };
		const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((i) => fpIn(i, i));
		let state = rememberAll([a, b, c], options);
		state = checkAndRemember(state, d, T0 + 100_000, options).state;
		state = checkAndRemember(state, e, T0 + 50_000, options).state;
		const answers = [a, b, c, d, e].map((one) => checkAndRemember(state, one, T0 + 101_000, options).duplicate);

		expect(answers).toEqual([true, true, true, false, true]);
	});

	it.each<[string, unknown]>([
		['undefined', undefined],
		['null', null],
		['a string', 'garbage'],
		['a number', 42],
		['an array', []],
		['another version', { v: 3, t: Array.from({ length: 20 }, () => 'A'.repeat(1600)) }],
		['segments that are not an array', { v: 2, t: 'A'.repeat(32_000) }],
		['segments that are not strings', { v: 2, t: Array.from({ length: 20 }, () => 1600) }],
		['segments of no whole number of buckets', { v: 2, t: ['A'.repeat(100)] }],
		['a version-1 table that is not a string', { v: 1, table: 123 }],
		['a table of a length that is no whole number of buckets', { v: 1, table: 'A'.repeat(100) }],
		['a table of invalid characters', { v: 1, table: '!'.repeat(32_000) }],
	])('treats %s as an empty table', (_, garbled) => {
		const result = checkAndRemember(garbled, fp, T0, defaults);

		expect(result.duplicate).toBe(false);
		expect(tableOf(result.state)).toHaveLength(32_000);
	});

	it('forgets only the segment of a wrong length', () => {
		const remembered = rememberAll([fpIn(0, 1), fpIn(499, 1)], defaults);
		const garbled = { ...remembered, t: [remembered.t[0].slice(1), ...remembered.t.slice(1)] };
		const answers = [fpIn(0, 1), fpIn(499, 1)].map((one) => checkAndRemember(garbled, one, T0 + 5000, defaults).duplicate);

		expect(answers).toEqual([false, true]);
	});

	it('reads a version-1 table (0.1.0) as the same buckets', () => {
		const remembered = rememberAll([fpIn(0, 1), fpIn(1, 1)], { windowMs: HOUR, capacity: 8 });
		const v1 = { v: 1, table: tableOf(remembered) };
		const answers = [fpIn(0, 1), fpIn(1, 1), fpIn(1, 2)].map(
			(one) => checkAndRemember(v1, one, T0 + 5000, { windowMs: HOUR, capacity: 8 }).duplicate,
		);

		expect(answers).toEqual([true, true, false]);
	});

	it('forgets only the bucket that is garbled', () => {
		const remembered = rememberAll([fpIn(0, 1), fpIn(1, 1)], { windowMs: HOUR, capacity: 8 });
		const garbled = { v: 1, table: '!'.repeat(64) + tableOf(remembered).slice(64) };
		const answers = [fpIn(0, 1), fpIn(1, 1)].map(
			(one) => checkAndRemember(garbled, one, T0 + 5000, { windowMs: HOUR, capacity: 8 }).duplicate,
		);

		expect(answers).toEqual([false, true]);
	});

	it('rejects a key that is not a fingerprint', () => {
		expect(() => checkAndRemember(undefined, 'not-a-fingerprint', T0, defaults)).toThrow(TypeError);
	});

	it('gives the same answers as an exact memory while no bucket holds more than 4 keys', () => {
		const buckets = 4;
		const key = fc.record({ bucket: fc.integer({ min: 0, max: buckets - 1 }), lap: fc.nat(1000), low: fc.nat() });
		const pool = fc
			.uniqueArray(key, { minLength: 1, maxLength: 24, selector: (k) => `${k.bucket}:${k.lap}:${k.low}` })
			.map((keys) =>
				keys
					.filter((k, i) => keys.slice(0, i).filter((earlier) => earlier.bucket === k.bucket).length < 4)
					.map((k) => fpIn(k.bucket + buckets * k.lap, k.low)),
			);
		const step = fc.record({ pick: fc.nat(), advanceSeconds: fc.nat(40), restart: fc.boolean() });
		const windows = fc.integer({ min: 1, max: 60 });

		fc.assert(
			fc.property(pool, fc.array(step, { maxLength: 200 }), windows, (fps, steps, windowSeconds) => {
				const options = { windowMs: windowSeconds * 1000, capacity: buckets * 4 };
				const reference = new Map<string, number>();
				let state: unknown;
				let now = T0;
				for (const { pick, advanceSeconds, restart } of steps) {
					now += advanceSeconds * 1000;
					const fp = fps[pick % fps.length];
					const seenAt = reference.get(fp);
					const expected = seenAt !== undefined && now - seenAt < options.windowMs;
					if (!expected) reference.set(fp, now);
					if (restart) state = JSON.parse(JSON.stringify(state ?? null));
					const result = checkAndRemember(state, fp, now, options);
					state = result.state;
					if (result.duplicate !== expected) return false;
				}
				return true;
			}),
		);
	});
});

describe('claimInProcess', () => {
	const fp = fingerprint({ type: 'subscribe', contact: { id: '1234' } });

	it('lets the first claim win', () => {
		expect(claimInProcess('wf-1:first', fp, T0, HOUR)).toBe(true);
	});

	it('refuses a second claim within the window', () => {
		claimInProcess('wf-1:second', fp, T0, HOUR);

		expect(claimInProcess('wf-1:second', fp, T0 + HOUR - 1, HOUR)).toBe(false);
	});

	it('grants a claim again once the window has passed', () => {
		claimInProcess('wf-1:expiry', fp, T0, HOUR);

		expect(claimInProcess('wf-1:expiry', fp, T0 + HOUR, HOUR)).toBe(true);
	});

	it('keeps the claims of different scopes apart', () => {
		claimInProcess('wf-1:node-a', fp, T0, HOUR);

		expect(claimInProcess('wf-1:node-b', fp, T0, HOUR)).toBe(true);
	});

	describe('with identical deliveries in flight at once, each with its own copy of the static data', () => {
		const deliveries = 50;

		/** Simulates n8n: each request reads static data from the "database", yields, then writes it back whole. */
		function simulate(useClaim: boolean, scope: string): Promise<string[]> {
			const database: { dedup?: unknown } = {};
			const deliver = async (): Promise<string> => {
				const staticData = JSON.parse(JSON.stringify(database)) as { dedup?: unknown };
				await new Promise((resolve) => setImmediate(resolve));
				if (useClaim && !claimInProcess(scope, fp, T0, HOUR)) return 'duplicate';
				const result = checkAndRemember(staticData.dedup, fp, T0, defaults);
				database.dedup = result.state;
				return result.duplicate ? 'duplicate' : 'execution';
			};
			return Promise.all(Array.from({ length: deliveries }, deliver));
		}

		it('starts exactly one execution', async () => {
			const outcomes = await simulate(true, 'wf-concurrent:node-1');

			expect(outcomes.filter((outcome) => outcome === 'execution')).toHaveLength(1);
		});

		it('would start one execution each from static data alone, which is why the claim exists', async () => {
			const outcomes = await simulate(false, 'unused');

			expect(outcomes.filter((outcome) => outcome === 'execution')).toHaveLength(deliveries);
		});
	});

	it('forgets the oldest claim once it holds IN_PROCESS_CLAIM_LIMIT claims', () => {
		const scope = 'wf-bounded:oldest';
		for (let i = 0; i <= IN_PROCESS_CLAIM_LIMIT; i++) claimInProcess(scope, syntheticFp(i), T0 + i, HOUR);

		expect(claimInProcess(scope, syntheticFp(0), T0 + IN_PROCESS_CLAIM_LIMIT + 1, HOUR)).toBe(true);
	});

	it('keeps the newest claims once it holds IN_PROCESS_CLAIM_LIMIT claims', () => {
		const scope = 'wf-bounded:newest';
		for (let i = 0; i <= IN_PROCESS_CLAIM_LIMIT; i++) claimInProcess(scope, syntheticFp(i), T0 + i, HOUR);

		expect(claimInProcess(scope, syntheticFp(1), T0 + IN_PROCESS_CLAIM_LIMIT + 1, HOUR)).toBe(false);
	});
});

describe('recordDelivery', () => {
	const events = Array.from({ length: 30 }, (_, i) => fingerprint({ type: 'open', contact: { id: String(i) } }));

	/**
	 * n8n as it is: every request loads its own copy of the static data from the "database", yields, decides,
	 * and saves its copy whole if it changed, so the last save of concurrent requests wins.
	 */
	function deliverConcurrently(scope: string, fps: readonly string[], database: { dedup?: unknown }): Promise<boolean[]> {
		return Promise.all(
			fps.map(async (fp) => {
				const copy = JSON.parse(JSON.stringify(database)) as { dedup?: unknown };
				await new Promise((resolve) => setImmediate(resolve));
				const result = recordDelivery(copy.dedup, scope, fp, T0, defaults);
				await new Promise((resolve) => setImmediate(resolve));
				if (result.state) database.dedup = JSON.parse(JSON.stringify(result.state));
				return result.duplicate;
			}),
		);
	}

	it('answers new, then duplicate, for one process', () => {
		const first = recordDelivery(undefined, 'rd:basic', events[0], T0, defaults);
		const second = recordDelivery(first.state, 'rd:basic', events[0], T0 + 1000, defaults);

		expect([first.duplicate, second.duplicate]).toEqual([false, true]);
	});

	it('leaves the static data alone for a duplicate whose copy lacks nothing', () => {
		const first = recordDelivery(undefined, 'rd:no-write', events[0], T0, defaults);

		expect(recordDelivery(first.state, 'rd:no-write', events[0], T0 + 1000, defaults)).toEqual({ duplicate: true });
	});

	it('keeps every concurrent delivery in the saved table, so that after a restart all are duplicates', async () => {
		const database: { dedup?: unknown } = {};
		const answers = await deliverConcurrently('rd:race', events, database);
		expect(answers.filter((duplicate) => !duplicate)).toHaveLength(events.length);

		const afterRestart = events.map((fp) => checkAndRemember(database.dedup, fp, T0 + 5000, defaults).duplicate);
		expect(afterRestart).toEqual(events.map(() => true));
	});

	it('would lose all but the last concurrent save from the table alone, which is why claims are put back', async () => {
		const database: { dedup?: unknown } = {};
		await Promise.all(
			events.map(async (fp) => {
				const copy = JSON.parse(JSON.stringify(database)) as { dedup?: unknown };
				await new Promise((resolve) => setImmediate(resolve));
				database.dedup = checkAndRemember(copy.dedup, fp, T0, defaults).state;
			}),
		);

		const remembered = events.filter((fp) => checkAndRemember(database.dedup, fp, T0 + 5000, defaults).duplicate);
		expect(remembered).toHaveLength(1);
	});

	it('puts back claims that a concurrent save erased, also when answering a duplicate', () => {
		const scope = 'rd:erased';
		const loaded = recordDelivery(undefined, scope, events[0], T0, defaults).state;
		const decidedFirst = recordDelivery(loaded, scope, events[1], T0 + 1000, defaults).state;
		recordDelivery(loaded, scope, events[2], T0 + 1000, defaults); // saved first, then overwritten by decidedFirst
		const duplicate = recordDelivery(decidedFirst, scope, events[0], T0 + 2000, defaults);

		expect(checkAndRemember(decidedFirst, events[2], T0 + 3000, defaults).duplicate).toBe(false);
		expect(duplicate.duplicate).toBe(true);
		expect(checkAndRemember(duplicate.state, events[2], T0 + 3000, defaults).duplicate).toBe(true);
	});

	it("puts back this process's recent claims into a table another process wrote", () => {
		const scope = 'rd:other-process';
		recordDelivery(undefined, scope, events[3], T0, defaults);
		const fromAnotherProcess = { ...checkAndRemember(undefined, events[4], T0, defaults).state, by: 'another', seq: 10 ** 9 };
		const { state } = recordDelivery(fromAnotherProcess, scope, events[5], T0 + 1000, defaults);

		expect([3, 4, 5].map((i) => checkAndRemember(state, events[i], T0 + 2000, defaults).duplicate)).toEqual([true, true, true]);
	});

	it('puts back at most RECENT_CLAIM_LIMIT claims and none older than the window', () => {
		const scope = 'rd:bounded';
		const many = Array.from({ length: RECENT_CLAIM_LIMIT + 10 }, (_, i) => syntheticFp(500_000 + i));
		many.forEach((fp, i) => claimInProcess(scope, fp, T0 + i, HOUR));
		const { state } = recordDelivery(undefined, scope, events[6], T0 + 1000, defaults);
		const kept = many.filter((fp) => checkAndRemember(state, fp, T0 + 2000, defaults).duplicate);
		// The limit counts the delivery's own claim too.
		expect(kept).toEqual(many.slice(many.length - (RECENT_CLAIM_LIMIT - 1)));

		const later = recordDelivery(undefined, scope, events[7], T0 + HOUR + 500, defaults).state;
		expect(many.filter((fp) => checkAndRemember(later, fp, T0 + HOUR + 600, defaults).duplicate)).toEqual([]);
	});

	it('keeps the persisted state within 32 KB', () => {
		let state: unknown;
		for (let i = 0; i < 5000; i++) state = recordDelivery(state, 'rd:size', syntheticFp(i), T0 + i * 10, defaults).state ?? state;

		expect(JSON.stringify(state).length).toBeLessThanOrEqual(32_768);
	});
});
