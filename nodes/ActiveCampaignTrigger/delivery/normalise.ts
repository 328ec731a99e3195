import { z } from 'zod';

import { deliveryBodySchema, describeValue, readDateTime } from './schemas';

/**
 * Turns one parsed delivery body into the n8n item the trigger emits: validated against the schemas,
 * envelope mapped to camelCase fields, blocks normalised (tags, custom fields and updated_fields, by the
 * schemas' `normalised` parts), every other key kept under ActiveCampaign's own name.
 */

type KnownBody = z.objectOutputType<typeof deliveryBodySchema.shape, z.ZodTypeAny, 'strip'>;

export type DeliveryItem = {
	/** `type`; for deliveries without one, see {@link detectEvent}. */
	event: string;
	/**
	 * `date_time` as an instant in UTC with milliseconds; null when absent, without a UTC offset, or outside
	 * the years 0000-9999.
	 */
	occurredAt: string | null;
	initiatedFrom: string | null;
	initiatedBy: string | null;
	/** The scalar envelope `list`; `"0"` (no list) is null. */
	listId: string | null;
	/** Only when `list` is not a list id: the list_add object or `list[][id]` references. */
	list?: Exclude<KnownBody['list'], string>;
	/** The nested parse, untouched; only with `includeRaw`. */
	raw?: Record<string, unknown>;
	/** Body keys named like one of the fields above (never in ActiveCampaign's standard events), as sent. */
	bodyFields?: Record<string, unknown>;
} & Omit<KnownBody, 'type' | 'initiated_from' | 'initiated_by' | 'list'> & { [key: string]: unknown };

export type ToItemResult = { ok: true; item: DeliveryItem } | { ok: false; reason: string };

/** Keys a custom-object payload may use to name its event, in order of preference. */
const EVENT_NAME_KEYS = ['event', 'webhook_event', 'topic'] as const;

/**
 * The item's own fields. A body key with one of these names (ActiveCampaign sends none of them; a custom
 * payload might: an `event` object beside `type`) cannot also sit at the top of the item: it is kept, as
 * sent, under `bodyFields`.
 */
const ITEM_FIELDS = new Set(['event', 'occurredAt', 'initiatedFrom', 'initiatedBy', 'listId', 'raw', 'bodyFields']);

/**
 * Names the event of a delivery:
 * - standard events carry `type`;
 * - a payload without `type` that names its own event in `event`, `webhook_event` or `topic` (custom-object
 *   webhooks: their identifiers are undocumented) gets that name;
 * - the automation "Webhook" action posts a contact block and `seriesid` but no envelope at all (§3): it is
 *   `"automation"` when it has a contact block or `seriesid` and none of `date_time`, `initiated_from`,
 *   `initiated_by`, `list`;
 * - anything else is `"custom"`.
 * Returns the event and the body key it was read from (consumed, so not repeated in the item).
 */
function detectEvent(body: KnownBody & Record<string, unknown>): { event: string; from?: string } {
	if (typeof body.type === 'string' && body.type !== '') return { event: body.type, from: 'type' };
	for (const key of EVENT_NAME_KEYS) {
		const name = body[key];
		if (typeof name === 'string' && name !== '') return { event: name, from: key };
	}
	const hasEnvelope =
		body.date_time !== undefined ||
		body.initiated_from !== undefined ||
		body.initiated_by !== undefined ||
		body.list !== undefined;
	if (!hasEnvelope && (body.contact !== undefined || body.seriesid !== undefined)) return { event: 'automation' };
	return { event: 'custom' };
}

const errorMap: z.ZodErrorMap = (issue, ctx) => {
	if (issue.code === z.ZodIssueCode.invalid_type) {
		const expected = issue.expected === 'object' ? 'an object' : issue.expected === 'array' ? 'a list' : issue.expected;
		return { message: `expected ${expected}, got ${describeValue(ctx.data)}` };
	}
	if (issue.code === z.ZodIssueCode.invalid_union) {
		return { message: `has an unexpected shape (${describeValue(ctx.data)})` };
	}
	return { message: ctx.defaultError };
};

/** `contact.fields.39` is shown as ActiveCampaign writes it: `contact[fields][39]`. */
function formatPath(path: ReadonlyArray<string | number>): string {
	if (path.length === 0) return 'body';
	return path.map((segment, index) => (index === 0 ? String(segment) : `[${segment}]`)).join('');
}

/**
 * A union reports only "unexpected shape" at its own path; the problem one of its options found deeper
 * down (`contact[fields][39]` rather than `contact[fields]`) says more.
 */
function mostSpecific(issue: z.ZodIssue): z.ZodIssue {
	if (issue.code !== z.ZodIssueCode.invalid_union) return issue;
	let best: z.ZodIssue = issue;
	for (const optionError of issue.unionErrors) {
		for (const inner of optionError.issues) {
			const candidate = mostSpecific(inner);
			if (candidate.path.length > best.path.length) best = candidate;
		}
	}
	return best;
}

function describeFailure(error: z.ZodError): string {
	const first = mostSpecific(error.issues[0]);
	const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problems)` : '';
	return `${formatPath(first.path)}: ${first.message}${more}`;
}

/**
 * Validates and normalises one parsed delivery body (see {@link DeliveryItem} for the output contract).
 *
 * `date_time` without a UTC offset (`2024-02-28 04:45:41`) is account-local time in an unknown zone:
 * claiming an instant would be hours off, so `occurredAt` is null and `date_time` is kept in the item
 * as delivered. With an offset it is consumed into `occurredAt`, like the other envelope keys, unless
 * that instant falls outside the years 0000-9999 (then it is kept, as without an offset).
 */
export function toItem(body: Record<string, unknown>, options: { includeRaw: boolean; anyShape?: boolean }): ToItemResult {
	let data: KnownBody & Record<string, unknown>;
	if (options.anyShape) {
		data = normaliseWhatFits(body);
	} else {
		const parsed = deliveryBodySchema.safeParse(body, { errorMap });
		if (!parsed.success) return { ok: false, reason: describeFailure(parsed.error) };
		data = parsed.data;
	}

	const { event, from } = detectEvent(data);
	const dateTime = typeof data.date_time === 'string' && data.date_time !== '' ? data.date_time : undefined;
	const occurredAt = dateTime === undefined ? null : (readDateTime(dateTime)?.utc ?? null);
	const listIsId = typeof data.list === 'string';

	const item: Record<string, unknown> = {
		event,
		occurredAt,
		initiatedFrom: textOrNull(data.initiated_from),
		initiatedBy: textOrNull(data.initiated_by),
		listId: listIsId && data.list !== '0' && data.list !== '' ? data.list : null,
	};
	const bodyFields: Record<string, unknown> = {};
	for (const key of Object.keys(data)) {
		if (
			key === from ||
			(key === 'initiated_from' && typeof data.initiated_from === 'string') ||
			(key === 'initiated_by' && typeof data.initiated_by === 'string') ||
			(key === 'date_time' && typeof data.date_time === 'string' && (dateTime === undefined || occurredAt !== null)) ||
			(key === 'list' && listIsId)
		) {
			continue;
		}
		if (ITEM_FIELDS.has(key)) bodyFields[key] = data[key];
		else item[key] = data[key];
	}
	if (Object.keys(bodyFields).length > 0) item.bodyFields = bodyFields;
	if (options.includeRaw) item.raw = body;
	return { ok: true, item: item as DeliveryItem };
}

function textOrNull(value: unknown): string | null {
	return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Custom-object webhooks post whatever JSON or form their author designed: each key with a standard name is
 * normalised when its value has the standard shape, and kept exactly as sent when it does not. Nothing is
 * refused, since a parseable body is always a real event for this kind.
 */
function normaliseWhatFits(body: Record<string, unknown>): KnownBody & Record<string, unknown> {
	const shape = deliveryBodySchema.shape as Record<string, z.ZodTypeAny>;
	const data: Record<string, unknown> = {};
	for (const key of Object.keys(body)) {
		const schema = Object.hasOwn(shape, key) ? shape[key] : undefined;
		const result = schema?.safeParse(body[key]);
		data[key] = result?.success ? result.data : body[key];
	}
	return data as KnownBody & Record<string, unknown>;
}
