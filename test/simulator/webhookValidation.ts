/**
 * The checks ActiveCampaign applies to the `webhook` object of POST and PUT /api/3/webhooks, as 422 errors in
 * its `{ errors: [{ title, detail, code, source: { pointer } }] }` shape.
 */
import { SOURCE_IDS } from '../../nodes/ActiveCampaignTrigger/catalog';

export interface ApiError {
	title: string;
	detail: string;
	code: string;
	source: { pointer: string };
}

/** The fields a request sets; on update, absent fields stay as they are. */
export interface WebhookChanges {
	name?: string;
	url?: string;
	events?: string[];
	sources?: string[];
	listid?: string;
}

export interface ValidationContext {
	accountEvents: ReadonlySet<string>;
	listIds: ReadonlySet<string>;
}

export type ValidationResult = { ok: true; changes: WebhookChanges } | { ok: false; errors: ApiError[] };

type FieldName = keyof WebhookChanges;

const pointer = (field: string) => ({ pointer: `/data/attributes/${field}` });

const missing = (field: string): ApiError => ({
	title: `The webhook ${field} was not provided.`,
	detail: '',
	code: 'field_missing',
	source: pointer(field),
});

const invalid = (field: string, detail: string): ApiError => ({
	title: `The webhook ${field} is not valid.`,
	detail,
	code: 'field_invalid',
	source: pointer(field),
});

/**
 * `mode: 'create'` requires name, url, events and sources; `'update'` checks only the fields given. Either way a
 * given field that is empty (`''`, `[]`) counts as not provided, and a missing or "0" listid means all lists.
 */
export function validateWebhook(
	input: unknown,
	context: ValidationContext,
	mode: 'create' | 'update',
): ValidationResult {
	if (!isRecord(input)) {
		const error = { title: 'The webhook was not provided.', detail: '', code: 'field_missing', source: { pointer: '/data' } };
		return { ok: false, errors: [error] };
	}
	const errors: ApiError[] = [];
	const changes: WebhookChanges = {};
	const given = (field: FieldName) => input[field] !== undefined && input[field] !== null;
	const required = (field: FieldName) => {
		if (mode === 'create') errors.push(missing(field));
	};

	for (const field of ['name', 'url'] as const) {
		if (!given(field)) required(field);
		else if (typeof input[field] !== 'string') errors.push(invalid(field, `The ${field} must be a string`));
		else if ((input[field] as string).trim() === '') errors.push(missing(field));
		else changes[field] = input[field] as string;
	}
	if (changes.url !== undefined) {
		const problem = urlProblem(changes.url);
		if (problem) errors.push(invalid('url', problem));
	}

	const allowed = { events: context.accountEvents, sources: new Set(SOURCE_IDS) };
	for (const field of ['events', 'sources'] as const) {
		const value = input[field];
		if (!given(field)) required(field);
		else if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
			errors.push(invalid(field, `The ${field} must be a list of strings`));
		} else if (value.length === 0) errors.push(missing(field));
		else {
			const unknown = value.filter((item) => !allowed[field].has(item));
			for (const item of unknown) errors.push(invalid(field, unknownDetail(field, item)));
			if (unknown.length === 0) changes[field] = [...value];
		}
	}

	if (given('listid')) {
		const listid = String(input.listid).trim();
		if (listid === '' || listid === '0') changes.listid = '0';
		else if ((typeof input.listid === 'string' || typeof input.listid === 'number') && context.listIds.has(listid)) {
			changes.listid = listid;
		} else errors.push(invalid('listid', `No list with id ${listid}`));
	} else if (mode === 'create') changes.listid = '0';

	return errors.length > 0 ? { ok: false, errors } : { ok: true, changes };
}

function unknownDetail(field: 'events' | 'sources', item: string): string {
	return field === 'events'
		? `"${item}" is not an event this account offers (GET /api/3/webhook/events)`
		: `"${item}" is not a source; use ${SOURCE_IDS.join(', ')}`;
}

/**
 * What ActiveCampaign accepts as a webhook URL: only https on the default port ("webhooks can only be sent on
 * port 443"), and only the characters RFC 1738 allows unencoded: letters, digits, `$-_.+!*'(),`, the reserved
 * `;/?:@=&`, and `%` and `#`. Notably `~`, spaces, `[]`, `{}`, `|`, `^` and non-ASCII are refused.
 * Returns undefined when the URL is acceptable.
 */
export function urlProblem(url: string): string | undefined {
	const refused = [...new Set(url.match(/[^A-Za-z0-9$\-_.+!*'(),;/?:@=&%#]/gu) ?? [])];
	if (refused.length > 0) {
		return `The url has characters that are not allowed: ${refused.map((character) => JSON.stringify(character)).join(', ')}`;
	}
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return 'The url is not a valid URL';
	}
	if (parsed.protocol !== 'https:') return 'The url must use https';
	// The URL parser drops the default port, so any port left is not 443.
	if (parsed.port !== '') return `Webhooks can only be sent on port 443 (the default https port), not ${parsed.port}`;
	return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
