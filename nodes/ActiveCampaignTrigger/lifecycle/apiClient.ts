/**
 * ActiveCampaign API v3 client for what the trigger needs: webhooks, webhook events, lists and custom fields.
 *
 * The transport is injected (n8n's `httpRequestWithAuthentication` in the node, plain HTTP in tests), and so
 * is the clock, so the retry policy is a pure, testable function of the answers it gets.
 *
 * Failures are ActiveCampaignApiError, a domain error with a hint; they become n8n's NodeApiError once, at
 * the edge (subscription.ts `toNodeError`). Promises that may fail are `settle`d into values rather than
 * caught and re-thrown, so no error leaves this module half-mapped.
 */
import { parseUrl } from './deliveryUrl';
import { tagOf, type NamedField } from '../delivery/fieldNames';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRequest {
	method: HttpMethod;
	/** Path below `/api/3`, e.g. `/webhooks/12`. */
	path: string;
	query?: Record<string, string | number>;
	body?: object;
	timeoutMs: number;
}

export interface ApiResponse {
	status: number;
	headers: Record<string, unknown>;
	body: unknown;
}

/** Sends one request; resolves with any HTTP status, rejects only when no answer came (network, timeout). */
export type SendRequest = (request: ApiRequest) => Promise<ApiResponse>;

export interface RetryPolicy {
	/** Attempts per request, the first included. */
	attempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
	/** Longest `Retry-After` honoured; a longer one fails the request instead of stalling activation. */
	maxRetryAfterMs: number;
	timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	attempts: 5,
	baseDelayMs: 500,
	maxDelayMs: 8_000,
	maxRetryAfterMs: 60_000,
	timeoutMs: 20_000,
};

export interface WebhookFields {
	name: string;
	url: string;
	events: string[];
	sources: string[];
	listid: string;
}

export interface RemoteWebhook extends WebhookFields {
	id: string;
}

export interface RemoteList {
	id: string;
	name: string;
}

/**
 * An answer from ActiveCampaign that retrying will not change (4xx other than 408/429), or a transient
 * failure that outlasted the retry policy (`transient: true`).
 */
export class ActiveCampaignApiError extends Error {
	constructor(
		message: string,
		readonly status: number | undefined,
		readonly transient: boolean,
		readonly hint?: string,
	) {
		super(message);
		this.name = 'ActiveCampaignApiError';
	}
}

const TRANSIENT_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Error codes of requests that got no answer; anything else thrown by the transport is a real failure. */
const NETWORK_ERROR_CODES = new Set([
	'ECONNABORTED',
	'ECONNRESET',
	'ECONNREFUSED',
	'ETIMEDOUT',
	'ESOCKETTIMEDOUT',
	'EPIPE',
	'EAI_AGAIN',
	'ENOTFOUND',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'UND_ERR_SOCKET',
	'UND_ERR_CONNECT_TIMEOUT',
	'ERR_CANCELED',
	'ABORT_ERR',
]);

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The outcome of a promise as a value: callers decide what a failure means without catching it. */
export async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
	return await promise.then(
		(value): Settled<T> => ({ ok: true, value }),
		(error: unknown): Settled<T> => ({ ok: false, error }),
	);
}

/** A failure that retrying may cure: a 408/429/5xx answer that outlasted the retries, or no answer at all. */
export function isTransient(error: unknown): error is ActiveCampaignApiError {
	return error instanceof ActiveCampaignApiError && error.transient;
}

/** n8n wraps transport errors (NodeApiError → AxiosError → system error): look down the `cause` chain. */
export function isNetworkError(error: unknown): boolean {
	return transportCode(error, (code) => NETWORK_ERROR_CODES.has(code)) !== undefined || hasName(error, ['AbortError', 'TimeoutError']);
}

/** Node's codes for a TLS certificate it refused (expired, self-signed, for another host, unknown issuer). */
const isCertificateCode = (code: string) => /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code);

interface ErrorLink {
	code?: unknown;
	httpCode?: unknown;
	name?: unknown;
	cause?: unknown;
}

/** An error and its causes, at most five deep. */
function* causeChain(error: unknown): Generator<ErrorLink> {
	for (let current = error, depth = 0; current && depth < 5; depth++) {
		yield current as ErrorLink;
		current = (current as ErrorLink).cause;
	}
}

/** The first transport error code down the `cause` chain that `matches`. */
function transportCode(error: unknown, matches: (code: string) => boolean): string | undefined {
	for (const { code, httpCode } of causeChain(error)) {
		if (typeof code === 'string' && matches(code)) return code;
		// n8n-workflow 1.x's NodeApiError drops an Error cause and keeps axios' code as its httpCode.
		if (typeof httpCode === 'string' && matches(httpCode)) return httpCode;
	}
	return undefined;
}

function hasName(error: unknown, names: readonly string[]): boolean {
	for (const { name } of causeChain(error)) if (typeof name === 'string' && names.includes(name)) return true;
	return false;
}

/**
 * Normalises what users paste as the API URL: surrounding spaces, a missing scheme, trailing slashes and a
 * pasted `/api/3`. Returns the origin-like base without `/api/3`.
 */
export function normaliseApiUrl(input: string): string {
	let url = input.trim();
	if (url === '') {
		throw new ActiveCampaignApiError(
			'The ActiveCampaign API URL is empty',
			undefined,
			false,
			'Copy the API URL from ActiveCampaign Settings → Developer into the credential.',
		);
	}
	if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) url = `https://${url}`;
	url = url.replace(/\/+$/, '').replace(/\/api\/3$/i, '').replace(/\/+$/, '');
	const parsed = parseUrl(url);
	if (parsed === undefined) {
		throw new ActiveCampaignApiError(
			`The ActiveCampaign API URL "${input.trim()}" is not a URL`,
			undefined,
			false,
			'Copy the API URL from ActiveCampaign Settings → Developer, e.g. https://youraccount.api-us1.com.',
		);
	}
	// The API key travels in a header of every request: over plain http anyone on the way could read it.
	if (parsed.protocol !== 'https:' && !isLoopback(parsed.hostname)) {
		throw new ActiveCampaignApiError(
			`The ActiveCampaign API URL "${input.trim()}" is not https, so the API key would be sent unencrypted`,
			undefined,
			false,
			'Use the https:// API URL from ActiveCampaign Settings → Developer, e.g. https://youraccount.api-us1.com.',
		);
	}
	return url;
}

/** localhost, 127.0.0.0/8 and ::1: a local simulator or proxy, where nothing crosses a network. */
function isLoopback(hostname: string): boolean {
	return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Each id once, the first row of it kept. */
export function uniqueById<T extends { id: string }>(rows: readonly T[]): T[] {
	const byId = new Map<string, T>();
	for (const row of rows) if (!byId.has(row.id)) byId.set(row.id, row);
	return [...byId.values()];
}

/** A hint for errors when the URL is the account's app address rather than its API address. */
export function apiUrlHint(apiUrl: string): string | undefined {
	if (/\.activehosted\.com$/i.test(hostOf(apiUrl))) {
		return `"${apiUrl}" looks like your account's app URL. Use the API URL from ActiveCampaign Settings → Developer (https://<account>.api-us1.com).`;
	}
	return undefined;
}

function hostOf(url: string): string {
	return parseUrl(url)?.hostname ?? '';
}

export interface ApiClientOptions {
	send: SendRequest;
	sleep: (ms: number) => Promise<void>;
	apiUrl: string;
	retry?: Partial<RetryPolicy>;
	/** Jitter source in [0, 1); tests make it deterministic. */
	random?: () => number;
	/** Progress and retry notes for n8n's log; never given secrets. */
	log?: (message: string) => void;
	/** Waits for each request's turn at the account (pacing.ts); none by default. */
	pace?: () => Promise<void>;
	/** Told of a 429 and how long it asks to wait, before this request waits that long itself. */
	rateLimited?: (waitMs: number) => void;
}

const PAGE_SIZE = 100;

/** A listing longer than this is taken as one that does not end. */
const MAX_LISTED_ROWS = 100_000;

/** Which failures a request is retried after: these statuses, and whether also no answer at all. */
interface RetryOn {
	statuses: ReadonlySet<number>;
	noAnswer: boolean;
}

const ANY_TRANSIENT: RetryOn = { statuses: TRANSIENT_STATUSES, noAnswer: true };
const RATE_LIMIT_ONLY: RetryOn = { statuses: new Set([429]), noAnswer: false };

export class ActiveCampaignClient {
	private readonly policy: RetryPolicy;

	private readonly random: () => number;

	constructor(private readonly options: ApiClientOptions) {
		this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
		this.random = options.random ?? Math.random;
	}

	/**
	 * Every webhook of the account, all pages, each id once: when another workflow creates or deletes a
	 * webhook while this one pages with limit/offset, a row can shift onto the next page and come twice.
	 */
	async listWebhooks(): Promise<RemoteWebhook[]> {
		return uniqueById((await this.listAll('/webhooks', 'webhooks')).map(toRemoteWebhook));
	}

	async createWebhook(fields: WebhookFields): Promise<RemoteWebhook> {
		// A POST whose answer was lost, or that failed with a 5xx, may have created the webhook: not retried
		// here, the reconciler lists again and decides, so a retry can never make a duplicate. A 429 created
		// nothing, so it is retried after the wait ActiveCampaign asks for.
		const response = await this.request({ method: 'POST', path: '/webhooks', body: { webhook: fields } }, RATE_LIMIT_ONLY);
		return toRemoteWebhook(this.expectOk(response, 'create the webhook').webhook);
	}

	/** Waits before the reconciler's next round, as long as before the `round`-th retry of a request. */
	async backOff(round: number): Promise<void> {
		await this.options.sleep(this.backoffMs(round));
	}

	private backoffMs(attempt: number): number {
		const backoff = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
		return Math.round(backoff * (0.5 + this.random() / 2));
	}

	/** PUT is idempotent, so transient failures are retried. */
	async updateWebhook(id: string, fields: WebhookFields): Promise<RemoteWebhook | 'gone'> {
		const response = await this.request({ method: 'PUT', path: `/webhooks/${id}`, body: { webhook: fields } });
		if (response.status === 404) return 'gone';
		return toRemoteWebhook(this.expectOk(response, `update webhook ${id}`).webhook);
	}

	/** One webhook by id; 'gone' when ActiveCampaign has none with it. */
	async getWebhook(id: string): Promise<RemoteWebhook | 'gone'> {
		const response = await this.request({ method: 'GET', path: `/webhooks/${id}` });
		if (response.status === 404) return 'gone';
		return toRemoteWebhook(this.expectOk(response, `read webhook ${id}`).webhook);
	}

	/** Resolves when the webhook no longer exists; a 404 means it was already gone. */
	async deleteWebhook(id: string): Promise<void> {
		const response = await this.request({ method: 'DELETE', path: `/webhooks/${id}` });
		if (response.status === 404) return;
		this.expectOk(response, `delete webhook ${id}`);
	}

	/** The event ids the account offers (`GET /webhook/events`). */
	async listWebhookEvents(): Promise<string[]> {
		const rows = await this.listAll('/webhook/events', 'webhookEvents');
		return rows.filter((row): row is string => typeof row === 'string');
	}

	async listLists(search?: string): Promise<RemoteList[]> {
		const query: Record<string, string> = search ? { 'filters[name]': search } : {};
		const rows = await this.listAll('/lists', 'lists', query);
		return rows.map((row) => {
			const list = row as Record<string, unknown>;
			return { id: String(list.id), name: String(list.name ?? list.id) };
		});
	}

	/** Contact custom fields (`GET /fields`): id, title and personalisation tag. */
	async listContactFields(): Promise<NamedField[]> {
		return await this.listNamedFields('/fields', 'fields', { title: 'title', tag: 'perstag' });
	}

	/** Deal custom fields (`GET /dealCustomFieldMeta`): id, label and personalisation tag. */
	async listDealFields(): Promise<NamedField[]> {
		return await this.listNamedFields('/dealCustomFieldMeta', 'dealCustomFieldMeta', { title: 'fieldLabel', tag: 'personalization' });
	}

	/** A listing of custom fields, each read as id, title and tag from the attributes `names` gives. */
	private async listNamedFields(path: string, key: string, names: { title: string; tag: string }): Promise<NamedField[]> {
		const rows = (await this.listAll(path, key)).filter(isRecord);
		return uniqueById(rows.map((row) => ({ id: String(row.id), title: String(row[names.title] ?? ''), tag: tagOf(String(row[names.tag] ?? '')) })));
	}

	private async listAll(path: string, key: string, query: Record<string, string> = {}): Promise<unknown[]> {
		const rows: unknown[] = [];
		let previousPage = '';
		for (let offset = 0; ; offset += PAGE_SIZE) {
			const response = await this.request({
				method: 'GET',
				path,
				query: { ...query, limit: PAGE_SIZE, offset },
			});
			const body = this.expectOk(response, `list ${key}`);
			const page = body[key];
			if (!Array.isArray(page)) {
				throw new ActiveCampaignApiError(
					`ActiveCampaign answered GET ${path} without a "${key}" list`,
					response.status,
					false,
				);
			}
			// An endpoint (a proxy, say) that ignores `offset` would otherwise be paged for ever.
			const pageText = JSON.stringify(page);
			if (pageText === previousPage || offset >= MAX_LISTED_ROWS) {
				throw new ActiveCampaignApiError(
					`ActiveCampaign's listing of ${key} did not end (${offset} rows read; the same page came twice, or too many)`,
					response.status,
					false,
					'Check that the API URL in the credential points at ActiveCampaign itself, not at a proxy that drops query parameters.',
				);
			}
			previousPage = pageText;
			rows.push(...page);
			// meta.total is a string in ActiveCampaign's answers; a short page also ends the listing.
			const total = Number((body.meta as { total?: unknown } | undefined)?.total);
			if (page.length < PAGE_SIZE || (Number.isFinite(total) && rows.length >= total)) return rows;
		}
	}

	/** One attempt; transport failures become transient errors. */
	private async requestOnce(request: Omit<ApiRequest, 'timeoutMs'>): Promise<ApiResponse> {
		await this.options.pace?.();
		const sent = await settle(this.options.send({ ...request, timeoutMs: this.policy.timeoutMs }));
		if (sent.ok) return sent.value;
		const certificate = transportCode(sent.error, isCertificateCode);
		if (certificate !== undefined) {
			throw new ActiveCampaignApiError(
				`n8n refused the TLS certificate of ${this.options.apiUrl} (${certificate})`,
				undefined,
				false,
				"Check the API URL in the ActiveCampaign credential (Settings → Developer gives it). Behind a proxy that replaces certificates, give n8n the proxy's CA in NODE_EXTRA_CA_CERTS.",
			);
		}
		if (!isNetworkError(sent.error)) throw sent.error;
		throw new ActiveCampaignApiError(
			`No answer from ActiveCampaign to ${request.method} ${request.path} (${describeNetworkError(sent.error)})`,
			undefined,
			true,
			apiUrlHint(this.options.apiUrl) ?? 'Check that the API URL is reachable from n8n; activation can be retried.',
		);
	}

	/**
	 * Retries transient failures with capped exponential backoff and jitter, honouring `Retry-After`; `retry`
	 * narrows what counts as transient for requests that must not be repeated blindly.
	 */
	private async request(request: Omit<ApiRequest, 'timeoutMs'>, retry: RetryOn = ANY_TRANSIENT): Promise<ApiResponse> {
		for (let attempt = 1; ; attempt++) {
			const sent = await settle(this.requestOnce(request));
			if (sent.ok && !retry.statuses.has(sent.value.status)) return sent.value;
			if (!sent.ok && !(retry.noAnswer && isTransient(sent.error))) throw sent.error;
			const response = sent.ok ? sent.value : undefined;
			const failure = sent.ok ? undefined : (sent.error as ActiveCampaignApiError);
			const retryAfterMs = response ? retryAfter(response.headers) : undefined;
			const delay = retryAfterMs ?? this.backoffMs(attempt);
			// Every 429 holds the account's other requests back (pacing.ts), also one this request gives up after.
			if (response?.status === 429) this.options.rateLimited?.(Math.min(delay, this.policy.maxRetryAfterMs));
			if (attempt >= this.policy.attempts || (retryAfterMs ?? 0) > this.policy.maxRetryAfterMs) {
				throw failure ?? this.httpError(response!, `${request.method} ${request.path}`, true);
			}
			this.options.log?.(
				`ActiveCampaign ${request.method} ${request.path}: ${response ? `HTTP ${response.status}` : 'no answer'}, retry ${attempt}/${this.policy.attempts - 1} in ${delay} ms`,
			);
			await this.options.sleep(delay);
		}
	}

	private expectOk(response: ApiResponse, what: string): Record<string, unknown> {
		if (response.status >= 200 && response.status < 300) {
			return isRecord(response.body) ? response.body : {};
		}
		throw this.httpError(response, what, TRANSIENT_STATUSES.has(response.status));
	}

	private httpError(response: ApiResponse, what: string, transient: boolean): ActiveCampaignApiError {
		const detail = errorDetail(response.body);
		const message = `ActiveCampaign refused to ${what}: HTTP ${response.status}${detail ? ` – ${detail}` : ''}`;
		return new ActiveCampaignApiError(message, response.status, transient, this.hintFor(response.status));
	}

	private hintFor(status: number): string | undefined {
		const appUrlHint = apiUrlHint(this.options.apiUrl);
		if (status === 401 || status === 403) {
			return appUrlHint ?? 'Check the API key in the ActiveCampaign credential (Settings → Developer).';
		}
		if (status === 404) return appUrlHint;
		if (status === 422) {
			return 'ActiveCampaign refused a value of the webhook: check that each chosen list still exists and that your account offers each chosen event (Settings → Developer → Webhooks).';
		}
		if (status === 429) return 'ActiveCampaign is rate limiting this account; try again in a minute.';
		if (status >= 500) return 'ActiveCampaign had a server error; try activating again later.';
		return undefined;
	}
}

function toRemoteWebhook(value: unknown): RemoteWebhook {
	const webhook = isRecord(value) ? value : {};
	return {
		id: String(webhook.id),
		name: String(webhook.name ?? ''),
		url: String(webhook.url ?? ''),
		events: stringArray(webhook.events),
		sources: stringArray(webhook.sources),
		listid: String(webhook.listid ?? '0'),
	};
}

function stringArray(value: unknown): string[] {
	return Array.isArray(value) ? value.map(String) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Retry-After` in seconds or as an HTTP date; undefined when absent or unreadable. */
export function retryAfter(headers: Record<string, unknown>, now = Date.now()): number | undefined {
	const raw = headers['retry-after'] ?? headers['Retry-After'];
	const value = Array.isArray(raw) ? raw[0] : raw;
	if (typeof value !== 'string' && typeof value !== 'number') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
	const date = Date.parse(String(value));
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** ActiveCampaign answers errors as `{ message }` or `{ errors: [{ title, detail }] }`. */
function errorDetail(body: unknown): string | undefined {
	if (!isRecord(body)) return typeof body === 'string' && body.length < 300 ? body : undefined;
	if (typeof body.message === 'string') return body.message;
	if (Array.isArray(body.errors)) {
		return body.errors
			.map((error) => (isRecord(error) ? String(error.detail ?? error.title ?? '') : String(error)))
			.filter(Boolean)
			.join('; ');
	}
	return undefined;
}

function describeNetworkError(error: unknown): string {
	for (const { code } of causeChain(error)) if (typeof code === 'string') return code;
	return 'timeout';
}
