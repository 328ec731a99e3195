/**
 * One simulated ActiveCampaign account: its webhooks, lists and webhook events, and the API v3 routes over
 * them as a plain function from a request to an answer. HTTP, authentication and faults live in
 * ActiveCampaignSimulator.ts.
 */
import { validateWebhook, type ValidationContext, type WebhookChanges } from './webhookValidation';

export interface SimulatedWebhook {
	id: string;
	name: string;
	url: string;
	events: string[];
	sources: string[];
	listid: string;
	cdate: string;
	links: Record<string, string>;
}

export interface SimulatedList {
	id: string;
	name: string;
}

/** A custom field as the account defines it; `tag` is the personalisation tag as the API spells it. */
export interface SimulatedField {
	id: string;
	title: string;
	tag: string;
}

export interface AccountSettings {
	lists: SimulatedList[];
	/** Contact custom fields (`GET /api/3/fields`). */
	contactFields: SimulatedField[];
	/** Deal custom fields (`GET /api/3/dealCustomFieldMeta`). */
	dealFields: SimulatedField[];
	accountEvents: string[];
	clock: () => Date;
}

export interface ApiCall {
	method: string;
	pathname: string;
	query: URLSearchParams;
	/** The raw request body; parsed as JSON by the routes that take one. */
	body: string;
}

export interface ApiAnswer {
	status: number;
	body: unknown;
	headers?: Record<string, string>;
}

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

const SIMULATED_USER = {
	username: 'admin',
	firstName: 'Simulated',
	lastName: 'Admin',
	email: 'admin@simulator.example.test',
	phone: '',
	signature: null,
	links: {},
	id: '1',
};

export const json = (status: number, body: unknown): ApiAnswer => ({ status, body });

const notFound = (what: string, id: string) => json(404, { message: `No Result found for ${what} with id ${id}` });

export class SimulatedAccount {
	private readonly store = new Map<string, SimulatedWebhook>();

	private lastWebhookId = 0;

	private readonly routes: Array<{ method: string; path: RegExp; handle: (call: ApiCall, id: string) => ApiAnswer }> = [
		{ method: 'GET', path: /^\/api\/3\/users\/me$/, handle: () => json(200, { user: SIMULATED_USER }) },
		{ method: 'GET', path: /^\/api\/3\/webhooks$/, handle: (call) => this.listWebhooks(call.query) },
		{ method: 'POST', path: /^\/api\/3\/webhooks$/, handle: (call) => this.createWebhook(call.body) },
		{ method: 'GET', path: /^\/api\/3\/webhooks\/([^/]+)$/, handle: (_call, id) => this.getWebhook(id) },
		{ method: 'PUT', path: /^\/api\/3\/webhooks\/([^/]+)$/, handle: (call, id) => this.updateWebhook(id, call.body) },
		{ method: 'DELETE', path: /^\/api\/3\/webhooks\/([^/]+)$/, handle: (_call, id) => this.deleteWebhook(id) },
		{ method: 'GET', path: /^\/api\/3\/webhook\/events$/, handle: (call) => this.listWebhookEvents(call.query) },
		{ method: 'GET', path: /^\/api\/3\/lists$/, handle: (call) => this.listLists(call.query) },
		{ method: 'GET', path: /^\/api\/3\/fields$/, handle: (call) => this.listContactFields(call.query) },
		{ method: 'GET', path: /^\/api\/3\/dealCustomFieldMeta$/, handle: (call) => this.listDealFields(call.query) },
	];

	constructor(private readonly settings: AccountSettings) {}

	handle(call: ApiCall): ApiAnswer {
		for (const route of this.routes) {
			const match = route.path.exec(call.pathname);
			if (match && route.method === call.method) return route.handle(call, decodeURIComponent(match[1] ?? ''));
		}
		return json(404, { message: `No route for ${call.method} ${call.pathname}` });
	}

	/** Deep copies, ordered by id. */
	webhooks(): SimulatedWebhook[] {
		return [...this.store.values()].sort((a, b) => Number(a.id) - Number(b.id)).map(copyWebhook);
	}

	/** A contact custom field created in the account (listed by `GET /api/3/fields` from now on). */
	addContactField(field: SimulatedField): void {
		this.settings.contactFields.push({ ...field });
	}

	/** Stores a webhook as given, without validation: old or foreign webhooks need not pass today's checks. */
	addWebhook(fields: Omit<SimulatedWebhook, 'id' | 'cdate' | 'links'>): SimulatedWebhook {
		// Ids come from a counter and are never reused, like a database auto-increment.
		const id = String(++this.lastWebhookId);
		const webhook: SimulatedWebhook = {
			id,
			name: fields.name,
			url: fields.url,
			events: [...fields.events],
			sources: [...fields.sources],
			listid: fields.listid,
			cdate: formatDate(this.settings.clock()),
			links: {},
		};
		this.store.set(id, webhook);
		return copyWebhook(webhook);
	}

	editWebhook(id: string, patch: Partial<SimulatedWebhook>): void {
		const webhook = this.store.get(id);
		if (!webhook) throw new Error(`The simulator has no webhook with id ${id}`);
		if (patch.id !== undefined && patch.id !== id) throw new Error(`A webhook's id cannot be edited (${id})`);
		this.store.set(id, copyWebhook({ ...webhook, ...patch, id }));
	}

	/** Whether there was such a webhook. */
	removeWebhook(id: string): boolean {
		return this.store.delete(id);
	}

	private listWebhooks(query: URLSearchParams): ApiAnswer {
		// The filters are taken as exact matches (SQL `=`), the strictest reading of ActiveCampaign's docs.
		const filters = (['name', 'url', 'listid'] as const)
			.map((field) => [field, query.get(`filters[${field}]`)] as const)
			.filter((filter): filter is readonly ['name' | 'url' | 'listid', string] => filter[1] !== null);
		const matching = this.webhooks().filter((webhook) => filters.every(([field, value]) => webhook[field] === value));
		const { page, total } = paginate(matching, query, DEFAULT_LIMIT);
		return json(200, { webhooks: page.map(webhookResource), meta: { total } });
	}

	private getWebhook(id: string): ApiAnswer {
		const webhook = this.store.get(id);
		return webhook ? json(200, { webhook: webhookResource(webhook) }) : notFound('Webhook', id);
	}

	private createWebhook(body: string): ApiAnswer {
		const parsed = parseJson(body);
		if (!parsed.ok) return parsed.answer;
		const result = validateWebhook(parsed.value.webhook, this.validationContext(), 'create');
		if (!result.ok) return json(422, { errors: result.errors });
		// In create mode a valid result has every field set.
		const created = this.addWebhook(result.changes as Required<WebhookChanges>);
		return json(201, { webhook: webhookResource(created) });
	}

	private updateWebhook(id: string, body: string): ApiAnswer {
		const webhook = this.store.get(id);
		if (!webhook) return notFound('Webhook', id);
		const parsed = parseJson(body);
		if (!parsed.ok) return parsed.answer;
		const result = validateWebhook(parsed.value.webhook, this.validationContext(), 'update');
		if (!result.ok) return json(422, { errors: result.errors });
		this.editWebhook(id, result.changes);
		return this.getWebhook(id);
	}

	private deleteWebhook(id: string): ApiAnswer {
		return this.store.delete(id) ? json(200, {}) : notFound('Webhook', id);
	}

	/** Without `limit` all events come back: the documented example answer lists 25, more than one default page. */
	private listWebhookEvents(query: URLSearchParams): ApiAnswer {
		const events = this.settings.accountEvents;
		const { page, total } = paginate(events, query, events.length);
		return json(200, { webhookEvents: page, meta: { total } });
	}

	private listLists(query: URLSearchParams): ApiAnswer {
		const search = query.get('filters[name]')?.toLowerCase();
		const matching = this.settings.lists.filter((list) => !search || list.name.toLowerCase().includes(search));
		const { page, total } = paginate(matching, query, DEFAULT_LIMIT);
		const cdate = formatDate(this.settings.clock());
		return json(200, { lists: page.map((list) => listResource(list, cdate)), meta: { total } });
	}

	/** The shape of ActiveCampaign's answer, trimmed to the keys that matter here (and `fieldOptions`, `fieldRels`). */
	private listContactFields(query: URLSearchParams): ApiAnswer {
		const { page, total } = paginate(this.settings.contactFields, query, DEFAULT_LIMIT);
		const fields = page.map((field, index) => ({
			title: field.title,
			descript: '',
			type: 'text',
			isrequired: '0',
			perstag: field.tag,
			defval: '',
			ordernum: String(index + 1),
			links: {},
			id: field.id,
		}));
		return json(200, { fieldOptions: [], fieldRels: [], fields, meta: { total } });
	}

	private listDealFields(query: URLSearchParams): ApiAnswer {
		const { page, total } = paginate(this.settings.dealFields, query, DEFAULT_LIMIT);
		const dealCustomFieldMeta = page.map((field, index) => ({
			fieldLabel: field.title,
			fieldType: 'text',
			fieldOptions: null,
			fieldDefault: null,
			isFormVisible: 1,
			isRequired: 0,
			displayOrder: index + 1,
			personalization: field.tag,
			knownFieldId: null,
			hideFieldFlag: 0,
			links: {},
			id: field.id,
		}));
		// The deals API counts as a number, not a string.
		return json(200, { dealCustomFieldMeta, meta: { total: Number(total) } });
	}

	private validationContext(): ValidationContext {
		return {
			accountEvents: new Set(this.settings.accountEvents),
			listIds: new Set(this.settings.lists.map((list) => list.id)),
		};
	}
}

/** ActiveCampaign's paging: `limit` (max 100) and `offset`; `meta.total` counts all matches, as a string. */
function paginate<T>(rows: readonly T[], query: URLSearchParams, defaultLimit: number): { page: T[]; total: string } {
	const limit = Math.min(MAX_LIMIT, positiveInteger(query.get('limit')) ?? defaultLimit);
	const offset = positiveInteger(query.get('offset')) ?? 0;
	return { page: rows.slice(offset, offset + limit), total: String(rows.length) };
}

function positiveInteger(value: string | null): number | undefined {
	if (value === null || !/^\d+$/.test(value)) return undefined;
	const number = Number(value);
	return number > 0 ? number : undefined;
}

function parseJson(body: string): { ok: true; value: Record<string, unknown> } | { ok: false; answer: ApiAnswer } {
	try {
		const value: unknown = JSON.parse(body);
		if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
			return { ok: true, value: value as Record<string, unknown> };
		}
	} catch {
		// Answered below, like a body that is JSON but not an object.
	}
	return { ok: false, answer: json(400, { message: 'The request body is not a JSON object' }) };
}

/** The key order of ActiveCampaign's documented answers. */
function webhookResource(webhook: SimulatedWebhook) {
	const { cdate, listid, name, url, events, sources, links, id } = webhook;
	return { cdate, listid, name, url, events: [...events], sources: [...sources], links: { ...links }, id };
}

function listResource(list: SimulatedList, cdate: string) {
	return {
		stringid: list.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''),
		userid: '1',
		name: list.name,
		cdate,
		udate: cdate,
		sender_url: '',
		sender_reminder: '',
		links: {},
		id: list.id,
	};
}

function copyWebhook(webhook: SimulatedWebhook): SimulatedWebhook {
	return { ...webhook, events: [...webhook.events], sources: [...webhook.sources], links: { ...webhook.links } };
}

/** ActiveCampaign's date style, `2016-01-01T12:00:00-00:00`, in UTC. */
function formatDate(date: Date): string {
	return date.toISOString().replace(/\.\d{3}Z$/, '-00:00');
}
