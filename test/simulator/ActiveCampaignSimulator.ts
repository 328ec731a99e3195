/**
 * An ActiveCampaign API v3 simulator on a real HTTP port, for the unit tests, the end-to-end suite and the
 * demo: the webhook endpoints with ActiveCampaign's shapes and checks, fault injection, and deliveries of
 * events to the registered webhooks. See README.md beside this file.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { EVENT_IDS } from '../../nodes/ActiveCampaignTrigger/catalog';
import { SimulatedAccount, json, type ApiAnswer, type SimulatedField, type SimulatedList, type SimulatedWebhook } from './account';
import { deliveryTarget, encodeDeliveryBody, readEnvelope, receivesEvent } from './delivery';
import { FaultQueue, matchesRequest, type Fault } from './faults';

export type { SimulatedField, SimulatedWebhook } from './account';
export type { Fault } from './faults';

export interface SimulatorOptions {
	/** The Api-Token header value every request must carry; otherwise 403. */
	apiToken: string;
	/** 0 (default): a free port on 127.0.0.1. */
	port?: number;
	/** Default: ids "1", "2", "3". */
	lists?: SimulatedList[];
	/** Contact custom fields; default DEFAULT_CONTACT_FIELDS (the ids and tags of the fixture deliveries). */
	contactFields?: SimulatedField[];
	/** Deal custom fields; default DEFAULT_DEAL_FIELDS. */
	dealFields?: SimulatedField[];
	/** What GET /api/3/webhook/events answers and what webhooks may subscribe to; default: the whole catalog. */
	accountEvents?: string[];
	/** When delivering, replaces the origin of each registered URL, e.g. 'http://127.0.0.1:5678'. */
	deliveryOrigin?: string;
	/** One line per API request and per delivery. */
	log?: (line: string) => void;
	/** Source of `cdate` values; default: the real time. */
	clock?: () => Date;
}

export interface DeliveryResult {
	/** '' for postTo, which is not a webhook's delivery. */
	webhookId: string;
	url: string;
	/** 0 when no answer came (refused, reset, timed out); `body` then says why. */
	status: number;
	body: string;
}

export interface RequestRecord {
	method: string;
	path: string;
	/** The raw query string, without '?'. */
	query: string;
	status: number | 'hung';
	/** When the request arrived (performance.now()). */
	receivedAt: number;
}

export interface PostOptions {
	/** Form-encoded unless given; `null` sends no Content-Type at all. */
	contentType?: string | null;
	headers?: Record<string, string>;
}

export interface DeliverOptions extends PostOptions {
	/** The lists the contact is on, for list-scoped events whose body names no single list (`list=0`). */
	memberOf?: readonly string[];
}

export const DEFAULT_LISTS: readonly SimulatedList[] = [
	{ id: '1', name: 'Newsletter' },
	{ id: '2', name: 'Customers' },
	{ id: '3', name: 'Webinar attendees' },
];

/**
 * The contact custom fields of the fixture deliveries: standard events carry ids 1, 2, 7, 12, 15, 39 and 41,
 * the automation action the tags `interests` and `utm_source`. Two fields share the title "Lead source".
 */
export const DEFAULT_CONTACT_FIELDS: readonly SimulatedField[] = [
	{ id: '1', title: 'Codename', tag: 'CODENAME' },
	{ id: '2', title: 'Interests', tag: 'INTERESTS' },
	{ id: '7', title: 'Favourite colours', tag: 'FAVOURITE_COLOURS' },
	{ id: '12', title: 'Lead source', tag: 'LEAD_SOURCE' },
	{ id: '15', title: 'Renewal date', tag: 'RENEWAL_DATE' },
	{ id: '39', title: 'UTM source', tag: 'UTM_SOURCE' },
	{ id: '41', title: 'Lead source', tag: 'LEAD_SOURCE_OLD' },
];

/** Deal custom fields 1-20, as in the fixture `deal_update` (its keys are the titles). */
export const DEFAULT_DEAL_FIELDS: readonly SimulatedField[] = Array.from({ length: 20 }, (_, index) => {
	const id = String(index + 1);
	const title = { '1': 'Forecasted Close Date', '2': 'Lead Source', '13': 'Regions' }[id] ?? `Field ${id}`;
	return { id, title, tag: `%DEAL_${title.toUpperCase().replace(/\W+/g, '_')}%` };
});

const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
const DELIVERY_TIMEOUT_MS = 30_000;
/** The 403 text is the description on ActiveCampaign's "Errors" reference page; the live body is unverified. */
const FORBIDDEN_MESSAGE =
	'The request could not be authenticated or the authenticated user is not authorized to access the requested resource.';

export class ActiveCampaignSimulator {
	readonly requests: RequestRecord[] = [];

	private readonly faults = new FaultQueue();

	private answerHooks: Array<{ match: { method: string; path: string | RegExp }; action: () => Promise<void> }> = [];

	private constructor(
		private readonly server: Server,
		readonly apiUrl: string,
		private readonly account: SimulatedAccount,
		private readonly options: SimulatorOptions,
	) {}

	static async start(options: SimulatorOptions): Promise<ActiveCampaignSimulator> {
		const account = new SimulatedAccount({
			lists: (options.lists ?? DEFAULT_LISTS).map((list) => ({ ...list })),
			contactFields: (options.contactFields ?? DEFAULT_CONTACT_FIELDS).map((field) => ({ ...field })),
			dealFields: (options.dealFields ?? DEFAULT_DEAL_FIELDS).map((field) => ({ ...field })),
			accountEvents: [...(options.accountEvents ?? EVENT_IDS)],
			clock: options.clock ?? (() => new Date()),
		});
		const server = createServer();
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(options.port ?? 0, '127.0.0.1', () => {
				server.off('error', reject);
				resolve();
			});
		});
		const { port } = server.address() as AddressInfo;
		const simulator = new ActiveCampaignSimulator(server, `http://127.0.0.1:${port}`, account, options);
		server.on('request', (request: IncomingMessage, response: ServerResponse) => {
			void simulator.onRequest(request, response);
		});
		return simulator;
	}

	/** Stops listening and drops every connection, hanging requests included. */
	async close(): Promise<void> {
		if (!this.server.listening) return;
		const closed = new Promise<void>((resolve, reject) => {
			this.server.close((error) => (error ? reject(error) : resolve()));
		});
		this.server.closeAllConnections();
		await closed;
	}

	webhooks(): SimulatedWebhook[] {
		return this.account.webhooks();
	}

	/** A webhook that already exists (orphans, other apps); not validated. */
	seedWebhook(webhook: Omit<SimulatedWebhook, 'id' | 'cdate' | 'links'>): SimulatedWebhook {
		return this.account.addWebhook(webhook);
	}

	/** A contact custom field created in ActiveCampaign's UI. */
	addContactField(field: SimulatedField): void {
		this.account.addContactField(field);
	}

	/** An edit made in ActiveCampaign's UI; not validated. */
	editWebhook(id: string, patch: Partial<SimulatedWebhook>): void {
		this.account.editWebhook(id, patch);
	}

	removeWebhook(id: string): void {
		if (!this.account.removeWebhook(id)) throw new Error(`The simulator has no webhook with id ${id}`);
	}

	/** Faults are used in order of injection; the first one matching a request applies. */
	injectFault(fault: Fault): void {
		this.faults.add(fault);
	}

	clearFaults(): void {
		this.faults.clear();
	}

	/**
	 * Runs `action` once, after the first request matching `method` and `path` is handled and before it is
	 * answered: an event that happens in ActiveCampaign while the node is still waiting for the answer.
	 */
	beforeAnswer(match: { method: string; path: string | RegExp }, action: () => Promise<void>): void {
		this.answerHooks.push({ match, action });
	}

	/** Empties `requests` in place. */
	resetRequests(): void {
		this.requests.length = 0;
	}

	/**
	 * Fires one event as ActiveCampaign would: one POST to each webhook that takes it (by `type`,
	 * `initiated_from` and, for list-scoped events, `list`), in id order. A webhook answering 410 is removed.
	 */
	async deliver(body: string | Record<string, unknown>, options: DeliverOptions = {}): Promise<DeliveryResult[]> {
		const encoded = encodeDeliveryBody(body);
		const envelope = readEnvelope(encoded);
		const results: DeliveryResult[] = [];
		for (const webhook of this.webhooks().filter((candidate) => receivesEvent(candidate, envelope, options.memberOf))) {
			const url = deliveryTarget(webhook.url, this.options.deliveryOrigin);
			const result = { ...(await this.post(url, encoded, options)), webhookId: webhook.id };
			// ActiveCampaign deactivates a webhook that answers 410 Gone; here it is removed outright.
			if (result.status === 410) this.account.removeWebhook(webhook.id);
			this.options.log?.(`deliver ${envelope.type ?? '(no type)'} to webhook ${webhook.id} ${url} -> ${result.status}`);
			results.push(result);
		}
		return results;
	}

	/** POSTs a body to any URL as it is (no origin swap), e.g. a forged or malformed delivery. */
	async postTo(url: string, body: string, options: PostOptions = {}): Promise<DeliveryResult> {
		const result = await this.post(url, body, options);
		this.options.log?.(`post to ${url} -> ${result.status}`);
		return result;
	}

	private async post(url: string, body: string, options: PostOptions): Promise<DeliveryResult> {
		try {
			// fetch gives a string body its own text/plain type; bytes it sends without one.
			const untyped = options.contentType === null;
			const response = await fetch(url, {
				method: 'POST',
				headers: { ...(untyped ? {} : { 'Content-Type': options.contentType ?? FORM_CONTENT_TYPE }), ...options.headers },
				body: untyped ? Buffer.from(body, 'utf8') : body,
				signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
			});
			return { webhookId: '', url, status: response.status, body: await response.text() };
		} catch (error) {
			return { webhookId: '', url, status: 0, body: describeFailure(error) };
		}
	}

	private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
		const method = request.method ?? 'GET';
		// Prefixed, not resolved against a base: a path starting with "//" must stay a path.
		const url = new URL(`http://simulator${request.url ?? '/'}`);
		let body: string;
		try {
			body = await readBody(request);
		} catch {
			return; // The client went away while sending; there is no one to answer.
		}
		const record: RequestRecord = { method, path: url.pathname, query: url.search.slice(1), status: 0, receivedAt: performance.now() };
		this.requests.push(record);
		const handle = () => this.handle(request, method, url, body);

		const fault = this.faults.take(method, url.pathname);
		const faultNote = fault ? ` (fault${fault.applyFirst ? ', applied first' : ''})` : '';
		if (fault?.applyFirst) handle();
		if (fault?.hang) {
			record.status = 'hung';
			this.options.log?.(`${method} ${url.pathname}${url.search} -> hung${faultNote}`);
			return; // Never answered: the socket ends when the client aborts or close() drops it.
		}
		const answer = fault?.status !== undefined ? faultAnswer(fault.status, fault.retryAfter) : handle();
		record.status = answer.status;
		this.options.log?.(`${method} ${url.pathname}${url.search} -> ${answer.status}${faultNote}`);
		const hook = this.answerHooks.find(({ match }) => matchesRequest(match, method, url.pathname));
		if (hook !== undefined) {
			this.answerHooks = this.answerHooks.filter((other) => other !== hook);
			await hook.action();
		}
		send(response, answer);
	}

	private handle(request: IncomingMessage, method: string, url: URL, body: string): ApiAnswer {
		if (request.headers['api-token'] !== this.options.apiToken) return json(403, { message: FORBIDDEN_MESSAGE });
		try {
			return this.account.handle({ method, pathname: url.pathname, query: url.searchParams, body });
		} catch (error) {
			return json(500, { message: `Simulator error: ${describeFailure(error)}` });
		}
	}
}

/** A fault's answer in ActiveCampaign's error shapes: `{ errors }` for 422, `{ message }` otherwise. */
function faultAnswer(status: number, retryAfter?: number): ApiAnswer {
	const message = STATUS_CODES[status] ?? `HTTP ${status}`;
	const body =
		status === 422
			? { errors: [{ title: message, detail: 'Simulated fault', code: 'simulated', source: { pointer: '/data' } }] }
			: { message };
	return { status, body, headers: retryAfter === undefined ? undefined : { 'Retry-After': String(retryAfter) } };
}

function send(response: ServerResponse, answer: ApiAnswer): void {
	const text = JSON.stringify(answer.body);
	response.writeHead(answer.status, {
		'Content-Type': 'application/json; charset=utf-8',
		'Content-Length': Buffer.byteLength(text),
		...answer.headers,
	});
	response.end(text);
}

async function readBody(request: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of request) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString('utf8');
}

/**
 * fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, timeout) in `cause`. Read by shape, not
 * `instanceof Error`: under jest the error comes from another realm.
 */
function describeFailure(error: unknown): string {
	const { message, cause } = (error ?? {}) as { message?: unknown; cause?: { message?: unknown } };
	if (typeof cause?.message === 'string') return cause.message;
	return typeof message === 'string' ? message : String(error);
}
