import * as fc from 'fast-check';

import { DEFAULT_PARSE_LIMITS, parseDeliveryBody, parseFormWithQs, readBracketKeys } from '../nodes/ActiveCampaignTrigger/delivery/parse';
import { DELIVERY_BODIES } from './fixtures/deliveryBodies';

/**
 * The node reads the common form bodies with its own bracket-key reader and leaves every other body to qs.
 * Whatever the reader accepts must come out exactly as qs reads it: the same nested body (values, lists of
 * repeated keys, key order) and the same decoded pairs (the fingerprint is made of them).
 */

const FORM = 'application/x-www-form-urlencoded';
const MAX_DEPTH = DEFAULT_PARSE_LIMITS.maxDepth;

/** The body as JSON text, so that key order counts too. */
const inOrder = (body: unknown): string => JSON.stringify(body);

function expectSameAsQs(text: string): 'read' | 'declined' {
	const read = readBracketKeys(text, MAX_DEPTH);
	if (read === undefined) return 'declined';
	const reference = parseFormWithQs(text, DEFAULT_PARSE_LIMITS);
	if (!reference.ok) throw new Error(`qs refused what the reader read (${reference.reason}): ${text}`);
	if (inOrder(read.body) !== inOrder(reference.body)) {
		throw new Error(`bodies differ for ${text}\n  reader: ${inOrder(read.body)}\n  qs:     ${inOrder(reference.body)}`);
	}
	if (inOrder(read.pairs) !== inOrder(reference.pairs)) {
		throw new Error(`pairs differ for ${text}\n  reader: ${inOrder(read.pairs)}\n  qs:     ${inOrder(reference.pairs)}`);
	}
	return 'read';
}

describe('readBracketKeys: the same result as qs', () => {
	it('reads every delivery in the fixtures, each exactly as qs does', () => {
		const outcomes = DELIVERY_BODIES.filter(({ body }) => !/\[\]|%5B%5D/i.test(body)).map(({ event, body }) => [
			event,
			expectSameAsQs(body),
		]);
		expect(outcomes.length).toBeGreaterThan(25);
		expect(outcomes.filter(([, outcome]) => outcome !== 'read')).toEqual([]);
	});

	it.each([
		['plain and nested keys', 'type=update&contact[id]=7&contact[fields][39]=a', { type: 'update', contact: { id: '7', fields: { 39: 'a' } } }],
		['encoded brackets, either case', 'contact%5Bid%5d=7', { contact: { id: '7' } }],
		['a repeated key as a list', 'a[b]=1&a[c]=2&a[b]=3', { a: { b: ['1', '3'], c: '2' } }],
		['names inherited from Object.prototype as own keys', 'toString=1&a[constructor]=2', { toString: '1', a: { constructor: '2' } }],
		['a part without "=" as an empty value, empty parts skipped', 'flag&&a=1&', { flag: '', a: '1' }],
		['qs\'s split at "]=" (an encoded bracket in a value)', 'a=x%5D=y', { 'a=x]': 'y' }],
		['a "]" before any "[" as part of the name', 'a]b[c]=1', { 'a]b': { c: '1' } }],
	])('reads %s', (_case, text, expected) => {
		expect(expectSameAsQs(text)).toBe('read');
		expect(readBracketKeys(text, MAX_DEPTH)?.body).toEqual(expected);
	});

	it.each([
		['an empty segment (PHP list)', 'a[]=1'],
		['an unclosed bracket', 'a[b=1'],
		['text after a bracket', 'a[b]c=1'],
		['a bracket inside a segment', 'a[b[c]]=1'],
		['a key that starts with a bracket', '[a]=1'],
		['a value, then the same key as a container', 'a=1&a[b]=2'],
		['a container, then the same key as a value', 'a[b]=1&a=2'],
		['a key that could reach Object.prototype', 'a[__proto__][x]=1'],
		['a key deeper than the limit', `a${'[b]'.repeat(MAX_DEPTH + 1)}=1`],
	])('leaves to qs %s', (_case, text) => {
		expect(readBracketKeys(text, MAX_DEPTH)).toBeUndefined();
	});

	it('leaves to qs a body it declines, and qs still decides it', () => {
		expect(parseDeliveryBody('a[__proto__][x]=1', FORM)).toEqual({
			ok: false,
			status: 400,
			reason: 'Refused body: key "a[__proto__][x]" could reach Object.prototype',
		});
		expect(parseDeliveryBody('list[][id]=3&list[][id]=5', FORM)).toMatchObject({
			ok: true,
			body: { list: [{ id: '3' }, { id: '5' }] },
		});
	});

	it('matches qs on generated bodies of awkward keys and encodings', () => {
		const name = fc.constantFrom(
			...['contact', 'fields', 'type', 'a', 'b', '0', '39', '007', 'x y', 'é', ''],
			...['toString', 'constructor', 'prototype', 'hasOwnProperty', '__proto__', 'length'],
		);
		const junk = fc.constantFrom('[', ']', '[]', '=', ']=');
		const bracketed = fc.oneof(
			{ weight: 6, arbitrary: fc.array(name.map((text) => `[${text}]`), { maxLength: 4 }) },
			{ weight: 1, arbitrary: fc.array(fc.oneof(name.map((text) => `[${text}]`), junk), { maxLength: MAX_DEPTH + 2 }) },
		);
		const key = fc.tuple(fc.oneof({ weight: 12, arbitrary: name }, { weight: 1, arbitrary: fc.constantFrom('[', ']x') }), bracketed);
		const value = fc.oneof(
			fc.constantFrom('', '1', 'a b', '100%', '%ZZ', '%E2%82', '[%E2%82', '%E2[%82', 'x]=y', 'a]=b=c', '[1]', '&', '=', '+', 'é'),
			fc.string({ maxLength: 8 }),
		);
		const encoding = fc.constantFrom<(text: string) => string>(
			(text) => text,
			(text) => encodeURIComponent(text),
			(text) => encodeURIComponent(text).replace(/%20/g, '+'),
			(text) => text.replace(/\[/g, '%5B').replace(/\]/g, '%5d'),
			(text) => text.replace(/ /g, '+'),
		);
		const parameter = fc
			.tuple(key, value, encoding, encoding, fc.constantFrom('=', '=', '=', ''))
			.map(([[root, segments], text, encodeKey, encodeValue, equals]) => {
				const written = `${root}${segments.join('')}`;
				return `${encodeKey(written)}${equals}${equals === '' ? '' : encodeValue(text)}`;
			});
		// Repeats of earlier parameters' keys make the lists and the container/value conflicts.
		const body = fc
			.tuple(fc.array(parameter, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 4 }))
			.map(([parameters, repeats]) => [...parameters, ...repeats.map((index) => parameters[index % parameters.length])].join('&'));

		const outcomes = { read: 0, declined: 0 };
		fc.assert(
			fc.property(body, (text) => {
				outcomes[expectSameAsQs(text)]++;
			}),
			{ numRuns: 20_000 },
		);
		// Both ways are exercised, or the comparison above proves little.
		expect(outcomes.read).toBeGreaterThan(2_000);
		expect(outcomes.declined).toBeGreaterThan(2_000);
	});
});
