/**
 * The three delivery bodies the bench measures, encoded as ActiveCampaign sends them (form-encoded, `+` for
 * spaces, brackets as `%5B%5D`; the shapes follow test/fixtures/deliveries.txt). Each body has one varying
 * value, the contact id, so every iteration can send a body never seen before: the dedup step then takes its
 * "new event" path, which is the common one.
 */
import { encodeDeliveryBody } from '../test/simulator/delivery';

export interface BodyTemplate {
	/** Key suffix in results.json: `p1_ratio_<name>`. */
	name: 'typical' | '200fields' | 'deal_update';
	label: string;
	/** The body with `serial` as its contact id. Always a flat string (see {@link flat}). */
	vary(serial: number): string;
	/** Length of one body in bytes, for the table. */
	bytes: number;
}

/** Stands in for the contact id; it survives form encoding unchanged. */
const SERIAL = 'BENCHSERIAL';

const contactBlock = (fields: Record<string, string>) => ({
	id: SERIAL,
	email: 'jane.doe@example.com',
	first_name: 'Jane',
	last_name: 'Doe',
	phone: '+15555550123',
	ip: '203.0.113.7',
	tags: 'customer, newsletter',
	fields,
	customer_acct_name: 'Acme Inc',
	orgname: 'Acme Inc',
});

const account = { customer_acct_name: 'Acme Inc', customer_acct_id: '42', orgname: 'Acme Inc' };

const contactEvent = (type: string, list: string, fields: Record<string, string>) => ({
	type,
	date_time: '2024-05-14T09:21:07-05:00',
	initiated_from: 'public',
	initiated_by: 'public',
	list,
	contact: contactBlock(fields),
	...account,
});

/** A contact event as a campaign burst produces them: envelope, contact block with a few custom fields. */
const typical = {
	...contactEvent('subscribe', '3', {
		'12': 'Spring Promo',
		'39': '11111111-2222-4333-8444-555555555555',
		'41': '||Email||SMS||',
	}),
	form: { id: '5' },
};

/** A custom field value of the kinds accounts hold: text, empty, dates, numbers, URLs, multi-selects. */
function fieldValue(id: number): string {
	if (id % 11 === 0) return '';
	if (id % 10 === 0) return '||Option A||Option B||Option C||';
	if (id % 7 === 0) return '2024-05-01';
	if (id % 5 === 0) return `${id * 37}.50`;
	if (id % 3 === 0) return `https://www.example.com/landing/${id}?utm_source=ac&utm_campaign=may`;
	return `Answer number ${id}, with some words`;
}

function contactFields(count: number): Record<string, string> {
	const fields: Record<string, string> = {};
	for (let id = 1; id <= count; id++) fields[String(id)] = fieldValue(id);
	return fields;
}

const withManyFields = contactEvent('update', '0', contactFields(200));

/** Positional deal fields, `[n][id]`, `[n][key]`, `[n][value]`; one multi-value list among them. */
function dealFields(count: number): Array<Record<string, unknown>> {
	return Array.from({ length: count }, (_, index) => ({
		id: String(index + 1),
		key: `Deal field ${index + 1}`,
		value: index === 12 ? ['EMEA', 'APAC'] : fieldValue(index + 1),
	}));
}

const dealUpdate = {
	type: 'deal_update',
	date_time: '2024-02-28T04:45:41-06:00',
	initiated_from: 'admin',
	initiated_by: 'admin',
	list: '0',
	updated_fields: ['title', 'value', 'stage'],
	contact: contactBlock({ '1': 'Marker', '2': '||Gold||Coins||' }),
	...account,
	deal: {
		id: '1',
		title: 'Test Deal',
		create_date: '2024-02-28 04:36:09',
		create_date_iso: '2024-02-28T04:36:09-06:00',
		orgid: '1',
		orgname: 'Acme Inc',
		stageid: '1',
		stage_title: 'To Contact',
		pipelineid: '1',
		pipeline_title: 'Test Pipeline',
		value: '1,044,055.00',
		value_raw: '1044055',
		currency: 'usd',
		currency_symbol: '$',
		owner: '1',
		owner_firstname: 'Winston',
		owner_lastname: 'Scott',
		contactid: SERIAL,
		contact_email: 'jane.doe@example.com',
		contact_firstname: 'Jane',
		contact_lastname: 'Doe',
		status: '0',
		fields: dealFields(30),
	},
};

/**
 * A string built by `+` is a rope in V8 until something flattens it, and the first consumer pays for that.
 * The bench hands the same body to two contenders, so each body is flattened before either sees it.
 */
function flat(text: string): string {
	return Buffer.from(text, 'latin1').toString('latin1');
}

function template(name: BodyTemplate['name'], label: string, body: Record<string, unknown>): BodyTemplate {
	const parts = encodeDeliveryBody(body).split(SERIAL);
	return {
		name,
		label,
		vary: (serial) => flat(parts.join(String(serial))),
		bytes: Buffer.byteLength(parts.join('1000000')),
	};
}

export const BODIES: readonly BodyTemplate[] = [
	template('typical', 'contact event (subscribe, 3 custom fields)', typical),
	template('200fields', 'contact event with 200 custom fields', withManyFields),
	template('deal_update', 'deal_update with 30 deal fields', dealUpdate),
];
