/**
 * The node's parameters and static data, read once per call into plain values.
 */
import type { IDataObject, IHookFunctions, IWebhookFunctions } from 'n8n-workflow';

import { SOURCE_IDS } from './catalog';
import { DEFAULT_WINDOW_MS } from './dedup';

/**
 * - `subscriptions`: webhooks registered through the API on activation (standard events).
 * - `automation`: the URL is pasted into an automation's "Webhook" action; nothing to register.
 * - `custom`: the URL is pasted into a custom-object webhook (Settings → Developer → Manage webhooks).
 */
export type WebhookKind = 'subscriptions' | 'automation' | 'custom';

export interface ReceiveSettings {
	kind: WebhookKind;
	/** Events to emit; empty means any. */
	events: string[];
	sources: string[];
	listIds: string[];
	/** The secret users append to pasted URLs (automation and custom kinds). */
	secret: string;
	deduplicate: boolean;
	windowMs: number;
	includeRaw: boolean;
}

/** What the node keeps in its static data. Test-mode webhooks are kept apart from production ones. */
export interface NodeState {
	secret?: string;
	webhookIds?: { production?: string[]; test?: string[] };
	dedup?: IDataObject;
}

export function nodeState(staticData: IDataObject): NodeState {
	return staticData as NodeState;
}

export const MIN_PASTED_SECRET_LENGTH = 16;

interface ReceiveOptions {
	deduplicate?: boolean;
	dedupWindowMinutes?: number;
	includeRaw?: boolean;
}

export function readSettings(context: IWebhookFunctions | IHookFunctions): ReceiveSettings {
	const kind = context.getNodeParameter('webhookKind', 'subscriptions') as WebhookKind;
	const options = context.getNodeParameter('options', {}) as ReceiveOptions;
	const windowMinutes = options.dedupWindowMinutes ?? DEFAULT_WINDOW_MS / 60_000;
	const common = {
		kind,
		deduplicate: options.deduplicate ?? true,
		windowMs: Math.max(1, windowMinutes) * 60_000,
		includeRaw: options.includeRaw ?? false,
	};
	if (kind === 'subscriptions') {
		const events = context.getNodeParameter('events', []) as string[];
		return {
			...common,
			events,
			sources: context.getNodeParameter('sources', []) as string[],
			listIds: (context.getNodeParameter('listIds', []) as string[]).map(String),
			secret: '',
		};
	}
	const eventNames = kind === 'custom' ? String(context.getNodeParameter('customEvents', '')) : '';
	return {
		...common,
		events: eventNames
			.split(',')
			.map((name) => name.trim())
			.filter(Boolean),
		sources: [...SOURCE_IDS],
		listIds: [],
		secret: String(context.getNodeParameter('secret', '')),
	};
}
