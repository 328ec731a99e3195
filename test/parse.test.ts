import { DEFAULT_PARSE_LIMITS, parseDeliveryBody, type ParseResult } from '../nodes/ActiveCampaignTrigger/delivery/parse';
import { DELIVERY_BODIES } from './fixtures/deliveryBodies';

const FORM = 'application/x-www-form-urlencoded';

function parsedBody(result: ParseResult): Record<string, unknown> {
	if (!result.ok) throw new Error(`expected a parsed body, got ${result.status}: ${result.reason}`);
	return result.body;
}

/** Follows `contact[fields][39]` through the nested parse. */
function valueAt(body: Record<string, unknown>, key: string): unknown {
	const root = key.split('[')[0];
	const segments = [root, ...[...key.matchAll(/\[([^\]]*)\]/g)].map((match) => match[1])];
	return segments.reduce<unknown>((node, segment) => (node as Record<string, unknown>)[segment], body);
}

function countLeaves(value: unknown): number {
	if (typeof value !== 'object' || value === null) return 1;
	return Object.values(value).reduce<number>((sum, child) => sum + countLeaves(child), 0);
}

describe('parseDeliveryBody: real and written bodies', () => {
	it.each(DELIVERY_BODIES.map(({ fixture, body }) => [fixture, body]))(
		'%s: every parameter of the raw body is in the parse, at its bracket path, decoded',
		(_fixture, body) => {
			const parsed = parsedBody(parseDeliveryBody(Buffer.from(body), FORM));
			// URLSearchParams is an independent decoder of the same body.
			const pairs = [...new URLSearchParams(body)];
			for (const [key, value] of pairs) expect([key, valueAt(parsed, key)]).toEqual([key, value]);
			expect(countLeaves(parsed)).toBe(pairs.length);
		},
	);
});

describe('parseDeliveryBody: form bodies', () => {
	it('keeps numeric keys as object keys, so contact field ids survive', () => {
		const body = parsedBody(parseDeliveryBody('contact[fields][39]=a&contact[fields][1]=b&contact[fields][7]=c', FORM));
		expect(body).toEqual({ contact: { fields: { '1': 'b', '7': 'c', '39': 'a' } } });
		expect(Array.isArray((body.contact as Record<string, unknown>).fields)).toBe(false);
	});

	it('keeps positional keys as object keys too (the normaliser turns them into lists)', () => {
		const body = parsedBody(
			parseDeliveryBody('deal[fields][0][id]=1&deal[fields][0][value][0]=a&deal[fields][0][value][1]=b', FORM),
		);
		expect(body).toEqual({ deal: { fields: { '0': { id: '1', value: { '0': 'a', '1': 'b' } } } } });
	});

	it('reads percent-encoded and literal brackets alike', () => {
		expect(parseDeliveryBody('contact%5Bemail%5D=a%40b.example', FORM)).toEqual(
			parseDeliveryBody('contact[email]=a%40b.example', FORM),
		);
	});

	it('reads + as a space and percent-encoded UTF-8 as text', () => {
		expect(parsedBody(parseDeliveryBody('note=Caf%C3%A9+%E2%9C%93+%F0%9F%98%80', FORM))).toEqual({ note: 'Café ✓ 😀' });
	});

	it('reads raw UTF-8 bytes of a Buffer as text', () => {
		expect(parsedBody(parseDeliveryBody(Buffer.from('note=Café ✓', 'utf8'), FORM))).toEqual({ note: 'Café ✓' });
	});

	it('keeps an encoded + as a plus sign', () => {
		expect(parsedBody(parseDeliveryBody('contact[phone]=%2B15555550123', FORM))).toEqual({
			contact: { phone: '+15555550123' },
		});
	});

	it('keeps a malformed percent escape as written and still decodes the rest of the value', () => {
		expect(parsedBody(parseDeliveryBody('note=100%25+sure+%ZZ', FORM))).toEqual({ note: '100% sure %ZZ' });
	});

	it('reads an encoded bracket beside a malformed escape as a bracket, in every kind of key', () => {
		expect(parsedBody(parseDeliveryBody('x%E2%5D=1', FORM))).toEqual({ 'x%E2]': '1' });
		expect(parsedBody(parseDeliveryBody('x%E2%5D[]=1', FORM))).toEqual({ 'x%E2]': ['1'] });
	});

	it('keeps escapes that are not UTF-8 (a Latin-1 byte) as written and still decodes the rest', () => {
		expect(parsedBody(parseDeliveryBody('note=Caf%E9+%E2%9C%93', FORM))).toEqual({ note: 'Caf%E9 ✓' });
	});

	it('gives the body as sent beside the parse when a % is kept as written, so that bodies reading alike stay apart', () => {
		for (const body of ['note=Caf%E9', 'note=100%25+sure+%ZZ', 'x%E2%5D[]=1']) {
			expect(parseDeliveryBody(body, FORM)).toMatchObject({ ok: true, asSent: body });
		}
		expect(parseDeliveryBody('note=Caf%25E9', FORM)).not.toHaveProperty('asSent');
		expect(parseDeliveryBody('note=Caf%C3%A9+%5B1%5D', FORM)).not.toHaveProperty('asSent');
	});

	it('gives the bytes as sent (as Latin-1) when they are not UTF-8, for a form and a JSON body', () => {
		const form = Buffer.from([...Buffer.from('note=Caf'), 0xe9]);
		expect(parseDeliveryBody(form, FORM)).toEqual({ ok: true, body: { note: 'Caf\ufffd' }, pairs: ['note', 'Caf\ufffd'], asSent: 'note=Caf\u00e9' });
		const json = Buffer.from([...Buffer.from('{"note":"Caf'), 0xff, ...Buffer.from('"}')]);
		expect(parseDeliveryBody(json, 'application/json')).toEqual({ ok: true, body: { note: 'Caf\ufffd' }, asSent: '{"note":"Caf\u00ff"}' });
		// A replacement character sent as UTF-8 is content like any other.
		expect(parseDeliveryBody(Buffer.from('note=\ufffd'), FORM)).not.toHaveProperty('asSent');
	});

	it('keeps empty values as empty strings', () => {
		expect(parsedBody(parseDeliveryBody('orgname=&contact[tags]=', FORM))).toEqual({ orgname: '', contact: { tags: '' } });
	});

	it('keeps every value of a repeated key', () => {
		expect(parsedBody(parseDeliveryBody('tag=a&tag=b', FORM))).toEqual({ tag: ['a', 'b'] });
		expect(parsedBody(parseDeliveryBody('contact[fields][41]=a&contact[fields][41]=b', FORM))).toEqual({
			contact: { fields: { '41': ['a', 'b'] } },
		});
		const many = Array.from({ length: 25 }, (_, index) => `v${index}`);
		expect(parsedBody(parseDeliveryBody(many.map((value) => `tag=${value}`).join('&'), FORM))).toEqual({ tag: many });
	});

	it('keeps keys named like Object.prototype members as plain data', () => {
		expect(
			parsedBody(
				parseDeliveryBody(
					'contact[fields][constructor]=builder&contact[fields][toString]=x&contact[fields][7]=y&prototype=1&hasOwnProperty=2',
					FORM,
				),
			),
		).toEqual({
			contact: { fields: { constructor: 'builder', toString: 'x', '7': 'y' } },
			prototype: '1',
			hasOwnProperty: '2',
		});
	});

	it('reads a body without a Content-Type as a form body', () => {
		expect(parsedBody(parseDeliveryBody('type=update', undefined))).toEqual({ type: 'update' });
	});

	it('accepts a charset parameter of UTF-8 on a form body', () => {
		expect(parsedBody(parseDeliveryBody('type=update', 'Application/X-WWW-Form-Urlencoded; charset=UTF-8'))).toEqual({
			type: 'update',
		});
	});
});

describe('parseDeliveryBody: JSON bodies', () => {
	it('parses a JSON object', () => {
		expect(parsedBody(parseDeliveryBody('{"type":"update","contact":{"id":1}}', 'application/json'))).toEqual({
			type: 'update',
			contact: { id: 1 },
		});
	});

	it('accepts a charset parameter and a +json media type', () => {
		expect(parsedBody(parseDeliveryBody('{"a":"b"}', 'application/json; charset=utf-8'))).toEqual({ a: 'b' });
		expect(parsedBody(parseDeliveryBody('{"a":"b"}', 'application/vnd.custom+json'))).toEqual({ a: 'b' });
	});

	it('skips a UTF-8 byte order mark, in JSON and in a form (where it would join the first key)', () => {
		expect(parsedBody(parseDeliveryBody('\ufeff{"a":"é"}', 'application/json'))).toEqual({ a: 'é' });
		expect(parseDeliveryBody(Buffer.from('\ufefftype=update&contact[id]=7'), 'application/x-www-form-urlencoded')).toEqual(
			parseDeliveryBody(Buffer.from('type=update&contact[id]=7'), 'application/x-www-form-urlencoded'),
		);
		expect(parsedBody(parseDeliveryBody('\ufefftype=update', 'application/x-www-form-urlencoded'))).toEqual({ type: 'update' });
	});

	it.each([
		['[1,2]', 'an array'],
		['42', 'a number'],
		['"text"', 'a string'],
		['null', 'null'],
	])('refuses the non-object JSON %s with 400', (json, description) => {
		expect(parseDeliveryBody(json, 'application/json')).toEqual({
			ok: false,
			status: 400,
			reason: `JSON body must be an object, got ${description}`,
		});
	});

	it('refuses malformed JSON with 400', () => {
		expect(parseDeliveryBody('{"type":', 'application/json')).toMatchObject({
			ok: false,
			status: 400,
			reason: expect.stringMatching(/^Malformed JSON body: /),
		});
	});

	it('says where JSON is malformed without quoting the body (personal data, for the log)', () => {
		const refused = parseDeliveryBody('{"email": jane.doe@example.com}', 'application/json') as { ok: boolean; status: number; reason: string };
		expect({ ok: refused.ok, status: refused.status }).toEqual({ ok: false, status: 400 });
		expect(refused.reason).toMatch(/^Malformed JSON body: \S/);
		expect(refused.reason).not.toContain('jane');
	});
});

describe('parseDeliveryBody: what it refuses', () => {
	it.each(['text/plain', 'multipart/form-data; boundary=x', 'application/xml'])('refuses Content-Type %s with 415', (type) => {
		expect(parseDeliveryBody('type=update', type)).toEqual({
			ok: false,
			status: 415,
			reason: `Unsupported Content-Type "${type.split(';')[0]}": expected application/x-www-form-urlencoded or application/json`,
		});
	});

	it('refuses a charset other than UTF-8 with 415', () => {
		expect(parseDeliveryBody('type=update', `${FORM}; charset=iso-8859-1`)).toEqual({
			ok: false,
			status: 415,
			reason: 'Unsupported charset "iso-8859-1": only UTF-8 bodies are read',
		});
	});

	it.each(['', '   ', Buffer.alloc(0)])('refuses an empty body with 400', (body) => {
		expect(parseDeliveryBody(body, FORM)).toEqual({ ok: false, status: 400, reason: 'Empty body' });
	});
});

describe('parseDeliveryBody: limits', () => {
	it('has the documented defaults', () => {
		expect(DEFAULT_PARSE_LIMITS).toEqual({ maxBytes: 4 * 1024 * 1024, maxParameters: 10_000, maxDepth: 8 });
	});

	it('parses a body of exactly maxParameters parameters whole (qs alone would keep 1,000)', () => {
		const body = Array.from({ length: 10_000 }, (_, index) => `contact[fields][${index + 1}]=v${index}`).join('&');
		const parsed = parsedBody(parseDeliveryBody(body, FORM));
		const fields = (parsed.contact as Record<string, Record<string, string>>).fields;
		expect(Object.keys(fields)).toHaveLength(10_000);
		expect(fields['10000']).toBe('v9999');
	});

	it('refuses one parameter over maxParameters with 413', () => {
		const body = Array.from({ length: 10_001 }, (_, index) => `contact[fields][${index + 1}]=v`).join('&');
		expect(parseDeliveryBody(body, FORM)).toEqual({
			ok: false,
			status: 413,
			reason: 'Body has 10001 parameters, over the limit of 10000 (maxParameters)',
		});
	});

	it('counts parameters as qs splits them, empty parts included', () => {
		expect(parseDeliveryBody('a=1&b=2&', FORM, { maxParameters: 2 })).toEqual({
			ok: false,
			status: 413,
			reason: 'Body has 3 parameters, over the limit of 2 (maxParameters)',
		});
		expect(parsedBody(parseDeliveryBody('a=1&b=2&', FORM, { maxParameters: 3 }))).toEqual({ a: '1', b: '2' });
	});

	it('parses a body of exactly maxBytes bytes whole, counting bytes rather than characters', () => {
		const body = `note=${'é'.repeat(10)}`; // 5 + 20 bytes
		expect(parsedBody(parseDeliveryBody(body, FORM, { maxBytes: 25 }))).toEqual({ note: 'é'.repeat(10) });
		expect(parsedBody(parseDeliveryBody(Buffer.from(body), FORM, { maxBytes: 25 }))).toEqual({ note: 'é'.repeat(10) });
	});

	it('refuses one byte over maxBytes with 413', () => {
		expect(parseDeliveryBody(`note=${'é'.repeat(10)}`, FORM, { maxBytes: 24 })).toEqual({
			ok: false,
			status: 413,
			reason: 'Body is 25 bytes, over the limit of 24 (maxBytes)',
		});
	});

	it('keeps a field value of several MiB whole: ActiveCampaign puts no limit on a field', () => {
		const value = 'x'.repeat(DEFAULT_PARSE_LIMITS.maxBytes - 'note='.length);
		const parsed = parsedBody(parseDeliveryBody(`note=${value}`, FORM));
		expect((parsed.note as string).length).toBe(value.length);
	});

	it('refuses a default-limit body one byte over 4 MiB with 413', () => {
		const result = parseDeliveryBody(`note=${'x'.repeat(DEFAULT_PARSE_LIMITS.maxBytes - 4)}`, FORM);
		expect(result).toEqual({
			ok: false,
			status: 413,
			reason: 'Body is 4194305 bytes, over the limit of 4194304 (maxBytes)',
		});
	});

	it("parses ActiveCampaign's deepest key, deal[fields][0][value][0]", () => {
		expect(parsedBody(parseDeliveryBody('deal[fields][0][value][0]=a', FORM))).toEqual({
			deal: { fields: { '0': { value: { '0': 'a' } } } },
		});
	});

	it('parses a key exactly maxDepth bracket levels deep whole', () => {
		expect(parsedBody(parseDeliveryBody('a[1][2][3][4][5][6][7][8]=deep', FORM))).toEqual({
			a: { '1': { '2': { '3': { '4': { '5': { '6': { '7': { '8': 'deep' } } } } } } } },
		});
	});

	it('refuses a key one level deeper than maxDepth with 400 instead of flattening it', () => {
		expect(parseDeliveryBody('a[1][2][3][4][5][6][7][8][9]=deep', FORM)).toEqual({
			ok: false,
			status: 400,
			reason: 'A key nests deeper than 8 bracket levels (maxDepth)',
		});
	});

	it.each(['[]', '[][x]', '%5B%5D'])('refuses a key of thousands of %s with 400 before numbering them (once 45 s of CPU for a 40 KB body)', (brackets) => {
		const refused = { ok: false, status: 400, reason: 'A key nests deeper than 8 bracket levels (maxDepth)' };
		expect(parseDeliveryBody(`type=update&a${brackets.repeat(20_000)}=1`, FORM)).toEqual(refused);
		expect(parseDeliveryBody(`type=update&a${'[]'.repeat(9)}=1`, FORM)).toEqual(refused);
		expect(parsedBody(parseDeliveryBody(`a${'[]'.repeat(8)}=1`, FORM))).toEqual({ a: [[[[[[[['1']]]]]]]] });
	});

	it('applies maxDepth to JSON with the same meaning: {"a":{"b":1}} is one level, like a[b]', () => {
		const nest = (levels: number): string => `{"a":${'{"b":'.repeat(levels)}1${'}'.repeat(levels)}}`;
		expect(parseDeliveryBody(nest(2), 'application/json', { maxDepth: 2 }).ok).toBe(true);
		expect(parseDeliveryBody(nest(3), 'application/json', { maxDepth: 2 })).toEqual({
			ok: false,
			status: 400,
			reason: 'A value nests deeper than 2 levels (maxDepth)',
		});
	});

	it('applies maxParameters to the scalar values of a JSON body', () => {
		expect(parseDeliveryBody('{"a":1,"b":[2,3]}', 'application/json', { maxParameters: 3 }).ok).toBe(true);
		expect(parseDeliveryBody('{"a":1,"b":[2,3,4]}', 'application/json', { maxParameters: 3 })).toEqual({
			ok: false,
			status: 413,
			reason: 'Body has more than 3 values (maxParameters)',
		});
	});

	it('applies maxBytes to a JSON body', () => {
		expect(parseDeliveryBody('{"a":"bc"}', 'application/json', { maxBytes: 9 })).toEqual({
			ok: false,
			status: 413,
			reason: 'Body is 10 bytes, over the limit of 9 (maxBytes)',
		});
	});

	it('throws on a limit that is not a positive integer: a configuration error, not a bad delivery', () => {
		expect(() => parseDeliveryBody('a=1', FORM, { maxDepth: 0 })).toThrow(
			new RangeError('Parse limit maxDepth must be a positive integer, got 0'),
		);
	});
});

describe('parseDeliveryBody: prototype pollution', () => {
	afterEach(() => {
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});

	it.each([
		['__proto__[polluted]=yes', '__proto__[polluted]'],
		['contact[__proto__][polluted]=yes', 'contact[__proto__][polluted]'],
		['%5F%5Fproto%5F%5F%5Bpolluted%5D=yes', '__proto__[polluted]'],
		['constructor[prototype][polluted]=yes', 'constructor[prototype][polluted]'],
		['contact[constructor][prototype][polluted]=yes', 'contact[constructor][prototype][polluted]'],
		['__proto__=yes', '__proto__'],
	])('refuses the form body %s with 400 and pollutes nothing', (body, key) => {
		expect(parseDeliveryBody(`type=update&${body}`, FORM)).toEqual({
			ok: false,
			status: 400,
			reason: `Refused body: key "${key}" could reach Object.prototype`,
		});
	});

	it.each([
		['{"__proto__":{"polluted":"yes"}}', '__proto__'],
		['{"contact":{"__proto__":{"polluted":"yes"}}}', '__proto__'],
		['{"constructor":{"prototype":{"polluted":"yes"}}}', 'constructor'],
	])('refuses the JSON body %s with 400 and pollutes nothing', (json, key) => {
		expect(parseDeliveryBody(json, 'application/json')).toEqual({
			ok: false,
			status: 400,
			reason: `Refused body: key "${key}" could reach Object.prototype`,
		});
	});

	it('keeps constructor and prototype apart as harmless data', () => {
		expect(parsedBody(parseDeliveryBody('contact[fields][constructor]=builder&contact[fields][prototype]=v1', FORM))).toEqual({
			contact: { fields: { constructor: 'builder', prototype: 'v1' } },
		});
	});
});
