/**
 * The simulator over real HTTP: what the API answers, how faults change that, and where deliveries go.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { EVENT_IDS } from '../../nodes/ActiveCampaignTrigger/catalog';
import { ActiveCampaignSimulator, type SimulatorOptions } from './ActiveCampaignSimulator';

const TOKEN = 'simulator-test-token';
const CREATED_AT = '2024-02-28T10:45:41-00:00';
const HOOK_URL = 'https://n8n.example.test/webhook/0d9c7a52/webhook?secret=Ab-_9';
const VALID = { name: 'n8n: Orders', url: HOOK_URL, events: ['subscribe', 'update'], sources: ['public', 'admin'] };
const FORBIDDEN =
	'The request could not be authenticated or the authenticated user is not authorized to access the requested resource.';

let simulator: ActiveCampaignSimulator;
let now: Date;

async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<ActiveCampaignSimulator> {
	simulator = await ActiveCampaignSimulator.start({ apiToken: TOKEN, clock: () => now, ...options });
	return simulator;
}

beforeEach(async () => {
	now = new Date('2024-02-28T10:45:41.123Z');
	await startSimulator();
});

afterEach(async () => {
	await simulator.close();
});

interface Answer {
	status: number;
	body: unknown;
	retryAfter: string | null;
}

async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN): Promise<Answer> {
	const headers: Record<string, string> = { 'Content-Type': 'application/json' };
	if (token !== null) headers['Api-Token'] = token;
	const response = await fetch(`${simulator.apiUrl}${path}`, {
		method,
		headers,
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
	return { status: response.status, body: await response.json(), retryAfter: response.headers.get('retry-after') };
}

const resource = (id: string, fields: Record<string, unknown> = {}) => ({
	cdate: CREATED_AT,
	listid: '0',
	...VALID,
	links: {},
	id,
	...fields,
});

function seed(count: number, fields: Partial<typeof VALID> = {}): void {
	for (let i = 1; i <= count; i++) {
		simulator.seedWebhook({ ...VALID, name: `hook ${i}`, listid: '0', ...fields });
	}
}

const ids = (answer: Answer) => (answer.body as { webhooks: Array<{ id: string }> }).webhooks.map((webhook) => webhook.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

async function waitFor(condition: () => boolean): Promise<void> {
	for (const started = Date.now(); !condition(); ) {
		if (Date.now() - started > 2_000) throw new Error('condition not met within 2 s');
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

describe('authentication', () => {
	it('answers 403 without an Api-Token header', async () => {
		expect(await call('GET', '/api/3/webhooks', undefined, null)).toEqual({
			status: 403,
			body: { message: FORBIDDEN },
			retryAfter: null,
		});
	});

	it('answers 403 to a wrong Api-Token and changes nothing', async () => {
		const answer = await call('POST', '/api/3/webhooks', { webhook: VALID }, 'wrong-token');
		expect(answer.status).toBe(403);
		expect(answer.body).toEqual({ message: FORBIDDEN });
		expect(simulator.webhooks()).toEqual([]);
	});

	it('answers the credential test GET /users/me with the user', async () => {
		expect(await call('GET', '/api/3/users/me')).toEqual({
			status: 200,
			body: {
				user: {
					username: 'admin',
					firstName: 'Simulated',
					lastName: 'Admin',
					email: 'admin@simulator.example.test',
					phone: '',
					signature: null,
					links: {},
					id: '1',
				},
			},
			retryAfter: null,
		});
	});
});

describe('webhooks', () => {
	it('creates a webhook with string ids, listid "0" and the creation date', async () => {
		expect(await call('POST', '/api/3/webhooks', { webhook: VALID })).toEqual({
			status: 201,
			body: { webhook: resource('1') },
			retryAfter: null,
		});
		expect(simulator.webhooks()).toEqual([resource('1')]);
	});

	it('keeps a listid given as a number as a string', async () => {
		const answer = await call('POST', '/api/3/webhooks', { webhook: { ...VALID, listid: 2 } });
		expect(answer.body).toEqual({ webhook: resource('1', { listid: '2' }) });
	});

	it('reads one webhook by id', async () => {
		await call('POST', '/api/3/webhooks', { webhook: VALID });
		expect(await call('GET', '/api/3/webhooks/1')).toEqual({
			status: 200,
			body: { webhook: resource('1') },
			retryAfter: null,
		});
	});

	it('answers 404 with ActiveCampaign\'s message for a webhook that does not exist', async () => {
		const expected = { status: 404, body: { message: 'No Result found for Webhook with id 9' }, retryAfter: null };
		expect(await call('GET', '/api/3/webhooks/9')).toEqual(expected);
		expect(await call('PUT', '/api/3/webhooks/9', { webhook: VALID })).toEqual(expected);
		expect(await call('DELETE', '/api/3/webhooks/9')).toEqual(expected);
	});

	it('updates only the fields a PUT gives, keeping id and cdate', async () => {
		await call('POST', '/api/3/webhooks', { webhook: VALID });
		now = new Date('2025-01-01T00:00:00.000Z');
		const answer = await call('PUT', '/api/3/webhooks/1', { webhook: { events: ['deal_add'], listid: '3' } });
		expect(answer).toEqual({
			status: 200,
			body: { webhook: resource('1', { events: ['deal_add'], listid: '3' }) },
			retryAfter: null,
		});
		expect(simulator.webhooks()).toEqual([resource('1', { events: ['deal_add'], listid: '3' })]);
	});

	it('deletes a webhook with 200 and an empty object', async () => {
		await call('POST', '/api/3/webhooks', { webhook: VALID });
		expect(await call('DELETE', '/api/3/webhooks/1')).toEqual({ status: 200, body: {}, retryAfter: null });
		expect(simulator.webhooks()).toEqual([]);
	});

	it('never reuses the id of a deleted webhook', async () => {
		await call('POST', '/api/3/webhooks', { webhook: VALID });
		await call('DELETE', '/api/3/webhooks/1');
		const answer = await call('POST', '/api/3/webhooks', { webhook: VALID });
		expect(answer.body).toEqual({ webhook: resource('2') });
	});

	it('answers 400 to a body that is not JSON', async () => {
		expect(await call('POST', '/api/3/webhooks', '{"webhook":')).toEqual({
			status: 400,
			body: { message: 'The request body is not a JSON object' },
			retryAfter: null,
		});
	});

	it('answers 404 JSON to a route it does not have', async () => {
		expect(await call('GET', '/api/3/contacts')).toEqual({
			status: 404,
			body: { message: 'No route for GET /api/3/contacts' },
			retryAfter: null,
		});
	});
});

describe('listing webhooks', () => {
	it('pages 20 by default and gives meta.total as a string', async () => {
		seed(25);
		const answer = await call('GET', '/api/3/webhooks');
		expect(ids(answer)).toEqual(range(1, 20));
		expect((answer.body as { meta: unknown }).meta).toEqual({ total: '25' });
	});

	it('honours limit and offset', async () => {
		seed(25);
		const answer = await call('GET', '/api/3/webhooks?limit=10&offset=20');
		expect(ids(answer)).toEqual(range(21, 25));
		expect((answer.body as { meta: unknown }).meta).toEqual({ total: '25' });
	});

	it('caps limit at 100', async () => {
		seed(120);
		expect(ids(await call('GET', '/api/3/webhooks?limit=500'))).toEqual(range(1, 100));
	});

	it('answers full webhook objects in ActiveCampaign\'s key order', async () => {
		seed(1);
		const answer = await call('GET', '/api/3/webhooks');
		expect(answer.body).toEqual({ webhooks: [resource('1', { name: 'hook 1' })], meta: { total: '1' } });
		expect(Object.keys((answer.body as { webhooks: object[] }).webhooks[0])).toEqual([
			'cdate',
			'listid',
			'name',
			'url',
			'events',
			'sources',
			'links',
			'id',
		]);
	});

	it('filters by url as an exact match, not a prefix', async () => {
		seed(1, { url: 'https://x.example.test/hook' });
		seed(1, { url: 'https://x.example.test/hook?secret=1' });
		seed(1, { url: 'https://x.example.test/hook' });
		const answer = await call('GET', `/api/3/webhooks?filters%5Burl%5D=${encodeURIComponent('https://x.example.test/hook')}`);
		expect(ids(answer)).toEqual(['1', '3']);
		expect((answer.body as { meta: unknown }).meta).toEqual({ total: '2' });
	});

	it('filters by name as an exact match', async () => {
		seed(1, { name: 'n8n: Orders' });
		seed(1, { name: 'n8n: Orders (copy)' });
		expect(ids(await call('GET', '/api/3/webhooks?filters[name]=n8n%3A%20Orders'))).toEqual(['1']);
	});
});

describe('webhook events and lists', () => {
	it('lists every catalog event by default, with total as a string', async () => {
		expect(await call('GET', '/api/3/webhook/events')).toEqual({
			status: 200,
			body: { webhookEvents: [...EVENT_IDS], meta: { total: '30' } },
			retryAfter: null,
		});
	});

	it('pages webhook events with limit and offset', async () => {
		const answer = await call('GET', '/api/3/webhook/events?limit=5&offset=28');
		expect(answer.body).toEqual({ webhookEvents: ['sms_reply', 'sms_unsub'], meta: { total: '30' } });
	});

	it('lists the events the account was given', async () => {
		await simulator.close();
		await startSimulator({ accountEvents: ['subscribe', 'deal_add'] });
		expect((await call('GET', '/api/3/webhook/events')).body).toEqual({
			webhookEvents: ['subscribe', 'deal_add'],
			meta: { total: '2' },
		});
	});

	it('lists the default lists', async () => {
		const list = (id: string, name: string, stringid: string) => ({
			stringid,
			userid: '1',
			name,
			cdate: CREATED_AT,
			udate: CREATED_AT,
			sender_url: '',
			sender_reminder: '',
			links: {},
			id,
		});
		expect((await call('GET', '/api/3/lists')).body).toEqual({
			lists: [
				list('1', 'Newsletter', 'newsletter'),
				list('2', 'Customers', 'customers'),
				list('3', 'Webinar attendees', 'webinar-attendees'),
			],
			meta: { total: '3' },
		});
	});

	it('filters lists by a case-insensitive part of the name', async () => {
		const answer = await call('GET', '/api/3/lists?filters%5Bname%5D=TOMER');
		const body = answer.body as { lists: Array<{ id: string; name: string }>; meta: unknown };
		expect(body.lists.map(({ id, name }) => ({ id, name }))).toEqual([{ id: '2', name: 'Customers' }]);
		expect(body.meta).toEqual({ total: '1' });
	});

	it('pages lists with limit and offset', async () => {
		const body = (await call('GET', '/api/3/lists?limit=1&offset=1')).body as { lists: Array<{ id: string }>; meta: unknown };
		expect(body.lists.map((list) => list.id)).toEqual(['2']);
		expect(body.meta).toEqual({ total: '3' });
	});
});

describe('validation (422)', () => {
	async function errorsFor(webhook: unknown, method = 'POST', path = '/api/3/webhooks') {
		const answer = await call(method, path, { webhook });
		expect(answer.status).toBe(422);
		return (answer.body as { errors: unknown[] }).errors;
	}

	const invalid = (field: string, detail: string) => ({
		title: `The webhook ${field} is not valid.`,
		detail,
		code: 'field_invalid',
		source: { pointer: `/data/attributes/${field}` },
	});

	const missing = (field: string) => ({
		title: `The webhook ${field} was not provided.`,
		detail: '',
		code: 'field_missing',
		source: { pointer: `/data/attributes/${field}` },
	});

	it('names each missing required field', async () => {
		expect(await errorsFor({ name: '', events: [] })).toEqual([
			missing('name'),
			missing('url'),
			missing('events'),
			missing('sources'),
		]);
	});

	it('refuses a body without a webhook object', async () => {
		const answer = await call('POST', '/api/3/webhooks', { name: 'x' });
		expect(answer).toEqual({
			status: 422,
			body: {
				errors: [{ title: 'The webhook was not provided.', detail: '', code: 'field_missing', source: { pointer: '/data' } }],
			},
			retryAfter: null,
		});
	});

	it('refuses an event the account does not offer', async () => {
		await simulator.close();
		await startSimulator({ accountEvents: ['subscribe', 'update'] });
		expect(await errorsFor({ ...VALID, events: ['subscribe', 'deal_add'] })).toEqual([
			invalid('events', '"deal_add" is not an event this account offers (GET /api/3/webhook/events)'),
		]);
	});

	it('refuses an unknown source', async () => {
		expect(await errorsFor({ ...VALID, sources: ['public', 'zapier'] })).toEqual([
			invalid('sources', '"zapier" is not a source; use public, admin, system, api'),
		]);
	});

	it('refuses a url that is not https', async () => {
		expect(await errorsFor({ ...VALID, url: 'http://n8n.example.test/webhook' })).toEqual([
			invalid('url', 'The url must use https'),
		]);
	});

	it('refuses an https url on a port other than 443', async () => {
		expect(await errorsFor({ ...VALID, url: 'https://n8n.example.test:8443/webhook' })).toEqual([
			invalid('url', 'Webhooks can only be sent on port 443 (the default https port), not 8443'),
		]);
	});

	it('accepts an explicit port 443 and stores the url as given', async () => {
		const answer = await call('POST', '/api/3/webhooks', { webhook: { ...VALID, url: 'https://n8n.example.test:443/hook' } });
		expect(answer.body).toEqual({ webhook: resource('1', { url: 'https://n8n.example.test:443/hook' }) });
	});

	it('refuses url characters outside RFC 1738, listing each once', async () => {
		expect(await errorsFor({ ...VALID, url: 'https://n8n.example.test/a b~c~' })).toEqual([
			invalid('url', 'The url has characters that are not allowed: " ", "~"'),
		]);
	});

	it('refuses a url that does not parse', async () => {
		expect(await errorsFor({ ...VALID, url: 'n8n.example.test/webhook' })).toEqual([
			invalid('url', 'The url is not a valid URL'),
		]);
	});

	it('refuses a listid that is not a list of the account', async () => {
		expect(await errorsFor({ ...VALID, listid: '9' })).toEqual([invalid('listid', 'No list with id 9')]);
	});

	it('refuses fields of the wrong type', async () => {
		expect(await errorsFor({ ...VALID, name: 7, events: 'subscribe' })).toEqual([
			invalid('name', 'The name must be a string'),
			invalid('events', 'The events must be a list of strings'),
		]);
	});

	it('checks the fields a PUT gives and leaves the webhook unchanged when they fail', async () => {
		await call('POST', '/api/3/webhooks', { webhook: VALID });
		expect(await errorsFor({ name: '', events: ['nope'] }, 'PUT', '/api/3/webhooks/1')).toEqual([
			missing('name'),
			invalid('events', '"nope" is not an event this account offers (GET /api/3/webhook/events)'),
		]);
		expect(simulator.webhooks()).toEqual([resource('1')]);
	});
});

describe('state helpers', () => {
	it('hands out deep copies', () => {
		seed(1);
		simulator.webhooks()[0].events.push('open');
		expect(simulator.webhooks()[0].events).toEqual(['subscribe', 'update']);
	});

	it('applies an edit made "in ActiveCampaign\'s UI" without validation', async () => {
		seed(1);
		simulator.editWebhook('1', { events: ['sent'], url: 'http://legacy.example.test:8080/x' });
		expect((await call('GET', '/api/3/webhooks/1')).body).toEqual({
			webhook: resource('1', { name: 'hook 1', events: ['sent'], url: 'http://legacy.example.test:8080/x' }),
		});
	});

	it('throws when asked to edit or remove a webhook it does not have', () => {
		expect(() => simulator.editWebhook('9', { name: 'x' })).toThrow('The simulator has no webhook with id 9');
		expect(() => simulator.removeWebhook('9')).toThrow('The simulator has no webhook with id 9');
	});

	it('records every request with its raw query and status, until reset', async () => {
		await call('GET', '/api/3/webhooks?limit=100&offset=0');
		await call('DELETE', '/api/3/webhooks/4', undefined, 'wrong');
		expect(simulator.requests).toEqual([
			{ method: 'GET', path: '/api/3/webhooks', query: 'limit=100&offset=0', status: 200, receivedAt: expect.any(Number) },
			{ method: 'DELETE', path: '/api/3/webhooks/4', query: '', status: 403, receivedAt: expect.any(Number) },
		]);
		const [first, second] = simulator.requests;
		expect(second.receivedAt).toBeGreaterThan(first.receivedAt);
		simulator.resetRequests();
		expect(simulator.requests).toEqual([]);
	});

	it('writes one log line per request', async () => {
		await simulator.close();
		const lines: string[] = [];
		await startSimulator({ log: (line) => lines.push(line) });
		simulator.injectFault({ method: 'GET', status: 503 });
		await call('GET', '/api/3/webhooks?limit=1');
		await call('GET', '/api/3/webhooks?limit=1');
		expect(lines).toEqual(['GET /api/3/webhooks?limit=1 -> 503 (fault)', 'GET /api/3/webhooks?limit=1 -> 200']);
	});
});

describe('faults', () => {
	it('answers an injected status once, with an ActiveCampaign-shaped body, then handles normally', async () => {
		simulator.injectFault({ method: 'GET', path: '/api/3/webhooks', status: 503 });
		expect(await call('GET', '/api/3/webhooks')).toEqual({
			status: 503,
			body: { message: 'Service Unavailable' },
			retryAfter: null,
		});
		expect((await call('GET', '/api/3/webhooks')).status).toBe(200);
	});

	it('applies to `count` matching requests', async () => {
		simulator.injectFault({ status: 500, count: 2 });
		const statuses = [];
		for (let i = 0; i < 3; i++) statuses.push((await call('GET', '/api/3/webhooks')).status);
		expect(statuses).toEqual([500, 500, 200]);
	});

	it('matches the method and a string path exactly', async () => {
		simulator.injectFault({ method: 'POST', path: '/api/3/webhooks', status: 500 });
		expect((await call('GET', '/api/3/webhooks')).status).toBe(200);
		expect((await call('POST', '/api/3/webhooks/1', { webhook: VALID })).status).toBe(404);
		expect((await call('POST', '/api/3/webhooks', { webhook: VALID })).status).toBe(500);
		expect(simulator.webhooks()).toEqual([]);
	});

	it('matches a RegExp path', async () => {
		seed(1);
		simulator.injectFault({ path: /^\/api\/3\/webhooks\/\d+$/, status: 502 });
		expect((await call('GET', '/api/3/webhooks')).status).toBe(200);
		expect((await call('GET', '/api/3/webhooks/1')).status).toBe(502);
	});

	it('uses faults in order of injection', async () => {
		simulator.injectFault({ status: 500 });
		simulator.injectFault({ status: 502 });
		expect((await call('GET', '/api/3/webhooks')).status).toBe(500);
		expect((await call('GET', '/api/3/webhooks')).status).toBe(502);
		expect((await call('GET', '/api/3/webhooks')).status).toBe(200);
	});

	it('sends Retry-After in seconds', async () => {
		simulator.injectFault({ status: 429, retryAfter: 7 });
		expect(await call('GET', '/api/3/webhooks')).toEqual({
			status: 429,
			body: { message: 'Too Many Requests' },
			retryAfter: '7',
		});
	});

	it('answers a 422 fault in the errors shape', async () => {
		simulator.injectFault({ status: 422 });
		expect((await call('POST', '/api/3/webhooks', { webhook: VALID })).body).toEqual({
			errors: [{ title: 'Unprocessable Entity', detail: 'Simulated fault', code: 'simulated', source: { pointer: '/data' } }],
		});
	});

	it('applies before the Api-Token check', async () => {
		simulator.injectFault({ status: 503 });
		expect((await call('GET', '/api/3/webhooks', undefined, 'wrong-token')).status).toBe(503);
		expect((await call('GET', '/api/3/webhooks', undefined, 'wrong-token')).status).toBe(403);
	});

	it('forgets cleared faults', async () => {
		simulator.injectFault({ status: 500, count: 5 });
		simulator.clearFaults();
		expect((await call('GET', '/api/3/webhooks')).status).toBe(200);
	});

	it('refuses a fault with neither a status nor hang', () => {
		expect(() => simulator.injectFault({ method: 'GET' })).toThrow('A fault needs a `status` to answer or `hang: true`');
	});

	it('hangs until the client aborts, then answers the next request', async () => {
		simulator.injectFault({ method: 'GET', hang: true });
		const controller = new AbortController();
		const pending = fetch(`${simulator.apiUrl}/api/3/webhooks`, {
			headers: { 'Api-Token': TOKEN },
			signal: controller.signal,
		});
		await waitFor(() => simulator.requests.length === 1);
		controller.abort();
		await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
		expect((await call('GET', '/api/3/webhooks')).status).toBe(200);
		expect(simulator.requests.map((request) => request.status)).toEqual(['hung', 200]);
	});

	it('ends hanging requests on close', async () => {
		simulator.injectFault({ hang: true });
		const pending = fetch(`${simulator.apiUrl}/api/3/webhooks`, { headers: { 'Api-Token': TOKEN } });
		await waitFor(() => simulator.requests.length === 1);
		await simulator.close();
		await expect(pending).rejects.toThrow('fetch failed');
	});

	it('runs a beforeAnswer action once, after the request is handled and before it is answered', async () => {
		const seen: string[] = [];
		simulator.beforeAnswer({ method: 'POST', path: '/api/3/webhooks' }, async () => {
			seen.push(`webhooks while unanswered: ${simulator.webhooks().map((webhook) => webhook.id).join(',')}`);
			expect((await call('GET', '/api/3/webhooks/1')).status).toBe(200);
		});
		expect((await call('POST', '/api/3/webhooks', { webhook: VALID })).status).toBe(201);
		expect((await call('POST', '/api/3/webhooks', { webhook: VALID })).status).toBe(201);
		expect(seen).toEqual(['webhooks while unanswered: 1']);
		expect(simulator.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
			'POST /api/3/webhooks',
			'GET /api/3/webhooks/1',
			'POST /api/3/webhooks',
		]);
	});

	it('with applyFirst, performs the operation and then answers the fault status', async () => {
		simulator.injectFault({ method: 'POST', path: '/api/3/webhooks', status: 500, applyFirst: true });
		expect(await call('POST', '/api/3/webhooks', { webhook: VALID })).toEqual({
			status: 500,
			body: { message: 'Internal Server Error' },
			retryAfter: null,
		});
		expect(simulator.webhooks()).toEqual([resource('1')]);
		expect(simulator.requests).toEqual([{ method: 'POST', path: '/api/3/webhooks', query: '', status: 500, receivedAt: expect.any(Number) }]);
	});

	it('with applyFirst and hang, performs the operation and never answers', async () => {
		seed(1);
		simulator.injectFault({ method: 'DELETE', hang: true, applyFirst: true });
		const controller = new AbortController();
		const pending = fetch(`${simulator.apiUrl}/api/3/webhooks/1`, {
			method: 'DELETE',
			headers: { 'Api-Token': TOKEN },
			signal: controller.signal,
		});
		await waitFor(() => simulator.requests.length === 1);
		expect(simulator.webhooks()).toEqual([]);
		expect(simulator.requests).toEqual([{ method: 'DELETE', path: '/api/3/webhooks/1', query: '', status: 'hung', receivedAt: expect.any(Number) }]);
		controller.abort();
		await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
	});
});

interface Received {
	path: string;
	contentType: string | undefined;
	extra: string | undefined;
	body: string;
}

/** A stand-in for n8n: records what arrives and answers the status its path asks for (`/status/410/...`). */
async function startReceiver(): Promise<{ origin: string; received: Received[]; server: Server }> {
	const received: Received[] = [];
	const server = createServer((request: IncomingMessage, response) => {
		const chunks: Buffer[] = [];
		request.on('data', (chunk: Buffer) => chunks.push(chunk));
		request.on('end', () => {
			const path = request.url ?? '';
			received.push({
				path,
				contentType: request.headers['content-type'],
				extra: request.headers['x-extra'] as string | undefined,
				body: Buffer.concat(chunks).toString('utf8'),
			});
			const status = Number(/^\/status\/(\d+)\//.exec(path)?.[1] ?? 200);
			response.writeHead(status, { 'Content-Type': 'text/plain' }).end(`got ${path}`);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

describe('deliveries', () => {
	const FORM = 'application/x-www-form-urlencoded';
	const SUBSCRIBE =
		'type=subscribe&date_time=2024-02-28T04%3A45%3A41-06%3A00&initiated_from=public&initiated_by=public&list=3' +
		'&contact%5Bid%5D=7&contact%5Bemail%5D=ada%40example.com';
	let receiver: Awaited<ReturnType<typeof startReceiver>>;

	beforeEach(async () => {
		receiver = await startReceiver();
		await simulator.close();
		await startSimulator({ deliveryOrigin: receiver.origin });
	});

	afterEach(async () => {
		await new Promise((resolve) => receiver.server.close(resolve));
	});

	const hook = (path: string, fields: { events?: string[]; sources?: string[]; listid?: string } = {}) =>
		simulator.seedWebhook({
			name: path,
			url: `https://n8n.example.test${path}`,
			events: ['subscribe'],
			sources: ['public'],
			listid: '0',
			...fields,
		});

	it('POSTs the form body to the registered path and query on the delivery origin', async () => {
		hook('/webhook/a/webhook?secret=s1');
		expect(await simulator.deliver(SUBSCRIBE)).toEqual([
			{
				webhookId: '1',
				url: `${receiver.origin}/webhook/a/webhook?secret=s1`,
				status: 200,
				body: 'got /webhook/a/webhook?secret=s1',
			},
		]);
		expect(receiver.received).toEqual([
			{ path: '/webhook/a/webhook?secret=s1', contentType: FORM, extra: undefined, body: SUBSCRIBE },
		]);
	});

	it('skips webhooks without the event or without the source', async () => {
		hook('/wrong-event', { events: ['update'] });
		hook('/wrong-source', { sources: ['admin', 'api'] });
		hook('/right', { events: ['update', 'subscribe'], sources: ['admin', 'public'] });
		const results = await simulator.deliver(SUBSCRIBE);
		expect(results.map((result) => result.webhookId)).toEqual(['3']);
		expect(receiver.received.map((request) => request.path)).toEqual(['/right']);
	});

	it('narrows a list-scoped event to webhooks of all lists ("0") or of its list', async () => {
		hook('/all-lists', { listid: '0' });
		hook('/list-2', { listid: '2' });
		hook('/list-3', { listid: '3' });
		await simulator.deliver(SUBSCRIBE);
		expect(receiver.received.map((request) => request.path)).toEqual(['/all-lists', '/list-3']);
	});

	it("narrows an event whose body names no single list (list=0, list[][id]) by the contact's lists", async () => {
		hook('/all-lists', { events: ['update', 'unsubscribe'], sources: ['admin', 'public'], listid: '0' });
		hook('/list-1', { events: ['update', 'unsubscribe'], sources: ['admin', 'public'], listid: '1' });
		hook('/list-2', { events: ['update', 'unsubscribe'], sources: ['admin', 'public'], listid: '2' });
		await simulator.deliver('type=update&initiated_from=admin&list=0&contact%5Bid%5D=7', { memberOf: ['2'] });
		await simulator.deliver('type=unsubscribe&initiated_from=public&list%5B%5D%5Bid%5D=1&contact%5Bid%5D=7', { memberOf: ['1'] });
		await simulator.deliver('type=update&initiated_from=admin&list=0&contact%5Bid%5D=8');
		expect(receiver.received.map((request) => request.path)).toEqual(['/all-lists', '/list-2', '/all-lists', '/list-1', '/all-lists']);
	});

	it('ignores listid for an event that is not list-scoped', async () => {
		hook('/list-2', { events: ['deal_add'], sources: ['admin'], listid: '2' });
		await simulator.deliver('type=deal_add&initiated_from=admin&list=0&deal%5Bid%5D=1');
		expect(receiver.received.map((request) => request.path)).toEqual(['/list-2']);
	});

	it('delivers nothing for a body without a type', async () => {
		hook('/any');
		expect(await simulator.deliver('contact%5Bemail%5D=ada%40example.com&seriesid=4')).toEqual([]);
		expect(receiver.received).toEqual([]);
	});

	it('form-encodes an object body the way ActiveCampaign does', async () => {
		hook('/deals', { events: ['deal_add'], sources: ['admin'] });
		await simulator.deliver({ type: 'deal_add', initiated_from: 'admin', list: '0', deal: { id: '1', title: 'Big deal' } });
		expect(receiver.received.map((request) => request.body)).toEqual([
			'type=deal_add&initiated_from=admin&list=0&deal%5Bid%5D=1&deal%5Btitle%5D=Big+deal',
		]);
	});

	it('sends a chosen content type and extra headers', async () => {
		hook('/a');
		await simulator.deliver(SUBSCRIBE, { contentType: 'text/plain', headers: { 'X-Extra': 'yes' } });
		expect(receiver.received).toEqual([{ path: '/a', contentType: 'text/plain', extra: 'yes', body: SUBSCRIBE }]);
	});

	it('removes a webhook whose delivery answers 410 and keeps the others', async () => {
		hook('/status/410/gone');
		const kept = hook('/kept');
		const results = await simulator.deliver(SUBSCRIBE);
		expect(results.map(({ webhookId, status }) => ({ webhookId, status }))).toEqual([
			{ webhookId: '1', status: 410 },
			{ webhookId: '2', status: 200 },
		]);
		expect(simulator.webhooks()).toEqual([kept]);
	});

	it('posts to the registered url itself when no delivery origin is set', async () => {
		await simulator.close();
		await startSimulator();
		simulator.seedWebhook({
			name: 'local',
			url: `${receiver.origin}/direct`,
			events: ['subscribe'],
			sources: ['public'],
			listid: '0',
		});
		expect((await simulator.deliver(SUBSCRIBE)).map((result) => result.url)).toEqual([`${receiver.origin}/direct`]);
		expect(receiver.received.map((request) => request.path)).toEqual(['/direct']);
	});

	it('postTo sends a raw body to any url, without swapping the origin', async () => {
		expect(await simulator.postTo(`${receiver.origin}/forged?secret=bad`, 'type=subscribe')).toEqual({
			webhookId: '',
			url: `${receiver.origin}/forged?secret=bad`,
			status: 200,
			body: 'got /forged?secret=bad',
		});
		expect(receiver.received).toEqual([
			{ path: '/forged?secret=bad', contentType: FORM, extra: undefined, body: 'type=subscribe' },
		]);
	});

	it('reports status 0 and the reason when nothing answers', async () => {
		const closed = await startReceiver();
		const { port } = closed.server.address() as AddressInfo;
		await new Promise((resolve) => closed.server.close(resolve));
		expect(await simulator.postTo(`http://127.0.0.1:${port}/gone`, 'type=subscribe')).toEqual({
			webhookId: '',
			url: `http://127.0.0.1:${port}/gone`,
			status: 0,
			body: `connect ECONNREFUSED 127.0.0.1:${port}`,
		});
	});
});
