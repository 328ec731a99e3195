/**
 * Workflows, bodies and small helpers for scenario.e2e.test.ts.
 */
import { randomUUID } from 'node:crypto';

import { readExpectedItem, type DeliveryBody } from '../fixtures/deliveryBodies';
import { TRIGGER_NAME, TRIGGER_TYPE, TRIGGER_VERSION } from '../support/triggerNode';
import { pollUntil, type WorkflowJson } from './harness';

const DOWNSTREAM_NAME = 'Downstream';

/** What the summary line of each major counts. */
export interface Tally {
	/** POSTs that reached n8n as ActiveCampaign would send them (forged calls not included). */
	sent: number;
	executions: number;
	duplicates: number;
	forgedRefused: number;
}

interface TriggerChoice {
	events: string[];
	listIds?: string[];
}

/** Our trigger node with a fixed webhookId, feeding a NoOp node. */
function ourTrigger(
	name: string,
	webhookId: string,
	extra: { parameters: Record<string, unknown>; credentials?: Record<string, unknown>; typeVersion?: number },
): WorkflowJson {
	return withDownstream(name, {
		// UUIDs as n8n makes them: PostgreSQL keeps node ids in 36-character columns (n8n 2.x, queue suite).
		id: randomUUID(),
		name: TRIGGER_NAME,
		type: TRIGGER_TYPE,
		typeVersion: TRIGGER_VERSION,
		position: [0, 0],
		webhookId,
		...extra,
	});
}

/** Our trigger registering webhooks through the credential. */
export function triggerWorkflow(name: string, webhookId: string, credentialId: string, choice: TriggerChoice): WorkflowJson {
	return ourTrigger(name, webhookId, {
		parameters: {
			webhookKind: 'subscriptions',
			authentication: 'activeCampaignTriggerApi',
			events: choice.events,
			sources: ['public', 'admin', 'system', 'api'],
			listIds: choice.listIds ?? [],
			options: {},
		},
		credentials: { activeCampaignTriggerApi: { id: credentialId, name: 'ActiveCampaign simulator' } },
	});
}

/**
 * Our trigger for a pasted URL (the automation "Webhook" action, or a custom-object webhook): nothing
 * registered, the URL pasted with `?<name>=<value>` of the Query Auth credential. No API credential.
 */
export function pastedWorkflow(
	name: string,
	webhookId: string,
	queryAuthCredentialId: string,
	kind: 'automation' | 'custom' = 'automation',
	{ typeVersion, ...extra }: { customEvents?: string; typeVersion?: number } = {},
): WorkflowJson {
	return ourTrigger(name, webhookId, {
		...(typeVersion === undefined ? {} : { typeVersion }),
		parameters: { webhookKind: kind, authentication: 'none', ...extra, options: {} },
		credentials: { httpQueryAuth: { id: queryAuthCredentialId, name: 'Pasted URL secret' } },
	});
}

/** A workflow of `trigger` feeding a NoOp node. */
export function withDownstream(name: string, trigger: Record<string, unknown>): WorkflowJson {
	return {
		name,
		nodes: [
			trigger,
			{ id: randomUUID(), name: DOWNSTREAM_NAME, type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [220, 0], parameters: {} },
		],
		connections: { [TRIGGER_NAME]: { main: [[{ node: DOWNSTREAM_NAME, type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
	};
}

/**
 * A new event made from a sample: the same body with another contact id, and the sample's expected item
 * with that id. Different bodies are different events to the node's dedup.
 */
export function withContactId(sample: DeliveryBody, contactId: string): { body: string; item: unknown } {
	const pattern = /contact%5Bid%5D=\d+/;
	if (!pattern.test(sample.body)) throw new Error(`The "${sample.event}" sample has no contact id to change`);
	const body = sample.body.replace(pattern, `contact%5Bid%5D=${contactId}`);
	const item = structuredClone(readExpectedItem(sample.fixture)) as { contact: { id: string } };
	item.contact.id = contactId;
	return { body, item };
}

/** JSON with object keys sorted at every depth, to compare items as values whatever their key order. */
export function canonicalJson(value: unknown): string {
	return JSON.stringify(value, (_key, inner: unknown) => {
		if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) return inner;
		const record = inner as Record<string, unknown>;
		return Object.fromEntries(Object.keys(record).sort().map((key) => [key, record[key]]));
	});
}

/** Polls `check` until it returns a value other than undefined; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
	let value: T | undefined;
	if (!(await pollUntil(timeoutMs, async () => (value = await check()) !== undefined))) {
		throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
	}
	return value as T;
}

/** The node answers a dropped duplicate with 200 and `{ received, emitted: false, reason: "duplicate" }`. */
export function isDuplicateAnswer(answer: { body: string }): boolean {
	try {
		return (JSON.parse(answer.body) as { reason?: unknown }).reason === 'duplicate';
	} catch {
		return false;
	}
}
