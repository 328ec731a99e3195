/**
 * The demo's traffic: a realistic run of ActiveCampaign deliveries made from the sample bodies (several kinds
 * and contacts, two retried deliveries, an event the node did not choose, a forged call), sent one at a time,
 * with what n8n made of each: an execution and the item it received, or why nothing ran.
 */
import path from 'node:path';

import { SECRET_PARAMETER } from '../nodes/ActiveCampaignTrigger/lifecycle/deliveryUrl';
import { DELIVERY_BODIES, DELIVERY_BODIES_FILE } from '../test/fixtures/deliveryBodies';
import { deliveryTarget } from '../test/simulator/delivery';
import type { ExecutionRecord } from '../test/e2e/harness';
import { DEMO_EVENTS, type Demo, type Say } from './demoSetup';
import { TRIGGER_NAME } from '../test/support/triggerNode';
import { REPO_ROOT } from '../test/e2e/harness';

/** Where the n8n column starts. */
const COLUMN = 76;

type Outcome = 'run' | 'duplicate' | 'not chosen' | 'refused';

export type Step =
	/** ActiveCampaign delivers `body` to the webhooks that take it. */
	| { action: 'deliver'; body: string; note?: string; expect: Outcome }
	/** Someone who found the URL posts `body` to it without the secret. */
	| { action: 'forge'; body: string; expect: 'refused' }
	/** An edit in ActiveCampaign's own UI: the node's webhook gets one more event, unknown to n8n. */
	| { action: 'addEventInActiveCampaign'; event: string };

export interface StreamSummary {
	deliveries: number;
	forged: number;
	executions: number;
	duplicates: number;
	notChosen: number;
	refused: number;
	/** Steps whose outcome was not the expected one; 0 when the node behaved as documented. */
	surprises: number;
}

const JANE = { id: '1234', email: 'jane.doe@example.com', first: 'Jane', last: 'Doe' };
const OMAR = { id: '1240', email: 'omar.haddad@example.com', first: 'Omar', last: 'Haddad' };
const DEAL_TITLE = 'Continental Hotels: annual plan';

/** The run of events, built from the sample bodies with today's time (deliveries arrive as they happen). */
export function demoSteps(now = new Date()): Step[] {
	const samples = new Map<string, string>();
	for (const { event, body } of DELIVERY_BODIES) {
		if (!samples.has(event)) samples.set(event, body);
	}
	const at = (offsetSeconds: number) =>
		`${new Date(now.getTime() + offsetSeconds * 1000).toISOString().slice(0, 19)}+00:00`;
	const sample = (event: string, offsetSeconds: number, fields: Record<string, string> = {}): string => {
		const body = samples.get(event);
		if (!body) throw new Error(`No sample body for "${event}" in ${path.relative(REPO_ROOT, DELIVERY_BODIES_FILE)}`);
		return withFields(body, { date_time: at(offsetSeconds), ...fields });
	};
	const as = (contact: typeof JANE) => ({
		'contact[id]': contact.id,
		'contact[email]': contact.email,
		'contact[first_name]': contact.first,
		'contact[last_name]': contact.last,
	});
	const deal = { 'deal[title]': DEAL_TITLE };

	const openedByJane = sample('open', 2, as(JANE));
	const dealUpdated = sample('deal_update', 9, deal);
	return [
		{ action: 'deliver', body: sample('subscribe', 0, as(JANE)), expect: 'run' },
		{ action: 'deliver', body: openedByJane, expect: 'run' },
		{ action: 'deliver', body: openedByJane, note: 'retried', expect: 'duplicate' },
		{ action: 'deliver', body: sample('click', 3, as(JANE)), expect: 'run' },
		{ action: 'deliver', body: sample('contact_tag_added', 4, as(JANE)), expect: 'run' },
		{ action: 'deliver', body: sample('subscribe', 5, as(OMAR)), expect: 'run' },
		{ action: 'deliver', body: sample('update', 6, as(OMAR)), expect: 'run' },
		{ action: 'deliver', body: sample('deal_add', 7, deal), expect: 'run' },
		{ action: 'forge', body: sample('deal_add', 8, { ...deal, 'deal[value]': '999,999.00' }), expect: 'refused' },
		{ action: 'deliver', body: dealUpdated, expect: 'run' },
		{ action: 'deliver', body: dealUpdated, note: 'retried', expect: 'duplicate' },
		{ action: 'addEventInActiveCampaign', event: 'unsubscribe' },
		{ action: 'deliver', body: sample('unsubscribe', 11, as(JANE)), expect: 'not chosen' },
		{ action: 'deliver', body: sample('click', 12, as(OMAR)), expect: 'run' },
	];
}

export interface StreamOptions {
	paceMs: number;
	say: Say;
	/** Ends the stream before the next step. */
	signal?: AbortSignal;
}

/** Sends the steps `paceMs` apart and prints one line per step. */
export async function streamEvents(demo: Demo, steps: Step[], { paceMs, say, signal }: StreamOptions): Promise<StreamSummary> {
	const summary: StreamSummary = { deliveries: 0, forged: 0, executions: 0, duplicates: 0, notChosen: 0, refused: 0, surprises: 0 };
	const seen = new Set((await demo.n8n.executions(demo.workflowId, TRIGGER_NAME)).map((execution) => execution.id));
	say(`${'          ActiveCampaign sends'.padEnd(COLUMN)}   n8n`);
	for (const step of steps) {
		if (signal?.aborted) return summary;
		if (step.action === 'addEventInActiveCampaign') {
			for (const webhook of demo.simulator.webhooks()) {
				demo.simulator.editWebhook(webhook.id, { events: [...webhook.events, step.event] });
			}
			say(`${clock()}  (someone adds "${step.event}" to the webhook in ActiveCampaign's own UI; n8n is not told)`);
			continue;
		}
		const sent = describeBody(step.body);
		const answer = step.action === 'forge' ? await forge(demo, step.body) : await deliver(demo, step.body);
		let outcome: Outcome | 'error' = answer.outcome;
		let result = answer.text;
		if (step.action === 'deliver') summary.deliveries += 1;
		if (step.action === 'forge') summary.forged += 1;
		if (outcome === 'run') {
			const execution = await newExecution(demo, seen);
			if (execution) {
				summary.executions += 1;
				result = `execution ${execution.id}: ${describeItems(execution)}`;
			} else {
				outcome = 'error';
				result = 'answered 200 but no execution appeared within 30 s';
			}
		}
		if (outcome === 'duplicate') summary.duplicates += 1;
		if (outcome === 'not chosen') summary.notChosen += 1;
		if (outcome === 'refused') summary.refused += 1;
		const surprise = outcome !== step.expect;
		if (surprise) summary.surprises += 1;
		const tag = step.action === 'forge' ? ' (forged, no secret)' : step.note ? ` (${step.note})` : '';
		const left = `${clock()}  ${sent.event.padEnd(18)} ${sent.subject}${tag}`;
		say(`${left.padEnd(COLUMN)} → ${result}${surprise ? `   <-- expected: ${step.expect}` : ''}`);
		await sleep(paceMs);
	}
	// Anything the duplicates or the forged call started would show up here.
	await sleep(1000);
	const extra = (await demo.n8n.executions(demo.workflowId, TRIGGER_NAME)).filter((execution) => !seen.has(execution.id));
	if (extra.length > 0) {
		summary.surprises += extra.length;
		say(`Unexpected executions: ${extra.map((execution) => execution.id).join(', ')}`);
	}
	say(
		`${count(summary.deliveries, 'delivery', 'deliveries')} and ${count(summary.forged, 'forged call')}: ` +
			`${count(summary.executions, 'execution')}; dropped ${count(summary.duplicates, 'duplicate')} and ` +
			`${count(summary.notChosen, 'event')} not among the ${DEMO_EVENTS.length} chosen; ` +
			`refused ${count(summary.refused, 'call')} without the secret (HTTP 401).`,
	);
	return summary;
}

interface Answer {
	outcome: Outcome | 'error';
	text: string;
}

async function deliver(demo: Demo, body: string): Promise<Answer> {
	const results = await demo.simulator.deliver(body);
	if (results.length !== 1) return { outcome: 'error', text: `delivered to ${results.length} webhooks, expected 1` };
	const [{ status, body: text }] = results;
	if (status === 401) return { outcome: 'refused', text: 'refused: HTTP 401, no execution' };
	if (status !== 200) return { outcome: 'error', text: `HTTP ${status}: ${text}` };
	const reason = droppedReason(text);
	if (reason === undefined) return { outcome: 'run', text: '' };
	if (reason === 'duplicate') return { outcome: 'duplicate', text: 'dropped: duplicate (HTTP 200, no execution)' };
	return { outcome: 'not chosen', text: `dropped: ${reason} (HTTP 200, no execution)` };
}

/** POSTs to the registered URL without its secret, as anyone who learned the URL could. */
async function forge(demo: Demo, body: string): Promise<Answer> {
	const [webhook] = demo.simulator.webhooks();
	const url = new URL(deliveryTarget(webhook.url, `http://127.0.0.1:${new URL(demo.n8n.baseUrl).port}`));
	url.searchParams.delete(SECRET_PARAMETER);
	const { status, body: text } = await demo.simulator.postTo(url.toString(), body);
	if (status === 401) return { outcome: 'refused', text: 'refused: HTTP 401, no execution' };
	return { outcome: status === 200 ? 'run' : 'error', text: `HTTP ${status}: ${text}` };
}

/** The node answers `{ emitted: false, reason }` for what it drops; anything else started the workflow. */
function droppedReason(answer: string): string | undefined {
	try {
		const parsed = JSON.parse(answer) as { emitted?: boolean; reason?: string };
		return parsed.emitted === false ? (parsed.reason ?? 'no reason given') : undefined;
	} catch {
		return undefined;
	}
}

async function newExecution(demo: Demo, seen: Set<string>): Promise<ExecutionRecord | undefined> {
	try {
		const executions = await demo.n8n.waitForExecutions(demo.workflowId, TRIGGER_NAME, seen.size + 1);
		const fresh = executions.find((execution) => !seen.has(execution.id));
		if (fresh) seen.add(fresh.id);
		return fresh;
	} catch {
		return undefined;
	}
}

/** The event and who it is about, as sent: a deal's title, else the contact's email. */
function describeBody(body: string): { event: string; subject: string } {
	const form = new URLSearchParams(body);
	const dealTitle = form.get('deal[title]');
	return { event: form.get('type') ?? '(no type)', subject: dealTitle ? `deal "${dealTitle}"` : (form.get('contact[email]') ?? '') };
}

function describeItems(execution: ExecutionRecord): string {
	return execution.items
		.map((item) => {
			const { event, contact, deal } = item as { event?: string; contact?: { email?: string }; deal?: { title?: string } };
			return `${event}, ${deal?.title ? `deal "${deal.title}"` : (contact?.email ?? '')}`;
		})
		.join('; ');
}

/**
 * Replaces the values of the given keys in a form-encoded body, encoded as ActiveCampaign encodes them
 * (brackets percent-encoded, `+` for spaces). A key the body lacks is an error: the samples changed.
 */
function withFields(body: string, fields: Record<string, string>): string {
	let result = body;
	for (const [key, value] of Object.entries(fields)) {
		const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');
		const pattern = new RegExp(`(^|&)${encode(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}=[^&]*`);
		if (!pattern.test(result)) throw new Error(`The sample body has no "${key}": ${body.slice(0, 80)}…`);
		result = result.replace(pattern, `$1${encode(key)}=${encode(value)}`);
	}
	return result;
}

function count(n: number, one: string, many = `${one}s`): string {
	return `${n} ${n === 1 ? one : many}`;
}

function clock(): string {
	return new Date().toTimeString().slice(0, 8);
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
