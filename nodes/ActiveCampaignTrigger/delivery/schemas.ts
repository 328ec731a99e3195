import { z } from 'zod';

/**
 * The shape of an ActiveCampaign delivery, one schema per block, from docs/activecampaign-events.md
 * (§ numbers below point there). These schemas are the documentation of a payload: the TypeScript types are
 * inferred from them.
 *
 * - Every field is optional: which keys arrive depends on the event, the account and what has a value.
 * - Unknown fields pass through untouched (like zod's `.passthrough()`), so a field ActiveCampaign adds
 *   tomorrow still reaches the workflow.
 * - Where sources disagree, both forms validate (`account[name]` / `account[account_name]`,
 *   `task[duedate]` / `task[dueDate]`, `customer_acct_id` / `customer_account_id`, ...). Names are kept as
 *   delivered; nothing is renamed.
 * - The few `normalised(...)` schemas are the normalisations the output contract asks for (tags, custom
 *   fields, updated_fields), so the inferred output types are the normalised shapes.
 */

export function describeValue(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'a list';
	if (typeof value === 'object') return 'an object';
	if (typeof value === 'string') return 'text';
	return `a ${typeof value}`;
}

// zod's own `.transform()` and `.refine()` cost 3-5 µs per field on a CI-sized machine (each call builds a
// context with a getter and a bound function), and `z.union` builds a context per option tried, against
// ~0.1 µs for `z.string()`. A delivery has dozens of fields and this runs on every delivery, so the three
// building blocks below (text, text-or-something-else, normalised) do those jobs as small zod types.

/** Form bodies only ever carry strings; JSON may carry numbers, booleans and null. Anything else is not text. */
function asText(value: unknown): string | undefined {
	if (typeof value === 'string') return value;
	if (typeof value === 'number' || typeof value === 'boolean') return String(value);
	if (value === null) return '';
	return undefined;
}

function addProblem(schema: z.ZodTypeAny, input: z.ParseInput, message: string): z.INVALID {
	z.addIssueToContext(schema._getOrReturnCtx(input), { code: z.ZodIssueCode.custom, message });
	return z.INVALID;
}

interface TextDef extends z.ZodTypeDef {
	/** Returns a problem ("is not a date") or undefined when the text is acceptable. */
	check?: (value: string) => string | undefined;
}

/**
 * A text value. Numbers and booleans (JSON) are kept as their text; null (JSON) is read as "", which is how
 * the form encoding says "no value".
 */
class TextSchema extends z.ZodType<string, TextDef, unknown> {
	_parse(input: z.ParseInput): z.ParseReturnType<string> {
		const value = asText(input.data);
		if (value === undefined) return addProblem(this, input, `expected text, got ${describeValue(input.data)}`);
		const problem = this._def.check?.(value);
		return problem === undefined ? z.OK(value) : addProblem(this, input, problem);
	}
}

interface TextOrDef<TextOutput, Otherwise extends z.ZodTypeAny> extends z.ZodTypeDef {
	onText: (value: string) => TextOutput;
	otherwise: Otherwise;
}

/** Text (read as by {@link TextSchema}, then `onText`), or else whatever `otherwise` accepts. */
class TextOrSchema<TextOutput, Otherwise extends z.ZodTypeAny> extends z.ZodType<
	TextOutput | z.output<Otherwise>,
	TextOrDef<TextOutput, Otherwise>,
	unknown
> {
	_parse(input: z.ParseInput): z.ParseReturnType<TextOutput | z.output<Otherwise>> {
		const value = asText(input.data);
		return value === undefined ? this._def.otherwise._parse(input) : z.OK(this._def.onText(value));
	}
}

function textOr<TextOutput, Otherwise extends z.ZodTypeAny>(
	onText: (value: string) => TextOutput,
	otherwise: Otherwise,
): TextOrSchema<TextOutput, Otherwise> {
	return new TextOrSchema({ onText, otherwise });
}

const asIs = (value: string): string => value;

interface NormalisedDef<Inner extends z.ZodTypeAny, Output> extends z.ZodTypeDef {
	inner: Inner;
	normalise: (value: z.output<Inner>) => Output;
}

/** `inner`, then a pure function of its valid output: what `.transform()` does, without its per-call cost. */
class NormalisedSchema<Inner extends z.ZodTypeAny, Output> extends z.ZodType<
	Output,
	NormalisedDef<Inner, Output>,
	z.input<Inner>
> {
	_parse(input: z.ParseInput): z.ParseReturnType<Output> {
		const { inner, normalise } = this._def;
		const result = inner._parse(input);
		if (z.isAsync(result)) {
			return result.then((settled) => (z.isValid(settled) ? z.OK(normalise(settled.value)) : z.INVALID));
		}
		return z.isValid(result) ? z.OK(normalise(result.value)) : z.INVALID;
	}
}

function normalised<Inner extends z.ZodTypeAny, Output>(
	inner: Inner,
	normalise: (value: z.output<Inner>) => Output,
): NormalisedSchema<Inner, Output> {
	return new NormalisedSchema({ inner, normalise });
}

export const text = new TextSchema({});

const optionalText = text.optional();

function textFields<Name extends string>(...names: Name[]): { [Key in Name]: typeof optionalText } {
	const shape = {} as { [Key in Name]: typeof optionalText };
	for (const name of names) shape[name] = optionalText;
	return shape;
}

/** A block's fields: each optional, since which keys arrive depends on the event and the account. */
type BlockShape = Record<string, z.ZodOptional<z.ZodTypeAny>>;

interface BlockDef<Shape extends BlockShape> extends z.ZodTypeDef {
	shape: Shape;
}

/** The input of one field of a block; its path is built only when a problem is reported (as zod does). */
class FieldInput implements z.ParseInput {
	private builtPath: (string | number)[] | undefined;

	constructor(
		readonly parent: z.ParseContext,
		readonly data: unknown,
		private readonly key: string,
	) {}

	get path(): (string | number)[] {
		return (this.builtPath ??= [...this.parent.path, this.key]);
	}
}

const hasOwn = (record: object, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

/**
 * `z.object(shape).passthrough()` for a shape of optional fields, walking the keys the delivery has instead
 * of every key the shape knows. The delivery schema knows ~40 keys at its top level and a delivery carries
 * about ten, and zod's object visits, wraps and merges every absent one too: this halves validation's cost.
 * Fields in the shape are parsed by their schemas (all of their problems reported, like zod's object), any
 * other key passes through untouched, and the output keeps the delivery's order of keys (and so do the problems
 * reported). Synchronous only, like every schema here.
 */
class BlockSchema<Shape extends BlockShape> extends z.ZodType<
	z.objectOutputType<Shape, z.ZodTypeAny, 'passthrough'>,
	BlockDef<Shape>,
	z.objectInputType<Shape, z.ZodTypeAny, 'passthrough'>
> {
	get shape(): Shape {
		return this._def.shape;
	}

	_parse(input: z.ParseInput): z.ParseReturnType<z.objectOutputType<Shape, z.ZodTypeAny, 'passthrough'>> {
		const data = input.data as Record<string, unknown>;
		if (z.getParsedType(data) !== z.ZodParsedType.object) {
			const ctx = this._getOrReturnCtx(input);
			z.addIssueToContext(ctx, { code: z.ZodIssueCode.invalid_type, expected: z.ZodParsedType.object, received: ctx.parsedType });
			return z.INVALID;
		}
		const { status, ctx } = this._processInputParams(input);
		const shape = this._def.shape;
		const output: Record<string, unknown> = {};
		for (const key in data) {
			const value = data[key];
			const schema = hasOwn(shape, key) ? shape[key] : undefined;
			if (schema === undefined) {
				// Like zod's object: a `__proto__` key (refused by the parser anyway) is never assigned.
				if (key !== '__proto__') output[key] = value;
				continue;
			}
			const result = schema._parse(new FieldInput(ctx, value, key));
			if (z.isAsync(result)) throw new Error('Block fields are validated synchronously');
			if (result.status === 'aborted') {
				status.abort();
				continue;
			}
			if (result.status === 'dirty') status.dirty();
			if (result.value !== undefined || value !== undefined) output[key] = result.value;
		}
		return status.value === 'aborted' ? z.INVALID : { status: status.value, value: output as z.objectOutputType<Shape, z.ZodTypeAny, 'passthrough'> };
	}
}

function block<Shape extends BlockShape>(shape: Shape): BlockSchema<Shape> {
	return new BlockSchema({ shape });
}

/** A block of text fields only; like every block, it passes unknown fields through. */
function textBlock<Name extends string>(...names: Name[]) {
	return block(textFields(...names));
}

const INDEX_KEY = /^(?:0|[1-9]\d{0,8})$/;

/**
 * A list: a JSON array, or the object a form body gives for `key[0]=a&key[1]=b` (the parser keeps numeric
 * keys as object keys so that contact field ids survive). Its values are taken in index order.
 */
function listOf<Item extends z.ZodTypeAny>(item: Item) {
	return z.union([
		normalised(z.record(z.string().regex(INDEX_KEY, 'is not a list index'), item), (indexed) => Object.values(indexed)),
		z.array(item),
	]);
}

/**
 * Multi-select and checkbox values arrive as one string wrapped in `||`: `||Option 1||Option 2||` (§1.2,
 * GO strips the same wrappers). A text field whose content really is wrapped in `||` is indistinguishable
 * and is split too.
 */
export function splitMultiValue(value: string): string | string[] {
	if (value.length < 2 || !value.startsWith('||') || !value.endsWith('||')) return value;
	const inner = value.slice(2, -2);
	return inner === '' ? [] : inner.split('||');
}

/** A custom field's value: text (split when multi-value) or a list (`[value][0]`, `[value][1]`, §1.5). */
export const fieldValueSchema = textOr(splitMultiValue, listOf(text));

/** `contact[tags]` is one string joined with ", " (§1.2); JSON may already carry a list. */
export const tagsSchema = textOr(
	(tags) =>
		tags
			.split(',')
			.map((tag) => tag.trim())
			.filter((tag) => tag !== ''),
	listOf(text),
);

/** A block that can be empty (`contact[fields]=`) when the form encoder had nothing to put in it. */
const emptyBlock = z.union([z.literal(''), z.null()]);

/**
 * `contact[fields][<key>]`: standard events key custom fields by numeric field id, automation webhooks by
 * lowercase personalisation tag (§1.2, §3). Kept as an object keyed that way. A JSON list (ids already lost
 * upstream, as in QC's parser) is keyed by position.
 */
export const contactFieldsSchema = normalised(
	z.union([z.record(fieldValueSchema), z.array(fieldValueSchema), emptyBlock]),
	(fields): Record<string, string | string[]> => {
		if (fields === '' || fields === null) return {};
		return Array.isArray(fields) ? Object.fromEntries(fields.map((value, index) => [String(index), value])) : fields;
	},
);

/** One positional deal/account custom field: `[n][id]`, `[n][key]` (the label), `[n][value]` (§1.3, §1.5). */
export const customFieldSchema = block({ id: optionalText, key: optionalText, value: fieldValueSchema.optional() });

type CustomFieldEntry = z.infer<typeof customFieldSchema> | z.infer<typeof fieldValueSchema>;

function toCustomField(entry: CustomFieldEntry, name: string | undefined) {
	if (typeof entry === 'string' || Array.isArray(entry)) {
		// Keyed form: MD says by field id, AAPI by field name; the key is whichever it is.
		const isId = name !== undefined && /^\d+$/.test(name);
		return { id: isId ? name : null, key: isId || name === undefined ? null : name, value: entry };
	}
	const { id = null, key = null, value = null, ...rest } = entry;
	return { id, key, value, ...rest };
}

/**
 * Deal and account custom fields, as a list in index order of `{ id, key, value }`. The AP capture sends
 * them positionally (`[0][id]`, `[0][key]`, `[0][value]`); AAPI says keyed by field name and MD by field id
 * (§4, item 4): those become entries with only `key` or only `id`. A missing part is null.
 */
const customFieldEntrySchema = z.union([customFieldSchema, fieldValueSchema]);

export const customFieldsSchema = normalised(
	// A form body's object first: the usual case, and the options are told apart by their type alone.
	z.union([z.record(customFieldEntrySchema), z.array(customFieldEntrySchema), emptyBlock]),
	(fields) => {
		if (fields === '' || fields === null) return [];
		if (Array.isArray(fields)) return fields.map((entry) => toCustomField(entry, undefined));
		return Object.keys(fields).map((name) => toCustomField(fields[name], name));
	},
);

const DATE_TIME =
	/^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?: ?(Z|[+-]\d{2}(?::?\d{2})?))?$/i;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Reads an ActiveCampaign date-time. `date_time` is ISO-8601 with the account's UTC offset
 * (`2024-02-28T04:45:41-06:00`); other AC timestamps are account-local with no offset
 * (`2024-02-28 04:36:09`). Returns undefined when `value` is not a date, `{ utc: null }` for a valid
 * date without an offset (the zone is unknown, so no instant can be claimed) or whose instant falls outside
 * the years 0000-9999, and otherwise the instant in UTC with milliseconds (`2024-02-28T10:45:41.000Z`).
 */
export function readDateTime(value: string): { utc: string | null } | undefined {
	// Validation and normalisation read the same `date_time` back to back: remember the last answer.
	if (value !== lastDateTime.value) lastDateTime = { value, result: parseDateTime(value) };
	return lastDateTime.result;
}

let lastDateTime: { value: string | undefined; result: ReturnType<typeof parseDateTime> } = {
	value: undefined,
	result: undefined,
};

function parseDateTime(value: string): { utc: string | null } | undefined {
	const match = DATE_TIME.exec(value);
	if (match === null) return undefined;
	const [year, month, day, hour, minute] = match.slice(1, 6).map(Number);
	const second = match[6] === undefined ? 0 : Number(match[6]);
	const leapDay = month === 2 && day === 29 && (year % 4 !== 0 || (year % 100 === 0 && year % 400 !== 0));
	if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1] || leapDay) return undefined;
	if (hour > 23 || minute > 59 || second > 59) return undefined;
	const zone = match[8];
	if (zone === undefined) return { utc: null };

	let offsetMinutes = 0;
	if (zone.toUpperCase() !== 'Z') {
		const digits = zone.slice(1).replace(':', '');
		const offsetHours = Number(digits.slice(0, 2));
		const offsetRest = digits.length > 2 ? Number(digits.slice(2)) : 0;
		if (offsetHours > 23 || offsetRest > 59) return undefined;
		offsetMinutes = (zone[0] === '-' ? -1 : 1) * (offsetHours * 60 + offsetRest);
	}
	const milliseconds = match[7] === undefined ? 0 : Number(match[7].slice(0, 3).padEnd(3, '0'));
	const local = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, milliseconds));
	// Date.UTC maps years 0-99 to 1900-1999; setting the year afterwards keeps the literal year.
	local.setUTCFullYear(year);
	const instant = new Date(local.getTime() - offsetMinutes * 60_000);
	// An offset can carry the first or last day of years 0000-9999 out of them (`9999-12-31T20:00:00-05:00`),
	// where ISO-8601 has no four-digit year: no instant is claimed then, as without an offset.
	const utcYear = instant.getUTCFullYear();
	return { utc: utcYear < 0 || utcYear > 9999 ? null : instant.toISOString() };
}

/** `date_time`: must be a date when present (§1.1). An empty value is read as "no date". */
export const dateTimeSchema = new TextSchema({
	check: (value) =>
		value === '' || readDateTime(value) !== undefined
			? undefined
			: `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}" is not a date`,
});

/** The event identifier. Present in standard events, absent in automation webhooks (§1.1, §3). */
export const eventTypeSchema = new TextSchema({ check: (value) => (value === '' ? 'is empty' : undefined) });

// ---- Blocks (§1.2-§1.5 and the per-event field lists in §2) ----

/** `contact[...]` (§1.2). Automation webhooks send `ip4` instead of `ip` (§3). */
export const contactSchema = block({
	...textFields(
		'id',
		'email',
		'first_name',
		'last_name',
		'phone',
		'ip',
		'ip4',
		'orgname',
		'customer_acct_name',
		'customer_acct_id',
	),
	tags: tagsSchema.optional(),
	fields: contactFieldsSchema.optional(),
});

/**
 * `deal[...]` (§1.3). `value` is formatted (`1,044,055.00`); `value_raw` is in major units (captures
 * disagree with one comment that says cents). `note`, `contact_avatar`, `age` and `customer_acct_*`
 * only came from AC's Test webhook button (HOP0).
 */
export const dealSchema = block({
	...textFields(
		'id',
		'title',
		'create_date',
		'create_date_iso',
		'orgid',
		'orgname',
		'stageid',
		'stage_title',
		'pipelineid',
		'pipeline_title',
		'value',
		'value_raw',
		'currency',
		'currency_symbol',
		'owner',
		'owner_firstname',
		'owner_lastname',
		'contactid',
		'contact_email',
		'contact_firstname',
		'contact_lastname',
		'status',
		'note',
		'contact_avatar',
		'age',
		'customer_acct_id',
		'customer_acct_name',
	),
	fields: customFieldsSchema.optional(),
});

/** `task[...]` (§1.4). Captures spell `duedate`; AAPI spells `dueDate`. */
export const taskSchema = textBlock(
	'id',
	'type_id',
	'title',
	'note',
	'duedate',
	'dueDate',
	'duedate_iso',
	'edate',
	'edate_iso',
	'type_title',
	'donedate',
	'donedate_iso',
);

/** `account[...]` (§1.5). AP and AAPI say `name`, HOP says `account_name`. */
export const accountSchema = block({
	...textFields('id', 'name', 'account_name', 'account_url', 'created_timestamp', 'updated_timestamp'),
	fields: customFieldsSchema.optional(),
});

export const campaignMessageSchema = textBlock('id', 'subject');

/** `campaign[...]` (sent, open, click, forward, share, bounce, reply, unsubscribe). */
export const campaignSchema = block({
	...textFields('id', 'name', 'type', 'status', 'recipients', 'webcopy_url'),
	message: campaignMessageSchema.optional(),
});

export const linkSchema = textBlock('id', 'url');

/** deal_note_add sends `note[id]`, `note[text]`; subscriber_note sends `note` as plain text. */
export const noteSchema = textBlock('id', 'text');

/** `sms[...]`: sms_sent, sms_reply (QC, from live traffic), sms_unsub. */
export const smsSchema = textBlock('id', 'recipient', 'successful', 'comment', 'reply', 'result', 'phone');

export const pipelineSchema = textBlock('id', 'title');

export const stageSchema = textBlock('id', 'title', 'color');

export const tasktypeSchema = textBlock('id', 'title');

/** The `list[...]` object of list_add (AAPI, HOP, YA). */
export const listSchema = textBlock(
	'id',
	'userid',
	'name',
	'sender_addr1',
	'sender_addr2',
	'sender_city',
	'sender_state',
	'sender_zip',
	'sender_country',
	'sender_url',
	'sender_reminder',
	'fulladdress',
);

/** One entry of `list[][id]` (MD: a public unsubscribe may carry it instead of a scalar `list`). */
export const listReferenceSchema = textBlock('id');

/**
 * The envelope `list`: a scalar list id (`"0"` when the event has no list), a list of references, or the
 * list_add object.
 */
export const listFieldSchema = textOr(asIs, z.union([listOf(listReferenceSchema), listSchema]));

export const shareSchema = textBlock('network', 'network_id', 'content');

export const forwardSchema = textBlock('count');

export const bounceSchema = textBlock('type', 'code', 'description');

export const unsubscribeSchema = textBlock('reason');

export const formSchema = textBlock('id');

/** account_contact_add/update (AAPI `accountContact[...]`; HOP's snake_case names are accepted too). */
export const accountContactSchema = textBlock('id', 'account', 'contact', 'job_title');

/**
 * `updated_fields[<n>]` = names of the changed attributes, positional (GP, AP); AAPI's "keyed by field id"
 * is contradicted by both captures. A lone scalar is read as a one-name list.
 */
export const updatedFieldsSchema = textOr((name) => (name === '' ? [] : [name]), listOf(text));

/** The envelope shared by all standard events (§1.1). */
export const envelopeShape = {
	type: eventTypeSchema.optional(),
	date_time: dateTimeSchema.optional(),
	initiated_from: optionalText,
	initiated_by: optionalText,
	list: listFieldSchema.optional(),
	...textFields('customer_acct_name', 'customer_acct_id', 'customer_account_id', 'orgname', 'account_id'),
};

export const envelopeSchema = block(envelopeShape);

/**
 * A whole delivery: the envelope, every known block, and the top-level scalars of particular events
 * (`tag` on contact_tag_*, `seriesid` on automation webhooks, `result`/`message` on reply, `url` listed by
 * HOP). The same schema serves standard events, automation webhooks and custom payloads: a block with a
 * standard name must have the standard shape.
 */
export const deliveryBodySchema = block({
	...envelopeShape,
	contact: contactSchema.optional(),
	deal: dealSchema.optional(),
	task: taskSchema.optional(),
	account: accountSchema.optional(),
	campaign: campaignSchema.optional(),
	link: linkSchema.optional(),
	note: textOr(asIs, noteSchema).optional(),
	sms: smsSchema.optional(),
	pipeline: pipelineSchema.optional(),
	stage: stageSchema.optional(),
	tasktype: tasktypeSchema.optional(),
	share: shareSchema.optional(),
	forward: forwardSchema.optional(),
	bounce: bounceSchema.optional(),
	unsubscribe: unsubscribeSchema.optional(),
	form: formSchema.optional(),
	accountContact: accountContactSchema.optional(),
	account_contact: accountContactSchema.optional(),
	updated_fields: updatedFieldsSchema.optional(),
	...textFields('tag', 'seriesid', 'result', 'message', 'url'),
});

export type Contact = z.infer<typeof contactSchema>;
export type Deal = z.infer<typeof dealSchema>;
export type Account = z.infer<typeof accountSchema>;
export type CustomField = z.infer<typeof customFieldsSchema>[number];
export type DeliveryBody = z.infer<typeof deliveryBodySchema>;
