import {
	ActiveCampaignApiError,
	ActiveCampaignClient,
	apiUrlHint,
	normaliseApiUrl,
	retryAfter,
	type ApiRequest,
	type ApiResponse,
} from '../../nodes/ActiveCampaignTrigger/lifecycle/apiClient';
import { NodeApiError, type INode, type JsonObject } from 'n8n-workflow';

/** A transport answering from a script, recording requests and the client's waits. */
function scripted(answers: Array<ApiResponse | Error>) {
	const requests: ApiRequest[] = [];
	const waits: number[] = [];
	const client = new ActiveCampaignClient({
		apiUrl: 'https://acct.api-us1.com',
		send: async (request) => {
			requests.push(request);
			const answer = answers.shift();
			if (!answer) throw new Error('script exhausted');
			if (answer instanceof Error) throw answer;
			return answer;
		},
		sleep: async (ms) => {
			waits.push(ms);
		},
		random: () => 0.5,
	});
	return { client, requests, waits };
}

const ok = (body: unknown, status = 200): ApiResponse => ({ status, headers: {}, body });
const networkError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('normaliseApiUrl', () => {
	it.each([
		['https://acct.api-us1.com', 'https://acct.api-us1.com'],
		['  https://acct.api-us1.com/  ', 'https://acct.api-us1.com'],
		['https://acct.api-us1.com/api/3', 'https://acct.api-us1.com'],
		['https://acct.api-us1.com/api/3/', 'https://acct.api-us1.com'],
		['acct.api-us1.com', 'https://acct.api-us1.com'],
		['http://127.0.0.1:8080/', 'http://127.0.0.1:8080'],
	])('%s → %s', (input, expected) => {
		expect(normaliseApiUrl(input)).toBe(expected);
	});

	it('refuses an empty URL with a hint', () => {
		expect(() => normaliseApiUrl(' ')).toThrow('The ActiveCampaign API URL is empty');
	});

	it('hints when the app URL is given instead of the API URL', () => {
		expect(apiUrlHint('https://acct.activehosted.com')).toContain("looks like your account's app URL");
		expect(apiUrlHint('https://acct.api-us1.com')).toBeUndefined();
	});
});

describe('retryAfter', () => {
	it('reads seconds and HTTP dates', () => {
		expect(retryAfter({ 'retry-after': '3' })).toBe(3000);
		expect(retryAfter({ 'retry-after': 'Wed, 21 Oct 2015 07:28:05 GMT' }, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000);
		expect(retryAfter({})).toBeUndefined();
	});
});

describe('ActiveCampaignClient', () => {
	it('pages through webhooks until meta.total (a string) is reached', async () => {
		const page = (from: number, count: number) =>
			Array.from({ length: count }, (_, i) => ({ id: String(from + i), name: 'n', url: 'u', events: ['open'], sources: ['public'], listid: '0' }));
		const { client, requests } = scripted([
			ok({ webhooks: page(1, 100), meta: { total: '150' } }),
			ok({ webhooks: page(101, 50), meta: { total: '150' } }),
		]);
		const webhooks = await client.listWebhooks();
		expect(webhooks).toHaveLength(150);
		expect(webhooks[149]).toEqual({ id: '150', name: 'n', url: 'u', events: ['open'], sources: ['public'], listid: '0' });
		expect(requests.map((request) => request.query)).toEqual([
			{ limit: 100, offset: 0 },
			{ limit: 100, offset: 100 },
		]);
	});

	it('lists a webhook once when a page boundary moved and it comes on two pages', async () => {
		const page = (ids: number[]) => ids.map((id) => ({ id: String(id), name: 'n', url: 'u', events: ['open'], sources: ['public'], listid: '0' }));
		// Another workflow deleted webhook 1 between the two requests: webhook 101 moved onto the second page too.
		const { client } = scripted([
			ok({ webhooks: page([...Array.from({ length: 99 }, (_, i) => i + 2), 101]), meta: { total: '101' } }),
			ok({ webhooks: page([101]), meta: { total: '100' } }),
		]);
		const webhooks = await client.listWebhooks();
		expect(webhooks.map((webhook) => webhook.id)).toEqual(Array.from({ length: 100 }, (_, i) => String(i + 2)));
	});

	it('stops paging an endpoint that ignores the offset, with a hint', async () => {
		const page = Array.from({ length: 100 }, (_, i) => ({ id: String(i + 1), name: 'n', url: 'u', events: ['open'], sources: ['public'], listid: '0' }));
		const { client, requests } = scripted([ok({ webhooks: page }), ok({ webhooks: page }), ok({ webhooks: page })]);
		const failure = (await client.listWebhooks().catch((error: unknown) => error)) as ActiveCampaignApiError;
		expect(failure).toBeInstanceOf(ActiveCampaignApiError);
		expect(failure.message).toBe("ActiveCampaign's listing of webhooks did not end (100 rows read; the same page came twice, or too many)");
		expect(failure.hint).toContain('not at a proxy that drops query parameters');
		expect(requests).toHaveLength(2);
	});

	it('honours Retry-After on 429 and then succeeds', async () => {
		const { client, waits } = scripted([
			{ status: 429, headers: { 'retry-after': '2' }, body: {} },
			ok({ webhooks: [], meta: { total: '0' } }),
		]);
		expect(await client.listWebhooks()).toEqual([]);
		expect(waits).toEqual([2000]);
	});

	it('backs off exponentially on 5xx and network errors, then gives up as transient', async () => {
		const { client, waits } = scripted([
			ok({}, 500),
			networkError('ECONNRESET'),
			ok({}, 503),
			ok({}, 502),
			ok({ message: 'down' }, 500),
		]);
		const failure = await client.deleteWebhook('4').catch((error: unknown) => error);
		expect(failure).toBeInstanceOf(ActiveCampaignApiError);
		expect((failure as ActiveCampaignApiError).transient).toBe(true);
		expect((failure as ActiveCampaignApiError).message).toBe('ActiveCampaign refused to DELETE /webhooks/4: HTTP 500 – down');
		expect(waits).toEqual([375, 750, 1500, 3000]);
	});

	it("retries a timeout wrapped in n8n 1.x's NodeApiError, which keeps the code only as httpCode", async () => {
		const node: INode = { id: '1', name: 'ActiveCampaign Trigger', type: 'activeCampaignTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
		const axiosTimeout = Object.assign(new Error('timeout of 30000ms exceeded'), { code: 'ECONNABORTED', isAxiosError: true });
		const timeout = new NodeApiError(node, axiosTimeout as unknown as JsonObject);
		expect([timeout.httpCode, (timeout.cause as { code?: string } | undefined)?.code]).toEqual(['ECONNABORTED', undefined]);
		const { client, waits } = scripted([timeout, ok({ webhooks: [], meta: { total: '0' } })]);
		expect(await client.listWebhooks()).toEqual([]);
		expect(waits).toEqual([375]);
	});

	it('takes 404 on delete as already gone', async () => {
		const { client } = scripted([ok({ message: 'No Result found for Webhook with id 4' }, 404)]);
		await expect(client.deleteWebhook('4')).resolves.toBeUndefined();
	});

	it('does not retry a create whose answer was lost', async () => {
		const { client, requests } = scripted([networkError('ECONNABORTED')]);
		const failure = await client
			.createWebhook({ name: 'n', url: 'https://h/w', events: ['open'], sources: ['public'], listid: '0' })
			.catch((error: unknown) => error);
		expect((failure as ActiveCampaignApiError).transient).toBe(true);
		expect(requests).toHaveLength(1);
	});

	it('retries a create refused with 429 after the Retry-After wait, but not one that failed with a 5xx', async () => {
		const fields = { name: 'n', url: 'https://h/w', events: ['open'], sources: ['public'], listid: '0' };
		const created = { webhook: { id: '9', ...fields } };
		const limited = scripted([{ status: 429, headers: { 'retry-after': '3' }, body: {} }, ok(created, 201)]);
		expect(await limited.client.createWebhook(fields)).toEqual({ id: '9', ...fields });
		expect({ requests: limited.requests.length, waits: limited.waits }).toEqual({ requests: 2, waits: [3000] });

		const failing = scripted([ok({}, 502)]);
		const failure = (await failing.client.createWebhook(fields).catch((error: unknown) => error)) as ActiveCampaignApiError;
		expect({ status: failure.status, transient: failure.transient, requests: failing.requests.length }).toEqual({ status: 502, transient: true, requests: 1 });
	});

	it('surfaces a 422 at once with the API detail, not transient', async () => {
		const { client, requests } = scripted([ok({ errors: [{ title: 'Invalid', detail: 'The url is invalid' }] }, 422)]);
		const failure = (await client
			.createWebhook({ name: 'n', url: 'https://h/w', events: ['open'], sources: ['public'], listid: '0' })
			.catch((error: unknown) => error)) as ActiveCampaignApiError;
		expect(failure.message).toBe('ActiveCampaign refused to create the webhook: HTTP 422 – The url is invalid');
		expect(failure.transient).toBe(false);
		expect(requests).toHaveLength(1);
	});

	it('explains a 403 with a hint about the API key', async () => {
		const { client } = scripted([ok({ message: 'Forbidden' }, 403)]);
		const failure = (await client.listWebhooks().catch((error: unknown) => error)) as ActiveCampaignApiError;
		expect(failure.status).toBe(403);
		expect(failure.hint).toBe('Check the API key in the ActiveCampaign credential (Settings → Developer).');
	});

	it('explains a 422 (a deleted list, an event the account lacks) with a hint', async () => {
		const { client } = scripted([ok({ errors: [{ title: 'Invalid list' }] }, 422)]);
		const failure = (await client.updateWebhook('3', { name: 'n', url: 'https://h/w', events: ['subscribe'], sources: ['public'], listid: '9' }).catch((error: unknown) => error)) as ActiveCampaignApiError;
		expect(failure.message).toBe('ActiveCampaign refused to update webhook 3: HTTP 422 – Invalid list');
		expect(failure.hint).toContain('check that each chosen list still exists');
	});

	it('names a refused TLS certificate, with a hint, and does not retry it', async () => {
		const certificate = Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
		const wrapped = Object.assign(new Error('n8n could not reach the API'), { cause: certificate });
		const { client, requests } = scripted([wrapped]);
		const failure = (await client.listWebhooks().catch((error: unknown) => error)) as ActiveCampaignApiError;
		expect(failure).toBeInstanceOf(ActiveCampaignApiError);
		expect({ message: failure.message, transient: failure.transient, requests: requests.length }).toEqual({
			message: 'n8n refused the TLS certificate of https://acct.api-us1.com (CERT_HAS_EXPIRED)',
			transient: false,
			requests: 1,
		});
		expect(failure.hint).toContain('NODE_EXTRA_CA_CERTS');
	});

	it('rethrows transport errors that are not network failures', async () => {
		const { client } = scripted([new Error('credentials missing')]);
		await expect(client.listWebhooks()).rejects.toThrow('credentials missing');
	});
});
