import {
	ActiveCampaignApiError,
	ActiveCampaignClient,
	type RemoteWebhook,
	type WebhookFields,
} from '../../nodes/ActiveCampaignTrigger/lifecycle/apiClient';
import {
	desiredWebhooks,
	differingFields,
	ensureSubscriptions,
	planReconcile,
	removeOwned,
	type Ownership,
} from '../../nodes/ActiveCampaignTrigger/lifecycle/reconcile';

const NODE_PATH = 'abc/webhook';
const ENDPOINT = `https://n8n.example.test/webhook/${NODE_PATH}`;
const URL_WITH_SECRET = `${ENDPOINT}?secret=s3cret&workflow=wf1`;
const PRODUCTION: Ownership = { path: `/webhook/${NODE_PATH}`, workflowId: 'wf1', removeOtherSlots: NODE_PATH };
const TEST_SLOT: Ownership = { path: `/webhook-test/${NODE_PATH}`, workflowId: 'wf1' };

const wanted = (listid = '0', events = ['subscribe', 'update']): WebhookFields => ({
	name: 'n8n: wf / Trigger',
	url: URL_WITH_SECRET,
	events,
	sources: ['admin', 'public'],
	listid,
});
const remote = (id: string, fields: Partial<WebhookFields> = {}): RemoteWebhook => ({ id, ...wanted(), ...fields });
const ids = (webhooks: ReadonlyArray<{ id: string }>) => webhooks.map(({ id }) => id);

describe('desiredWebhooks', () => {
	it('makes one webhook for all lists when no list is chosen, with sorted unique events and sources', () => {
		expect(
			desiredWebhooks({
				name: 'n',
				url: 'https://x.test/h',
				events: ['update', 'subscribe', 'update'],
				sources: ['public', 'admin'],
				listIds: [],
			}),
		).toEqual([{ name: 'n', url: 'https://x.test/h', events: ['subscribe', 'update'], sources: ['admin', 'public'], listid: '0' }]);
	});

	it('makes one webhook per chosen list for list-scoped events', () => {
		const result = desiredWebhooks({ name: 'n', url: 'u', events: ['open'], sources: ['public'], listIds: ['3', '1', '3'] });
		expect(result.map(({ listid, events }) => ({ listid, events }))).toEqual([
			{ listid: '1', events: ['open'] },
			{ listid: '3', events: ['open'] },
		]);
	});

	it('puts events a list cannot narrow in one webhook for all lists, so each is sent once', () => {
		const result = desiredWebhooks({ name: 'n', url: 'u', events: ['update', 'deal_add', 'subscribe'], sources: ['public'], listIds: ['1', '2', '3'] });
		expect(result.map(({ listid, events }) => ({ listid, events }))).toEqual([
			{ listid: '0', events: ['deal_add'] },
			{ listid: '1', events: ['subscribe', 'update'] },
			{ listid: '2', events: ['subscribe', 'update'] },
			{ listid: '3', events: ['subscribe', 'update'] },
		]);
	});
});

describe('planReconcile: ownership is the webhook path, never a remembered id', () => {
	it('keeps an exact match and plans nothing else', () => {
		const plan = planReconcile([wanted()], [remote('7', { events: ['update', 'subscribe'] })], PRODUCTION);
		expect(plan).toEqual({ keep: [remote('7', { events: ['update', 'subscribe'] })], update: [], create: [], remove: [] });
	});

	it('creates when nothing is owned', () => {
		expect(planReconcile([wanted()], [], PRODUCTION)).toEqual({ keep: [], update: [], create: [wanted()], remove: [] });
	});

	it('updates a webhook at its path whose events drifted instead of creating another', () => {
		const plan = planReconcile([wanted()], [remote('7', { events: ['subscribe'] })], PRODUCTION);
		expect(plan).toEqual({ keep: [], update: [{ id: '7', fields: wanted() }], create: [], remove: [] });
	});

	it('adopts a webhook at its path with another secret and origin (lost static data, a changed WEBHOOK_URL)', () => {
		const orphan = remote('9', { url: `https://old-host.example:8443/webhook/${NODE_PATH}/?secret=old` });
		const plan = planReconcile([wanted()], [orphan], PRODUCTION);
		expect(plan).toEqual({ keep: [], update: [{ id: '9', fields: wanted() }], create: [], remove: [] });
	});

	it('removes duplicates at its path', () => {
		const plan = planReconcile([wanted()], [remote('1'), remote('2'), remote('3')], PRODUCTION);
		expect({ keep: ids(plan.keep), remove: ids(plan.remove) }).toEqual({ keep: ['1'], remove: ['2', '3'] });
	});

	it("never touches another node's webhook, even one whose id this node's static data remembers", () => {
		const original = remote('5', { url: 'https://n8n.example.test/webhook/original-node/webhook?secret=a' });
		const plan = planReconcile([wanted()], [original], PRODUCTION);
		expect(plan).toEqual({ keep: [], update: [], create: [wanted()], remove: [] });
	});

	it("never touches a webhook at its path that names another workflow (a copy that kept the node's webhook id)", () => {
		const originals = [remote('5', { url: `${ENDPOINT}?secret=a&workflow=wf0` }), remote('6', { url: `https://n8n.example.test/webhook-test/${NODE_PATH}?workflow=wf0` })];
		expect(planReconcile([wanted()], originals, PRODUCTION)).toEqual({ keep: [], update: [], create: [wanted()], remove: [] });
		expect(planReconcile([], [remote('7'), ...originals], PRODUCTION)).toEqual({ keep: [], update: [], create: [], remove: [remote('7')] });
	});

	it('keeps a webhook whose URL ActiveCampaign lists with the query parameters in another order', () => {
		const reordered = remote('7', { url: `${ENDPOINT}?workflow=wf1&secret=s3cret` });
		expect(planReconcile([wanted()], [reordered], PRODUCTION)).toEqual({ keep: [reordered], update: [], create: [], remove: [] });
	});

	it('adopts a webhook at its path that names no workflow (registered by an earlier version) and names it', () => {
		const earlier = remote('9', { url: `${ENDPOINT}?secret=s3cret` });
		expect(planReconcile([wanted()], [earlier], PRODUCTION)).toEqual({ keep: [], update: [{ id: '9', fields: wanted() }], create: [], remove: [] });
	});

	it('never removes an id it keeps, when a page boundary moved and the listing shows a webhook twice', () => {
		const plan = planReconcile([wanted()], [remote('1'), remote('2'), remote('1')], PRODUCTION);
		expect({ keep: ids(plan.keep), remove: ids(plan.remove) }).toEqual({ keep: ['1'], remove: ['2'] });
	});

	it('never removes an id it updates, when the listing shows it twice', () => {
		const drifted = remote('4', { events: ['subscribe'] });
		const plan = planReconcile([wanted()], [drifted, drifted], PRODUCTION);
		expect({ update: ids(plan.update), remove: ids(plan.remove) }).toEqual({ update: ['4'], remove: [] });
	});

	it("removes, in production, the node's test webhook a restart left behind", () => {
		const leftover = remote('8', { url: `https://n8n.example.test/webhook-test/${NODE_PATH}?secret=t` });
		const plan = planReconcile([wanted()], [remote('1'), leftover], PRODUCTION);
		expect({ keep: ids(plan.keep), remove: ids(plan.remove) }).toEqual({ keep: ['1'], remove: ['8'] });
	});

	it('leaves the production webhook alone while listening for a test event', () => {
		const testWanted = { ...wanted(), url: `https://n8n.example.test/webhook-test/${NODE_PATH}?secret=t` };
		const plan = planReconcile([testWanted], [remote('1')], TEST_SLOT);
		expect(plan).toEqual({ keep: [], update: [], create: [testWanted], remove: [] });
	});

	it('reuses the webhook of the same list before any other when lists change', () => {
		const plan = planReconcile(
			[wanted('1'), wanted('2')],
			[remote('10', { listid: '2', events: ['subscribe'] }), remote('11', { listid: '4' })],
			PRODUCTION,
		);
		expect(plan).toEqual({
			keep: [],
			update: [
				{ id: '11', fields: wanted('1') },
				{ id: '10', fields: wanted('2') },
			],
			create: [],
			remove: [],
		});
	});

	it('counts only remembered ids when told so (a pasted kind clearing up after Events)', () => {
		const byHand = remote('3');
		const registered = remote('4');
		const plan = planReconcile([], [byHand, registered], { ...PRODUCTION, onlyIds: ['4'] });
		expect(ids(plan.remove)).toEqual(['4']);
	});
});

describe('differingFields: what ActiveCampaign normalises is not drift', () => {
	it('sees no difference in a trimmed name, reordered or differently cased events, or a numeric list id', () => {
		const stored = { ...wanted('3'), name: ' n8n: wf / Trigger ', events: ['UPDATE', 'subscribe'], listid: '03' };
		expect(differingFields(stored, wanted('3'))).toEqual([]);
	});

	it('names each field that really differs', () => {
		const stored = { ...wanted(), events: ['subscribe'], sources: ['admin'] };
		expect(differingFields(stored, wanted())).toEqual(['events', 'sources']);
	});
});

/** An account whose listing answers from `webhooks`; PUT is accepted, but `stores` decides what is kept. */
function fakeAccount(webhooks: RemoteWebhook[], stores: (fields: WebhookFields) => WebhookFields = (fields) => fields) {
	const calls: string[] = [];
	const client = {
		listWebhooks: async () => {
			calls.push('GET');
			return webhooks.map((webhook) => ({ ...webhook }));
		},
		updateWebhook: async (id: string, fields: WebhookFields) => {
			calls.push(`PUT ${id}`);
			const index = webhooks.findIndex((webhook) => webhook.id === id);
			webhooks[index] = { id, ...stores(fields) };
			return webhooks[index];
		},
		getWebhook: async (id: string) => {
			calls.push(`GET ${id}`);
			const webhook = webhooks.find((candidate) => candidate.id === id);
			return webhook ? { ...webhook } : 'gone';
		},
		deleteWebhook: async (id: string) => {
			calls.push(`DELETE ${id}`);
			webhooks.splice(
				webhooks.findIndex((webhook) => webhook.id === id),
				1,
			);
		},
		createWebhook: async () => {
			throw new Error('not expected');
		},
	};
	return { client: client as unknown as ActiveCampaignClient, calls };
}

describe('ensureSubscriptions', () => {
	it('forgets remembered ids that point elsewhere, without updating or deleting them', async () => {
		const original = remote('5', { url: 'https://n8n.example.test/webhook/original-node/webhook?secret=a' });
		const { client, calls } = fakeAccount([original, remote('6')]);
		const memory = { ids: ['5', '6'] };
		expect(await ensureSubscriptions(client, [wanted()], PRODUCTION, memory, { allowCreate: false })).toBe(true);
		expect({ ids: memory.ids, calls }).toEqual({ ids: ['6'], calls: ['GET'] });
	});

	it('says which field ActiveCampaign keeps storing differently instead of blaming a slow API', async () => {
		const { client } = fakeAccount([remote('7', { events: ['subscribe'] })], (fields) => ({ ...fields, events: ['subscribe'] }));
		await expect(ensureSubscriptions(client, [wanted()], PRODUCTION, { ids: [] }, { allowCreate: true, maxRounds: 3 })).rejects.toThrow(
			'ActiveCampaign stores webhook 7 differently from what the node sends (events: sent ["subscribe","update"], stored ["subscribe"])',
		);
	});
});

/** A real client over an account that lists no webhooks and answers every POST with `refusal`. */
function refusingCreates(refusal: { status: number; headers?: Record<string, string> }) {
	const waits: number[] = [];
	let posts = 0;
	const client = new ActiveCampaignClient({
		apiUrl: 'https://acct.api-us1.com',
		send: async (request) => {
			if (request.method === 'GET') return { status: 200, headers: {}, body: { webhooks: [], meta: { total: '0' } } };
			posts++;
			return { status: refusal.status, headers: refusal.headers ?? {}, body: { message: 'busy' } };
		},
		sleep: async (ms) => {
			waits.push(ms);
		},
		random: () => 0.5,
	});
	return { client, waits, posts: () => posts };
}

describe('reconcile against a failing API', () => {
	it('waits longer before each new round when creating fails with a 5xx, then gives up with a hint', async () => {
		const { client, waits, posts } = refusingCreates({ status: 503 });
		const failure = (await ensureSubscriptions(client, [wanted()], PRODUCTION, { ids: [] }, { allowCreate: true }).catch((error: unknown) => error)) as ActiveCampaignApiError;
		expect(failure.message).toBe("ActiveCampaign's webhooks did not settle after 5 attempts: ActiveCampaign refused to create the webhook: HTTP 503 – busy");
		expect(failure.hint).toBe('ActiveCampaign is failing or slow right now. Activate the workflow again later; nothing will be duplicated.');
		expect({ posts: posts(), waits }).toEqual({ posts: 5, waits: [375, 750, 1500, 3000] });
	});

	it('honours Retry-After on a create refused with 429, and gives up without another round when it never ends', async () => {
		const { client, waits, posts } = refusingCreates({ status: 429, headers: { 'retry-after': '1' } });
		const failure = (await ensureSubscriptions(client, [wanted()], PRODUCTION, { ids: [] }, { allowCreate: true }).catch((error: unknown) => error)) as ActiveCampaignApiError;
		expect({ status: failure.status, hint: failure.hint }).toEqual({ status: 429, hint: 'ActiveCampaign is rate limiting this account; try again in a minute.' });
		expect({ posts: posts(), waits }).toEqual({ posts: 5, waits: [1000, 1000, 1000, 1000] });
	});
});

describe('removeOwned', () => {
	it("deletes only this node's webhooks, found by path, and verifies by listing again", async () => {
		const other = remote('2', { url: 'https://n8n.example.test/webhook/other/webhook?secret=b' });
		const { client, calls } = fakeAccount([remote('1'), other]);
		expect(await removeOwned(client, PRODUCTION, ['1', '2'])).toEqual({ remaining: [], failures: [] });
		expect(calls).toEqual(['GET', 'DELETE 1', 'GET']);
	});

	it("deletes nothing of another workflow's at the same path, in either slot", async () => {
		const copies = [remote('3', { url: `${ENDPOINT}?workflow=wf2` }), remote('4', { url: `https://n8n.example.test/webhook-test/${NODE_PATH}?workflow=wf2` })];
		const { client, calls } = fakeAccount([...copies, remote('1')]);
		expect(await removeOwned(client, PRODUCTION, ['1', '3', '4'])).toEqual({ remaining: [], failures: [] });
		expect(calls).toEqual(['GET', 'DELETE 1', 'GET']);
	});

	it('reads a remembered webhook the listing missed (a row moved past a page boundary) and deletes it', async () => {
		const { client, calls } = fakeAccount([remote('1'), remote('2', { url: `${ENDPOINT}?workflow=wf2` })]);
		const listAll = client.listWebhooks.bind(client);
		let listings = 0;
		client.listWebhooks = async () => {
			const listed = await listAll();
			return listings++ === 0 ? listed.filter(({ id }) => id !== '1') : listed;
		};
		expect(await removeOwned(client, PRODUCTION, ['1', '2'])).toEqual({ remaining: [], failures: [] });
		expect(calls).toEqual(['GET', 'GET 1', 'DELETE 1', 'GET']);
	});

	it('takes a remembered webhook that is neither listed nor found by its id as gone', async () => {
		const { client, calls } = fakeAccount([remote('2', { url: `${ENDPOINT}?workflow=wf2` })]);
		expect(await removeOwned(client, PRODUCTION, ['9'])).toEqual({ remaining: [], failures: [] });
		expect(calls).toEqual(['GET', 'GET 9']);
	});

	it('keeps a remembered id it could not read for the next attempt, deleting the rest', async () => {
		const { client, calls } = fakeAccount([remote('1')]);
		const failure = new ActiveCampaignApiError('ActiveCampaign refused to read webhook 9: HTTP 503', 503, true);
		client.getWebhook = async () => {
			throw failure;
		};
		expect(await removeOwned(client, PRODUCTION, ['1', '9'])).toEqual({ remaining: ['9'], failures: [failure] });
		expect(calls).toEqual(['GET', 'DELETE 1', 'GET']);
	});

	it('deletes nothing without a listing, and keeps the remembered ids for the next attempt', async () => {
		const failure = new ActiveCampaignApiError('No answer', undefined, true);
		const deleted: string[] = [];
		const client = {
			listWebhooks: async () => {
				throw failure;
			},
			deleteWebhook: async (id: string) => {
				deleted.push(id);
			},
		} as unknown as ActiveCampaignClient;
		expect(await removeOwned(client, PRODUCTION, ['1'])).toEqual({ remaining: ['1'], failures: [failure] });
		expect(deleted).toEqual([]);
	});
});
