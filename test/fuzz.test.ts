import * as fc from 'fast-check';

import { toItem } from '../nodes/ActiveCampaignTrigger/delivery/normalise';
import { readDateTime } from '../nodes/ActiveCampaignTrigger/delivery/schemas';
import { DEFAULT_PARSE_LIMITS, parseDeliveryBody, type ParseLimits } from '../nodes/ActiveCampaignTrigger/delivery/parse';
import { DELIVERY_BODIES } from './fixtures/deliveryBodies';

/**
 * Property: whatever arrives (random keys, brackets, percent-encodings, huge and deep input, pollution
 * attempts, JSON), parseDeliveryBody + toItem never throw, never pollute Object.prototype, and answer
 * either an item, a validation reason, or a 4xx refusal.
 */

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const TIMEOUT = 60_000;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).length;

let bodies = 0;

/** Plain checks rather than `expect` here: they run 100,000 times, and fast-check reports the failing body. */
function assertThat(condition: boolean, problem: string): void {
	if (!condition) throw new Error(problem);
}

function checkDelivery(body: string | Buffer, contentType: string | undefined, limits?: Partial<ParseLimits>): void {
	bodies++;
	const parsed = parseDeliveryBody(body, contentType, limits);
	if (!parsed.ok) {
		assertThat([400, 413, 415].includes(parsed.status), `unexpected status ${parsed.status}`);
		assertThat(typeof parsed.reason === 'string' && parsed.reason !== '', 'refusal without a reason');
	} else {
		const result = toItem(parsed.body, { includeRaw: bodies % 2 === 0 });
		if (result.ok) {
			const { event, occurredAt, listId } = result.item;
			assertThat(typeof event === 'string', `event ${String(event)} is not text`);
			assertThat(occurredAt === null || ISO_UTC.test(occurredAt), `occurredAt ${occurredAt} is not ISO UTC`);
			assertThat(listId === null || typeof listId === 'string', 'listId is not text');
			JSON.stringify(result.item);
		} else {
			assertThat(typeof result.reason === 'string' && result.reason !== '', 'validation failure without a reason');
		}
	}
	assertThat(({} as Record<string, unknown>).polluted === undefined, 'Object.prototype.polluted was set');
	assertThat(Object.getOwnPropertyNames(Object.prototype).length === PROTOTYPE_KEYS, 'Object.prototype gained a key');
}

// ---- Form bodies ----

const segment = fc.oneof(
	{
		weight: 6,
		arbitrary: fc.constantFrom(
			...['contact', 'fields', 'deal', 'account', 'list', 'type', 'date_time', 'tags', 'value', 'id', 'key'],
			...['updated_fields', 'note', '', '0', '1', '39'],
		),
	},
	{
		weight: 1,
		arbitrary: fc.constantFrom(
			...['__proto__', 'constructor', 'prototype', 'polluted', 'toString', 'hasOwnProperty', 'then', 'valueOf'],
		),
	},
	{ weight: 2, arbitrary: fc.nat({ max: 5000 }).map(String) },
	{ weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
	{ weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);

const key = fc
	.tuple(segment, fc.array(segment, { maxLength: 11 }), fc.constantFrom('', '', '', '[', ']', '[]', '[[x]]'))
	.map(([root, segments, tail]) => `${root}${segments.map((part) => `[${part}]`).join('')}${tail}`);

/** A two-digit field, usually within `min`-`max` and sometimes just outside or anywhere up to 99. */
const field = (min: number, max: number) =>
	fc
		.oneof(
			{ weight: 8, arbitrary: fc.integer({ min, max }) },
			{ weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1) },
			{ weight: 1, arbitrary: fc.integer({ min: 0, max: 99 }) },
		)
		.map((n) => String(Math.max(n, 0)).padStart(2, '0'));

/** Date-time-shaped text, mostly valid: the date reader must never throw on any of it. */
const dateLike = fc
	.tuple(
		fc.oneof(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 0, max: 9999 })).map((n) => String(n).padStart(4, '0')),
		field(1, 12),
		field(1, 31),
		fc.constantFrom('T', ' ', 't'),
		field(0, 23),
		field(0, 59),
		fc.option(field(0, 59).map((n) => `:${n}`)),
		fc.option(fc.stringMatching(/^\.\d{1,9}$/)),
		fc.option(
			fc.oneof(
				fc.constantFrom('Z', 'z', ' Z'),
				fc
					.tuple(fc.constantFrom('+', '-'), field(0, 14), fc.constantFrom('', ':'), fc.option(field(0, 59)))
					.map((parts) => parts.join('')),
			),
		),
	)
	.map(
		([year, month, day, separator, hour, minute, second, fraction, zone]) =>
			`${year}-${month}-${day}${separator}${hour}:${minute}${second ?? ''}${fraction ?? ''}${zone ?? ''}`,
	);

const value = fc.oneof(
	dateLike,
	fc.string({ maxLength: 20 }),
	fc.string({ unit: 'binary', maxLength: 12 }),
	fc.constantFrom('||a||b||', '||', '||||', '2024-02-28T04:45:41-06:00', '2024-02-28 04:45:41', 'yesterday', '0', '', 'a, b, , c'),
	fc.integer().map(String),
);

/** Encodes a key or value the way a client might: raw, encodeURIComponent, brackets only, or with junk escapes. */
const encoding = fc.constantFrom<(text: string) => string>(
	(text) => text,
	(text) => encodeURIComponent(text),
	(text) => encodeURIComponent(text).replace(/%20/g, '+'),
	(text) => text.replace(/\[/g, '%5B').replace(/\]/g, '%5D'),
	(text) => text.replace(/_/g, '%5F').replace(/o/g, '%6F'),
	(text) => `${text}%`,
	(text) => `%E2%82${text}%ZZ`,
);

const parameter = fc
	.tuple(key, value, encoding, encoding, fc.constantFrom('=', '=', '=', '', '=='))
	.map(([name, text, encodeKey, encodeValue, equals]) => `${encodeKey(name)}${equals}${encodeValue(text)}`);

const formBody = fc.array(parameter, { maxLength: 30 }).map((parameters) => parameters.join('&'));

/** An envelope with a date-time-shaped `date_time`, then random parameters. */
const envelopeBody = fc
	.tuple(fc.constantFrom('update', 'deal_update', ''), dateLike, fc.constantFrom('0', '3', ''), encoding, formBody)
	.map(
		([type, dateTime, list, encode, rest]) =>
			`type=${type}&date_time=${encode(dateTime)}&initiated_from=admin&initiated_by=admin&list=${list}&${rest}`,
	);

const realBodies = DELIVERY_BODIES.map(({ body }) => body.split('&'));

/** A real or written ActiveCampaign body with a few parameters inserted, replaced, re-valued or dropped. */
const mutatedRealBody = fc
	.tuple(
		fc.constantFrom(...realBodies),
		fc.array(fc.tuple(fc.nat(), parameter, value, fc.constantFrom('insert', 'replace', 'revalue', 'drop')), { maxLength: 4 }),
	)
	.map(([parameters, edits]) => {
		const edited = [...parameters];
		for (const [position, newParameter, newValue, edit] of edits) {
			const at = position % edited.length;
			if (edit === 'insert') edited.splice(at, 0, newParameter);
			else if (edit === 'replace') edited[at] = newParameter;
			else if (edit === 'revalue') edited[at] = `${edited[at].split('=')[0]}=${encodeURIComponent(newValue)}`;
			else edited.splice(at, 1);
		}
		return edited.join('&');
	});

const junkBody = fc.string({
	unit: fc.constantFrom('%', '[', ']', '&', '=', '+', 'a', '5', 'B', 'D', 'F', '_', 'p', 'r', 'o', 't', 'c', 'n', 's', '0', 'é'),
	maxLength: 80,
});

// ---- JSON bodies ----

const jsonKey = fc.oneof(
	segment,
	fc.constantFrom('contact', 'deal', 'type', 'date_time', 'list', 'fields', 'event', 'topic', 'seriesid'),
);

/** JSON text built by hand, so keys such as `__proto__` really reach the body as own keys. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
	node: fc.oneof(
		{ depthSize: 'small', withCrossShrink: true },
		fc.string({ maxLength: 10 }).map((text) => JSON.stringify(text)),
		fc.constantFrom('1', '-2.5', 'true', 'false', 'null', '"||x||y||"'),
		dateLike.map((text) => JSON.stringify(text)),
		fc.array(tie('node'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
		fc
			.array(fc.tuple(jsonKey, tie('node')), { maxLength: 5 })
			.map((entries) => `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${item}`).join(',')}}`),
	),
})).node;

const jsonObject = fc
	.array(fc.tuple(jsonKey, jsonText), { maxLength: 8 })
	.map((entries) => `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${item}`).join(',')}}`);

const acLikeJson = fc
	.record(
		{
			type: fc.oneof(fc.constantFrom('"update"', '"deal_update"', '""'), jsonText),
			date_time: fc.oneof(dateLike.map((text) => JSON.stringify(text)), jsonText),
			list: jsonText,
			contact: jsonText,
			deal: jsonText,
			updated_fields: jsonText,
		},
		{ requiredKeys: ['type'] },
	)
	.map((body) => `{${Object.entries(body).map(([name, item]) => `${JSON.stringify(name)}:${item}`).join(',')}}`);

const contentType = fc.constantFrom(
	...[FORM, `${FORM}; charset=utf-8`, undefined, JSON_TYPE, 'text/plain', 'application/json; charset=latin1'],
);

const limits = fc.record({
	maxBytes: fc.integer({ min: 1, max: 400 }),
	maxParameters: fc.integer({ min: 1, max: 20 }),
	maxDepth: fc.integer({ min: 1, max: 6 }),
});

describe('fuzz: parseDeliveryBody + toItem', () => {
	afterAll(() => {
		console.log(`fuzz: ${bodies} bodies`);
	});

	it(
		'handles structured form bodies (brackets, encodings, pollution keys)',
		() => {
			fc.assert(
				fc.property(formBody, fc.boolean(), (body, asBuffer) => checkDelivery(asBuffer ? Buffer.from(body) : body, FORM)),
				{ numRuns: 30_000 },
			);
		},
		TIMEOUT,
	);

	it(
		'handles real ActiveCampaign bodies with parameters inserted, replaced, re-valued or dropped',
		() => {
			fc.assert(fc.property(mutatedRealBody, (body) => checkDelivery(body, FORM)), { numRuns: 15_000 });
		},
		TIMEOUT,
	);

	it(
		'handles envelopes with date-time-shaped date_time values, valid or not',
		() => {
			fc.assert(fc.property(envelopeBody, (body) => checkDelivery(body, FORM)), { numRuns: 10_000 });
		},
		TIMEOUT,
	);

	it(
		'reads strict ISO-8601 date-times to the same instant as Date does',
		() => {
			const strictIso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?(Z|[+-]\d{2}:\d{2})$/;
			fc.assert(
				fc.property(dateLike, (dateTime) => {
					const read = readDateTime(dateTime);
					if (read?.utc && strictIso.test(dateTime) && dateTime >= '1000') {
						expect(read.utc).toBe(new Date(dateTime).toISOString());
					}
				}),
				{ numRuns: 20_000 },
			);
		},
		TIMEOUT,
	);

	it(
		'handles junk made of the characters that matter to the form parser',
		() => {
			fc.assert(fc.property(junkBody, contentType, (body, type) => checkDelivery(body, type)), { numRuns: 15_000 });
		},
		TIMEOUT,
	);

	it(
		'handles JSON bodies: random trees, pollution keys, ActiveCampaign-like shapes with the wrong types',
		() => {
			fc.assert(fc.property(jsonObject, (body) => checkDelivery(body, JSON_TYPE)), { numRuns: 15_000 });
			fc.assert(fc.property(acLikeJson, (body) => checkDelivery(body, JSON_TYPE)), { numRuns: 10_000 });
			fc.assert(fc.property(fc.oneof(jsonText, fc.string()), (body) => checkDelivery(body, JSON_TYPE)), { numRuns: 5_000 });
		},
		TIMEOUT,
	);

	it(
		'handles bodies at and over small limits',
		() => {
			fc.assert(
				fc.property(fc.oneof(formBody, jsonObject), limits, contentType, (body, bodyLimits, type) =>
					checkDelivery(body, type, bodyLimits),
				),
				{ numRuns: 10_000 },
			);
		},
		TIMEOUT,
	);

	it(
		'handles huge and deep bodies at the default limits',
		() => {
			const huge = [
				`note=${'x'.repeat(DEFAULT_PARSE_LIMITS.maxBytes)}`,
				`a${'['.repeat(1_000_000)}=1`,
				`a${'[b]'.repeat(100_000)}=1`,
				`a${'['.repeat(100_000)}${']'.repeat(100_000)}=1`,
				Array.from({ length: 10_001 }, () => 'a=1').join('&'),
				Array.from({ length: 10_000 }, (_, index) => `contact[fields][${index}]=%7C%7Ca%7C%7Cb%7C%7C`).join('&'),
				'%'.repeat(1_000_000),
			];
			for (const body of huge) checkDelivery(body, FORM);
			checkDelivery(`{"a":${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}}`, JSON_TYPE);
			checkDelivery(`{"a":${'{"b":'.repeat(100_000)}1${'}'.repeat(100_000)}}`, JSON_TYPE);
			checkDelivery(`{"a":[${Array.from({ length: 10_001 }, () => '1').join(',')}]}`, JSON_TYPE);
		},
		TIMEOUT,
	);
});
