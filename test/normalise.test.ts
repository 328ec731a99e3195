import { EVENT_IDS } from '../nodes/ActiveCampaignTrigger/catalog';
import { toItem, type DeliveryItem } from '../nodes/ActiveCampaignTrigger/delivery/normalise';
import { parseDeliveryBody } from '../nodes/ActiveCampaignTrigger/delivery/parse';
import { DELIVERY_BODIES, readExpectedItem } from './fixtures/deliveryBodies';

const FORM = 'application/x-www-form-urlencoded';

function parse(body: string, contentType = FORM): Record<string, unknown> {
	const result = parseDeliveryBody(body, contentType);
	if (!result.ok) throw new Error(`expected a parsed body, got ${result.status}: ${result.reason}`);
	return result.body;
}

function itemOf(body: string, contentType = FORM): DeliveryItem {
	const result = toItem(parse(body, contentType), { includeRaw: false });
	if (!result.ok) throw new Error(`expected an item, got: ${result.reason}`);
	return result.item;
}

const json = (value: unknown): string => JSON.stringify(value);

const ENVELOPE = 'type=update&date_time=2024-02-28T04%3A45%3A41-06%3A00&initiated_from=admin&initiated_by=admin&list=0';

/** The item fields every standard event in these tests shares, as produced from {@link ENVELOPE}. */
const ITEM_HEAD = {
	event: 'update',
	occurredAt: '2024-02-28T10:45:41.000Z',
	initiatedFrom: 'admin',
	initiatedBy: 'admin',
	listId: null,
};

describe('toItem: every sample and written body', () => {
	it.each(DELIVERY_BODIES.map(({ fixture, body }) => [fixture, body]))(
		'%s yields the expected item',
		(fixture, body) => {
			expect(itemOf(body)).toEqual(readExpectedItem(fixture));
		},
	);

	it('covers every catalog event once, plus the automation webhook', () => {
		const events = DELIVERY_BODIES.map(({ event }) => event);
		expect([...events].sort()).toEqual([...EVENT_IDS, '(automation)'].sort());
	});
});

describe('toItem: event', () => {
	it('is `type` for standard events', () => {
		expect(itemOf('type=deal_add&list=0').event).toBe('deal_add');
	});

	it('is `type` even for an event the catalog does not know yet', () => {
		expect(itemOf('type=contact_merged&list=0').event).toBe('contact_merged');
	});

	it('is "automation" for a contact block and seriesid without any envelope', () => {
		expect(itemOf('contact[id]=1&contact[email]=a%40b.example&seriesid=31')).toEqual({
			event: 'automation',
			occurredAt: null,
			initiatedFrom: null,
			initiatedBy: null,
			listId: null,
			contact: { id: '1', email: 'a@b.example' },
			seriesid: '31',
		});
	});

	it('is "automation" for a contact block without seriesid (the action sends what has a value)', () => {
		expect(itemOf('contact[id]=1').event).toBe('automation');
	});

	it('is "custom" for a contact block with envelope keys but no type', () => {
		expect(itemOf('contact[id]=1&date_time=2024-02-28T04%3A45%3A41-06%3A00').event).toBe('custom');
	});

	it.each(['event', 'webhook_event', 'topic'])(
		'is the `%s` field of a payload without type, which is then not repeated',
		(key) => {
			expect(itemOf(json({ [key]: 'record.created', record: { id: 7 } }), 'application/json')).toEqual({
				event: 'record.created',
				occurredAt: null,
				initiatedFrom: null,
				initiatedBy: null,
				listId: null,
				record: { id: 7 },
			});
		},
	);

	it('prefers `type` over an `event` field, which is then kept under bodyFields', () => {
		const result = toItem({ type: 'update', event: 'other' }, { includeRaw: true });
		expect(result).toEqual({
			ok: true,
			item: {
				...ITEM_HEAD,
				occurredAt: null,
				initiatedFrom: null,
				initiatedBy: null,
				bodyFields: { event: 'other' },
				raw: { type: 'update', event: 'other' },
			},
		});
	});

	it('keeps a custom payload\'s keys named like the item\'s own fields under bodyFields, as sent', () => {
		const body = {
			type: 'order.created',
			event: { id: 7, total: '12.50' },
			occurredAt: 1717171717,
			listId: 9,
			raw: 'x',
			bodyFields: ['y'],
			order: { id: 7 },
		};
		expect(toItem(body, { includeRaw: false, anyShape: true })).toEqual({
			ok: true,
			item: {
				event: 'order.created',
				occurredAt: null,
				initiatedFrom: null,
				initiatedBy: null,
				listId: null,
				order: { id: 7 },
				bodyFields: { event: { id: 7, total: '12.50' }, occurredAt: 1717171717, listId: 9, raw: 'x', bodyFields: ['y'] },
			},
		});
	});

	it('is "custom" for a payload with no type, no event name and no contact block', () => {
		expect(itemOf(json({ record: { id: 7 }, changes: ['name'] }), 'application/json')).toEqual({
			event: 'custom',
			occurredAt: null,
			initiatedFrom: null,
			initiatedBy: null,
			listId: null,
			record: { id: 7 },
			changes: ['name'],
		});
	});
});

describe('toItem: occurredAt', () => {
	const at = (dateTime: string): unknown => itemOf(`type=update&date_time=${encodeURIComponent(dateTime)}`);

	it('applies a negative UTC offset', () => {
		expect(at('2024-02-28T04:45:41-06:00')).toMatchObject({ occurredAt: '2024-02-28T10:45:41.000Z' });
	});

	it('applies a positive offset across midnight, with or without the colon', () => {
		expect(at('2024-03-01T02:15:00+05:30')).toMatchObject({ occurredAt: '2024-02-29T20:45:00.000Z' });
		expect(at('2024-03-01T02:15:00+0530')).toMatchObject({ occurredAt: '2024-02-29T20:45:00.000Z' });
	});

	it('reads a time without seconds', () => {
		expect(at('2024-02-28T04:45-06:00')).toMatchObject({ occurredAt: '2024-02-28T10:45:00.000Z' });
	});

	it('reads Z as UTC and keeps milliseconds', () => {
		expect(at('2024-02-28T10:45:41.123Z')).toMatchObject({ occurredAt: '2024-02-28T10:45:41.123Z' });
	});

	it('consumes date_time once it is an instant', () => {
		expect(at('2024-02-28T04:45:41-06:00')).not.toHaveProperty('date_time');
	});

	it('is null for a date without offset, whose zone is unknown, and keeps date_time as delivered', () => {
		expect(at('2024-02-28 04:45:41')).toEqual({
			event: 'update',
			occurredAt: null,
			initiatedFrom: null,
			initiatedBy: null,
			listId: null,
			date_time: '2024-02-28 04:45:41',
		});
	});

	it('is null without date_time, and for an empty one', () => {
		expect(itemOf('type=update').occurredAt).toBeNull();
		expect(itemOf('type=update&date_time=')).not.toHaveProperty('date_time');
		expect(itemOf('type=update&date_time=').occurredAt).toBeNull();
	});

	it.each([
		['yesterday', 'date_time: "yesterday" is not a date'],
		['2024-13-01T00:00:00Z', 'date_time: "2024-13-01T00:00:00Z" is not a date'],
		['2023-02-29T00:00:00Z', 'date_time: "2023-02-29T00:00:00Z" is not a date'],
		['2024-02-28T24:00:00Z', 'date_time: "2024-02-28T24:00:00Z" is not a date'],
		['2024-02-28T04:45:41+25:00', 'date_time: "2024-02-28T04:45:41+25:00" is not a date'],
	])('refuses the date_time %s', (dateTime, reason) => {
		expect(toItem({ type: 'update', date_time: dateTime }, { includeRaw: false })).toEqual({ ok: false, reason });
	});

	it.each(['9999-12-31T20:00:00-05:00', '0000-01-01T03:00:00+04:00'])(
		'claims no instant for %s, which falls outside the four-digit years, and keeps date_time as sent',
		(dateTime) => {
			expect(at(dateTime)).toMatchObject({ occurredAt: null, date_time: dateTime });
		},
	);

	it('keeps the last and first instants of the four-digit years', () => {
		expect(at('9999-12-31T18:59:59-05:00')).toMatchObject({ occurredAt: '9999-12-31T23:59:59.000Z' });
		expect(at('0000-01-01T04:00:00+04:00')).toMatchObject({ occurredAt: '0000-01-01T00:00:00.000Z' });
	});

	it('accepts 29 February of a leap year', () => {
		expect(at('2024-02-29T12:00:00Z')).toMatchObject({ occurredAt: '2024-02-29T12:00:00.000Z' });
	});
});

describe('toItem: envelope', () => {
	it('maps initiated_from and initiated_by and consumes them', () => {
		const item = itemOf('type=update&initiated_from=public&initiated_by=api');
		expect(item).toEqual({ ...ITEM_HEAD, occurredAt: null, initiatedFrom: 'public', initiatedBy: 'api' });
	});

	it('reads list "0" as no list', () => {
		expect(itemOf(ENVELOPE)).toEqual(ITEM_HEAD);
	});

	it('reads a scalar list as the list id and consumes it', () => {
		expect(itemOf('type=subscribe&list=3')).toEqual({
			...ITEM_HEAD,
			event: 'subscribe',
			occurredAt: null,
			initiatedFrom: null,
			initiatedBy: null,
			listId: '3',
		});
	});

	it('reads a JSON number list as the list id text', () => {
		expect(itemOf(json({ type: 'subscribe', list: 3 }), 'application/json').listId).toBe('3');
	});

	it('keeps a list[][id] list under `list` as references, with no list id', () => {
		expect(itemOf('type=unsubscribe&list[][id]=3')).toMatchObject({ listId: null, list: [{ id: '3' }] });
		expect(itemOf('type=unsubscribe&list[0][id]=3&list[1][id]=5')).toMatchObject({
			listId: null,
			list: [{ id: '3' }, { id: '5' }],
		});
	});

	it("keeps list_add's list object under `list`, with no list id", () => {
		expect(itemOf('type=list_add&list[id]=12&list[name]=Webinar')).toMatchObject({
			listId: null,
			list: { id: '12', name: 'Webinar' },
		});
	});

	it('keeps the other envelope keys under their own names', () => {
		expect(itemOf(`${ENVELOPE}&customer_acct_name=Acme&customer_acct_id=42&orgname=Acme&account_id=474042`)).toEqual({
			...ITEM_HEAD,
			customer_acct_name: 'Acme',
			customer_acct_id: '42',
			orgname: 'Acme',
			account_id: '474042',
		});
	});

	it('accepts customer_account_id (AAPI, MD) as well as customer_acct_id, keeping the name delivered', () => {
		expect(itemOf(`${ENVELOPE}&customer_account_id=42`)).toEqual({ ...ITEM_HEAD, customer_account_id: '42' });
	});
});

describe('toItem: contact', () => {
	const contactOf = (query: string): unknown => itemOf(`${ENVELOPE}&${query}`).contact;

	it('splits tags on commas and trims them', () => {
		expect(contactOf('contact[tags]=customer%2C+newsletter%2C++vip+')).toEqual({ tags: ['customer', 'newsletter', 'vip'] });
	});

	it('reads empty tags as an empty list', () => {
		expect(contactOf('contact[tags]=')).toEqual({ tags: [] });
	});

	it('keeps a JSON list of tags', () => {
		expect(itemOf(json({ type: 'update', contact: { tags: ['a', 'b'] } }), 'application/json').contact).toEqual({
			tags: ['a', 'b'],
		});
	});

	it('keys custom fields by field id, with single values as text', () => {
		expect(contactOf('contact[fields][39]=abc&contact[fields][7]=x')).toEqual({ fields: { '7': 'x', '39': 'abc' } });
	});

	it('keys automation custom fields by personalisation tag', () => {
		expect(itemOf('contact[fields][utm_source]=google&seriesid=3').contact).toEqual({ fields: { utm_source: 'google' } });
	});

	it('splits a ||a||b|| multi-value into a list', () => {
		expect(contactOf('contact[fields][41]=%7C%7CEmail%7C%7CSMS%7C%7C')).toEqual({ fields: { '41': ['Email', 'SMS'] } });
	});

	it('reads an empty multi-value (||) as an empty list', () => {
		expect(contactOf('contact[fields][41]=%7C%7C')).toEqual({ fields: { '41': [] } });
	});

	it('reads an empty fields block as no fields', () => {
		expect(contactOf('contact[fields]=')).toEqual({ fields: {} });
	});

	it('keys a JSON list of fields by position (their ids were lost upstream)', () => {
		expect(itemOf(json({ type: 'update', contact: { fields: ['a', '||b||c||'] } }), 'application/json').contact).toEqual({
			fields: { '0': 'a', '1': ['b', 'c'] },
		});
	});

	it('keeps automation fields (ip4) and unknown contact keys as delivered', () => {
		expect(contactOf('contact[ip4]=203.0.113.7&contact[new_attribute]=x')).toEqual({
			ip4: '203.0.113.7',
			new_attribute: 'x',
		});
	});

	it('keeps a field named like an Object.prototype member as data', () => {
		expect(contactOf('contact[fields][constructor]=builder')).toEqual({ fields: { constructor: 'builder' } });
		expect(({} as Record<string, unknown>).builder).toBeUndefined();
	});

	it('reads JSON numbers, booleans and null in text fields as text', () => {
		expect(
			itemOf(json({ type: 'update', contact: { id: 1234, phone: null, fields: { '3': 7, '4': true } } }), 'application/json')
				.contact,
		).toEqual({ id: '1234', phone: '', fields: { '3': '7', '4': 'true' } });
	});
});

describe('toItem: deal and account custom fields', () => {
	it('lists positional fields in index order, 0 to 11 numerically', () => {
		const field = (n: number): string =>
			`deal[fields][${n}][id]=${n + 1}&deal[fields][${n}][key]=F${n}&deal[fields][${n}][value]=v${n}`;
		const query = Array.from({ length: 12 }, (_, n) => field(n))
			.reverse()
			.join('&');
		expect(itemOf(`${ENVELOPE}&${query}`).deal).toEqual({
			fields: Array.from({ length: 12 }, (_, n) => ({ id: String(n + 1), key: `F${n}`, value: `v${n}` })),
		});
	});

	it('splits a multi-value and lists an indexed value', () => {
		expect(
			itemOf(
				`${ENVELOPE}&deal[fields][0][id]=1&deal[fields][0][key]=A&deal[fields][0][value]=%7C%7Cx%7C%7Cy%7C%7C` +
					'&deal[fields][1][id]=2&deal[fields][1][key]=B&deal[fields][1][value][0]=p&deal[fields][1][value][1]=q',
			).deal,
		).toEqual({
			fields: [
				{ id: '1', key: 'A', value: ['x', 'y'] },
				{ id: '2', key: 'B', value: ['p', 'q'] },
			],
		});
	});

	it('gives a missing id or value null', () => {
		expect(itemOf(`${ENVELOPE}&account[fields][0][key]=Address+2`).account).toEqual({
			fields: [{ id: null, key: 'Address 2', value: null }],
		});
	});

	it('accepts fields keyed by name (AAPI) as entries with a key and no id', () => {
		expect(itemOf(`${ENVELOPE}&account[fields][Description]=Widgets&account[fields][Industry]=Retail`).account).toEqual({
			fields: [
				{ id: null, key: 'Description', value: 'Widgets' },
				{ id: null, key: 'Industry', value: 'Retail' },
			],
		});
	});

	it('accepts fields keyed by field id (MD) as entries with an id and no key', () => {
		expect(itemOf(`${ENVELOPE}&account[fields][12]=Widgets`).account).toEqual({
			fields: [{ id: '12', key: null, value: 'Widgets' }],
		});
	});

	it('accepts a JSON list of fields', () => {
		expect(
			itemOf(json({ type: 'deal_update', deal: { fields: [{ id: 1, key: 'A', value: 'x' }, 'loose'] } }), 'application/json')
				.deal,
		).toEqual({
			fields: [
				{ id: '1', key: 'A', value: 'x' },
				{ id: null, key: null, value: 'loose' },
			],
		});
	});

	it('keeps unknown parts of a field entry', () => {
		expect(itemOf(`${ENVELOPE}&deal[fields][0][id]=1&deal[fields][0][type]=date`).deal).toEqual({
			fields: [{ id: '1', key: null, value: null, type: 'date' }],
		});
	});

	it('accepts account[account_name] (HOP) as well as account[name], keeping the name delivered', () => {
		expect(itemOf(`${ENVELOPE}&account[account_name]=Acme`).account).toEqual({ account_name: 'Acme' });
		expect(itemOf(`${ENVELOPE}&account[name]=Acme`).account).toEqual({ name: 'Acme' });
	});
});

describe('toItem: other blocks', () => {
	it('lists updated_fields in index order', () => {
		const query = Array.from({ length: 11 }, (_, n) => `updated_fields[${n}]=f${n}`).reverse().join('&');
		expect(itemOf(`${ENVELOPE}&${query}`).updated_fields).toEqual(Array.from({ length: 11 }, (_, n) => `f${n}`));
	});

	it('keeps a JSON list of updated_fields and reads a lone name as a one-name list', () => {
		expect(itemOf(json({ type: 'deal_update', updated_fields: ['title'] }), 'application/json').updated_fields).toEqual([
			'title',
		]);
		expect(itemOf(`${ENVELOPE}&updated_fields=title`).updated_fields).toEqual(['title']);
	});

	it('accepts task[dueDate] (AAPI) as well as task[duedate], keeping the name delivered', () => {
		expect(itemOf(`${ENVELOPE}&task[dueDate]=2024-02-28+07%3A00%3A48`).task).toEqual({ dueDate: '2024-02-28 07:00:48' });
		expect(itemOf(`${ENVELOPE}&task[duedate]=2024-02-28+07%3A00%3A48`).task).toEqual({ duedate: '2024-02-28 07:00:48' });
	});

	it('keeps note as text (subscriber_note) or as an object (deal_note_add)', () => {
		expect(itemOf(`${ENVELOPE}&note=Hello`).note).toBe('Hello');
		expect(itemOf(`${ENVELOPE}&note[id]=9&note[text]=Hello`).note).toEqual({ id: '9', text: 'Hello' });
	});

	it('keeps unknown top-level keys and blocks as parsed', () => {
		expect(itemOf(`${ENVELOPE}&active_subscriptions[0]=3&User-Agent=Mozilla`)).toEqual({
			...ITEM_HEAD,
			active_subscriptions: { '0': '3' },
			'User-Agent': 'Mozilla',
		});
	});

	it('accepts the snake_case account_contact block (HOP) as well as accountContact', () => {
		expect(itemOf(`${ENVELOPE}&account_contact[id]=77&account_contact[job_title]=CTO`).account_contact).toEqual({
			id: '77',
			job_title: 'CTO',
		});
	});
});

describe('toItem: raw', () => {
	it('adds the parse, untouched, under raw when asked', () => {
		const body = parse(`${ENVELOPE}&contact[tags]=a%2C+b`);
		const result = toItem(body, { includeRaw: true });
		expect(result).toEqual({ ok: true, item: { ...ITEM_HEAD, contact: { tags: ['a', 'b'] }, raw: body } });
		expect(result.ok && result.item.raw).toBe(body);
		expect(body.contact).toEqual({ tags: 'a, b' });
	});

	it('has no raw key otherwise', () => {
		expect(itemOf(ENVELOPE)).not.toHaveProperty('raw');
	});
});

describe('toItem: refusals', () => {
	it.each([
		[{ type: 'update', contact: 'jane@example.com' }, 'contact: expected an object, got text'],
		[{ type: { name: 'update' } }, 'type: expected text, got an object'],
		[{ type: '' }, 'type: is empty'],
		[{ type: 'update', contact: { email: ['a', 'b'] } }, 'contact[email]: expected text, got a list'],
		[{ type: 'update', contact: { fields: { '39': { nested: 'x' } } } }, 'contact[fields][39][nested]: is not a list index'],
		[{ type: 'update', deal: { fields: 'x' } }, 'deal[fields]: has an unexpected shape (text)'],
		[{ type: 'update', updated_fields: { a: 'title' } }, 'updated_fields[a]: is not a list index'],
		[{ type: 'update', deal: { fields: [{ id: {} }] } }, 'deal[fields][0][id]: expected text, got an object'],
	])('refuses %j with a short reason', (body, reason) => {
		expect(toItem(body, { includeRaw: false })).toEqual({ ok: false, reason });
	});

	it('counts the other problems in the reason', () => {
		expect(toItem({ type: {}, contact: 'x', deal: 1 }, { includeRaw: false })).toEqual({
			ok: false,
			reason: 'type: expected text, got an object (and 2 more problems)',
		});
	});

	it('refuses a form body that repeats a scalar key (the parse keeps both values)', () => {
		expect(toItem(parse('type=update&contact[email]=a&contact[email]=b'), { includeRaw: false })).toEqual({
			ok: false,
			reason: 'contact[email]: expected text, got a list',
		});
	});
});

describe('toItem: prototype safety', () => {
	it('leaves out an own __proto__ key of a body built without parseDeliveryBody, polluting nothing', () => {
		const body = JSON.parse('{"type":"update","__proto__":{"polluted":"yes"}}') as Record<string, unknown>;
		const result = toItem(body, { includeRaw: false });
		expect(result).toEqual({ ok: true, item: { ...ITEM_HEAD, occurredAt: null, initiatedFrom: null, initiatedBy: null } });
		expect(Object.keys(result.ok ? result.item : {})).not.toContain('__proto__');
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});
});
