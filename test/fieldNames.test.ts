/**
 * Custom fields by name: the mapping (fieldNames.ts), the per-credential cache and its refresh rules, the API
 * listings against the simulator, and the node's webhook() in n8n-core's context with the option on.
 */
import { ActiveCampaignClient } from '../nodes/ActiveCampaignTrigger/lifecycle/apiClient';
import {
	NAMES_RETRY_MS,
	NAMES_TTL_MS,
	buildFieldNames,
	fieldNamesFor,
	forgetFieldNames,
	nameFields,
	type FieldNames,
} from '../nodes/ActiveCampaignTrigger/delivery/fieldNames';
import { DELIVERY_BODIES } from './fixtures/deliveryBodies';
import { ActiveCampaignSimulator, DEFAULT_CONTACT_FIELDS } from './simulator/ActiveCampaignSimulator';
import { activate, deliverToNode, type TriggerSetup } from './support/n8nContext';
import { TRIGGER_STATE_KEY as STATE_KEY } from './support/triggerNode';
import { RecordingLog } from './support/recordingLog';

const NAMES = buildFieldNames(
	DEFAULT_CONTACT_FIELDS.map((field) => ({ ...field, tag: field.tag.toLowerCase() })),
	[{ id: '1', title: 'Forecasted Close Date', tag: 'deal_forecasted_close_date' }],
);

describe('nameFields', () => {
	const standard = { event: 'update', contact: { id: '1', fields: { '2': ['Email', 'SMS'], '39': 'google' } } };
	const automation = { event: 'automation', contact: { id: '1', fields: { interests: ['Email', 'SMS'], utm_source: 'google' } } };

	it('keys a standard event and an automation payload alike by personalisation tag', () => {
		expect(nameFields(standard, NAMES, 'tag')).toEqual({
			item: { event: 'update', contact: { id: '1', fields: { interests: ['Email', 'SMS'], utm_source: 'google' } } },
			unknown: false,
		});
		expect(nameFields(automation, NAMES, 'tag').item.contact.fields).toEqual(nameFields(standard, NAMES, 'tag').item.contact.fields);
	});

	it('keys both alike by title, as ActiveCampaign shows it', () => {
		const fields = { Interests: ['Email', 'SMS'], 'UTM source': 'google' };
		expect(nameFields(standard, NAMES, 'title').item.contact.fields).toEqual(fields);
		expect(nameFields(automation, NAMES, 'title').item.contact.fields).toEqual(fields);
	});

	it('appends the id to a title two fields share, and drops nothing', () => {
		const item = { contact: { fields: { '12': 'webinar', '41': 'fair' } } };
		expect(nameFields(item, NAMES, 'title').item.contact.fields).toEqual({ 'Lead source (12)': 'webinar', 'Lead source (41)': 'fair' });
	});

	it('keeps what it cannot name, says so, and does not change the given item', () => {
		const item = { contact: { fields: { '2': 'x', '999': 'new field', Interests: 'literal key' } } };
		const before = structuredClone(item);
		const named = nameFields(item, NAMES, 'title');
		expect(named).toEqual({ item: { contact: { fields: { Interests: 'x', '999': 'new field', 'Interests (Interests)': 'literal key' } } }, unknown: true });
		expect(item).toEqual(before);
		expect(nameFields(item, undefined, 'tag')).toEqual({ item, unknown: true });
	});

	it('keeps a field named __proto__ as data, and every field of a name taken three times', () => {
		const names = buildFieldNames(
			[
				{ id: '1', title: '__proto__', tag: '__proto__' },
				{ id: '2', title: 'Same', tag: 'same' },
				{ id: '3', title: 'Same', tag: 'same_too' },
			],
			[],
		);
		const byTag = nameFields({ contact: { fields: { '1': 'x' } } }, names, 'tag').item.contact.fields;
		expect(Object.keys(byTag)).toEqual(['__proto__']);
		expect(Object.getPrototypeOf(byTag)).toBe(Object.prototype);
		// Numeric keys come first: field 2 takes "Same (2)", so the literal keys that follow must step aside.
		const item = { contact: { fields: { 'Same (2) (Same (2))': 'y', 'Same (2)': 'literal', '2': 'a' } } };
		const collided = nameFields(item, names, 'title').item.contact.fields;
		expect(collided).toEqual({ 'Same (2)': 'a', 'Same (2) (Same (2))': 'y', 'Same (2) (Same (2), 2)': 'literal' });
	});

	it('gives deal custom fields their title and tag beside id, key and value', () => {
		const item = { deal: { fields: [{ id: '1', key: 'Forecasted Close Date', value: '2024-03-01' }, { id: '77', key: null, value: 'x' }] } };
		expect(nameFields(item, NAMES, 'tag')).toEqual({
			item: {
				deal: {
					fields: [
						{ id: '1', key: 'Forecasted Close Date', value: '2024-03-01', title: 'Forecasted Close Date', tag: 'deal_forecasted_close_date' },
						{ id: '77', key: null, value: 'x' },
					],
				},
			},
			unknown: true,
		});
	});
});

describe('fieldNamesFor', () => {
	let now = Date.parse('2026-12-04T10:00:00Z');
	let clock: jest.SpyInstance;
	beforeEach(() => {
		forgetFieldNames();
		clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
	});
	afterEach(() => clock.mockRestore());

	function counting(result: () => Promise<FieldNames>) {
		const load = jest.fn(result);
		return load;
	}

	it('loads once, shares the names until the TTL, then reloads', async () => {
		const load = counting(async () => NAMES);
		const log = new RecordingLog();
		expect(await fieldNamesFor('cred', load, log)).toBe(NAMES);
		expect(await fieldNamesFor('cred', load, log)).toBe(NAMES);
		now += NAMES_TTL_MS - 1;
		await fieldNamesFor('cred', load, log);
		expect(load).toHaveBeenCalledTimes(1);
		now += 1;
		await fieldNamesFor('cred', load, log);
		expect(load).toHaveBeenCalledTimes(2);
		expect(await fieldNamesFor('other-cred', load, log)).toBe(NAMES);
		expect(load).toHaveBeenCalledTimes(3);
	});

	it('reloads for an unknown id at once, then at most once per TTL', async () => {
		const load = counting(async () => NAMES);
		const log = new RecordingLog();
		await fieldNamesFor('cred', load, log);
		now += 1000;
		await fieldNamesFor('cred', load, log, { unknownSeen: true });
		expect(load).toHaveBeenCalledTimes(2);
		now += 1000;
		await fieldNamesFor('cred', load, log, { unknownSeen: true });
		now += NAMES_TTL_MS - 2001;
		await fieldNamesFor('cred', load, log, { unknownSeen: true });
		expect(load).toHaveBeenCalledTimes(2);
		now += 1001;
		await fieldNamesFor('cred', load, log, { unknownSeen: true });
		expect(load).toHaveBeenCalledTimes(3);
	});

	it('warns once per outage, answers without names meanwhile, retries sooner, and says when names are back', async () => {
		let down = true;
		const load = counting(async () => {
			if (down) throw new Error('HTTP 503');
			return NAMES;
		});
		const log = new RecordingLog();
		expect(await fieldNamesFor('cred', load, log)).toBeUndefined();
		expect(await fieldNamesFor('cred', load, log)).toBeUndefined();
		now += NAMES_RETRY_MS;
		expect(await fieldNamesFor('cred', load, log)).toBeUndefined();
		expect(load).toHaveBeenCalledTimes(2);
		expect(log.lines).toEqual([
			'warn: ActiveCampaign Trigger: could not read custom field names (HTTP 503); fields keep their ids or tags until they can be read',
		]);
		down = false;
		now += NAMES_RETRY_MS;
		expect(await fieldNamesFor('cred', load, log)).toBe(NAMES);
		expect(log.lines.at(-1)).toBe('info: ActiveCampaign Trigger: custom field names can be read again');
	});

	it('waits for a slow load only so long, and keeps loading for the next delivery', async () => {
		let finish: (names: FieldNames) => void = () => undefined;
		const load = counting(async () => await new Promise<FieldNames>((resolve) => (finish = resolve)));
		clock.mockRestore();
		expect(await fieldNamesFor('slow', load, new RecordingLog(), { waitMs: 20 })).toBeUndefined();
		finish(NAMES);
		await new Promise((resolve) => setImmediate(resolve));
		expect(await fieldNamesFor('slow', load, new RecordingLog(), { waitMs: 20 })).toBe(NAMES);
		expect(load).toHaveBeenCalledTimes(1);
	});
});

describe('the API listings', () => {
	it('reads every page of contact and deal custom fields from the simulator', async () => {
		const contactFields = Array.from({ length: 230 }, (_, i) => ({ id: String(i + 1), title: `Field ${i + 1}`, tag: `FIELD_${i + 1}` }));
		const simulator = await ActiveCampaignSimulator.start({ apiToken: 'k', contactFields, dealFields: [{ id: '5', title: 'Budget', tag: '%DEAL_BUDGET%' }] });
		try {
			const client = new ActiveCampaignClient({
				apiUrl: simulator.apiUrl,
				sleep: async () => undefined,
				send: async (request) => {
					const url = new URL(`${simulator.apiUrl}/api/3${request.path}`);
					for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, String(value));
					const response = await fetch(url, { headers: { 'Api-Token': 'k' } });
					return { status: response.status, headers: {}, body: await response.json() };
				},
			});
			const fields = await client.listContactFields();
			expect(fields).toHaveLength(230);
			expect(fields[229]).toEqual({ id: '230', title: 'Field 230', tag: 'field_230' });
			expect(await client.listDealFields()).toEqual([{ id: '5', title: 'Budget', tag: 'deal_budget' }]);
			expect(simulator.requests.filter((request) => request.path === '/api/3/fields').map((request) => request.query)).toEqual([
				'limit=100&offset=0',
				'limit=100&offset=100',
				'limit=100&offset=200',
			]);
		} finally {
			await simulator.close();
		}
	});
});

describe("the node's webhook() with Custom Field Keys", () => {
	const SECRET = 'a-known-secret-of-32-characters!';
	const bodyOf = (event: string) => DELIVERY_BODIES.find((body) => body.event === event)!.body;
	let simulator: ActiveCampaignSimulator;
	let workflows = 0;

	beforeAll(async () => {
		simulator = await ActiveCampaignSimulator.start({ apiToken: 'k' });
	});
	afterAll(async () => await simulator.close());
	beforeEach(() => forgetFieldNames());

	function setup(keys: 'tag' | 'title', kind: 'subscriptions' | 'automation' = 'subscriptions'): TriggerSetup {
		const parameters =
			kind === 'subscriptions'
				? { events: ['update'], sources: ['admin', 'public', 'api', 'system'], options: { customFieldKeys: keys, deduplicate: false } }
				: { webhookKind: 'automation', options: { customFieldKeys: keys, deduplicate: false } };
		return {
			workflowId: `wf-names-${++workflows}`,
			parameters,
			credentials: { apiUrl: simulator.apiUrl, apiKey: 'k' },
			queryAuth: { name: 'secret', value: SECRET },
			staticData: { [STATE_KEY]: { secret: SECRET } },
		};
	}

	const emitted = async (trigger: TriggerSetup, body: string) =>
		(await deliverToNode(trigger, { body, query: { secret: SECRET } })).result.workflowData?.flat().map((item) => item.json);

	it('keys an update and an automation payload for the same contact alike, with names read once at activation', async () => {
		const standard = setup('title');
		await activate(standard);
		const listings = () => simulator.requests.filter((request) => request.path === '/api/3/fields').length;
		const afterActivation = listings();
		// n8n activates through checkExists and then create: the names are listed once for both.
		expect(afterActivation).toBe(1);
		const [update] = (await emitted(standard, bodyOf('update')))!;
		expect(update.contact).toMatchObject({ fields: { 'Favourite colours': ['Red', 'Blue', 'Green'], 'Renewal date': '2024-05-01' } });
		expect(listings()).toBe(afterActivation);

		const automationBody = 'contact[id]=1234&contact[email]=jane.doe%40example.com&contact[fields][favourite_colours]=Red&contact[fields][renewal_date]=2024-05-01&seriesid=7';
		const [fromAutomation] = (await emitted(setup('title', 'automation'), automationBody))!;
		expect(Object.keys((fromAutomation.contact as { fields: object }).fields)).toEqual(['Favourite colours', 'Renewal date']);
		const [byTag] = (await emitted(setup('tag', 'automation'), automationBody))!;
		const [updateByTag] = (await emitted(setup('tag'), bodyOf('update')))!;
		expect(Object.keys((byTag.contact as { fields: object }).fields)).toEqual(Object.keys((updateByTag.contact as { fields: object }).fields));
	});

	it('names a field created after activation by reading the names again', async () => {
		const trigger = setup('tag');
		await activate(trigger);
		simulator.addContactField({ id: '88', title: 'Shoe size', tag: 'SHOE_SIZE' });
		const body = bodyOf('update').replace('contact%5Bfields%5D%5B15%5D=', 'contact%5Bfields%5D%5B88%5D=');
		const [item] = (await emitted(trigger, body))!;
		expect((item.contact as { fields: Record<string, unknown> }).fields).toHaveProperty('shoe_size');
	});

	it('emits with ids while the API refuses to list the names, asking once per retry period, not per delivery', async () => {
		const trigger = { ...setup('title'), credentials: { apiUrl: simulator.apiUrl, apiKey: 'a-revoked-key' } };
		const refusedBefore = simulator.requests.filter((request) => request.path === '/api/3/fields' && request.status === 403).length;
		for (let i = 0; i < 3; i++) {
			const [item] = (await emitted(trigger, bodyOf('update')))!;
			expect((item.contact as { fields: object }).fields).toEqual({ '7': ['Red', 'Blue', 'Green'], '15': '2024-05-01' });
		}
		const refused = simulator.requests.filter((request) => request.path === '/api/3/fields' && request.status === 403).length;
		expect(refused - refusedBefore).toBe(1);
	});

	it('activates while the API refuses to list the names (the items keep ids until it does)', async () => {
		const trigger = { ...setup('title', 'automation'), credentials: { apiUrl: simulator.apiUrl, apiKey: 'a-revoked-key' } };
		await expect(activate(trigger)).resolves.toBeUndefined();
	});

	it('leaves custom-object payloads as their author sent them', async () => {
		const trigger = setup('title', 'automation');
		const custom = { ...trigger, parameters: { webhookKind: 'custom', options: { customFieldKeys: 'title', deduplicate: false } } };
		const order = JSON.stringify({ event: 'order_created', contact: { fields: { '7': 'Red' } } });
		const { result } = await deliverToNode(custom, { body: order, query: { secret: SECRET }, contentType: 'application/json' });
		expect(result.workflowData?.flat().map((item) => item.json.contact)).toEqual([{ fields: { '7': 'Red' } }]);
	});

	it('refuses activation of a pasted kind without an API credential, naming the fix', async () => {
		const trigger = setup('title', 'automation');
		await expect(activate({ ...trigger, parameters: { ...trigger.parameters, authentication: 'none' } })).rejects.toThrow(
			'Custom Field Keys by name need the ActiveCampaign API credential',
		);
	});
});
