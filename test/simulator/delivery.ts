/**
 * Which webhooks ActiveCampaign POSTs an event to, and where. Pure; the simulator sends.
 */
import { stringify } from 'qs';

import { isListScoped } from '../../nodes/ActiveCampaignTrigger/catalog';
import type { SimulatedWebhook } from './account';

/** The envelope fields that decide delivery; null when the body lacks them. */
export interface DeliveryEnvelope {
	type: string | null;
	initiatedFrom: string | null;
	list: string | null;
}

/**
 * A body as ActiveCampaign sends it: form-encoded with PHP-style bracket keys and `+` for spaces. Objects are
 * encoded with qs, which gives exactly that (`contact%5Bemail%5D=a%40b.c`).
 */
export function encodeDeliveryBody(body: string | Record<string, unknown>): string {
	return typeof body === 'string' ? body : stringify(body, { format: 'RFC1738' });
}

export function readEnvelope(body: string): DeliveryEnvelope {
	const form = new URLSearchParams(body);
	return { type: form.get('type'), initiatedFrom: form.get('initiated_from'), list: form.get('list') };
}

/**
 * A webhook gets an event when it lists the event and its source; its `listid` narrows only list-scoped
 * events, and "0" means all lists. ActiveCampaign matches `listid` against the lists the contact is on, which
 * the body does not always say: an `update` carries `list=0`, a public unsubscribe `list[][id]=…`. For those,
 * `memberOf` names the contact's lists; a body naming one list (`list=3`) is matched by that list.
 */
export function receivesEvent(webhook: SimulatedWebhook, envelope: DeliveryEnvelope, memberOf: readonly string[] = []): boolean {
	const { type, initiatedFrom, list } = envelope;
	if (type === null || initiatedFrom === null) return false;
	if (!webhook.events.includes(type) || !webhook.sources.includes(initiatedFrom)) return false;
	if (!isListScoped(type) || webhook.listid === '0') return true;
	const namesOneList = list !== null && list !== '0' && list !== '';
	return namesOneList ? webhook.listid === list : memberOf.includes(webhook.listid);
}

/**
 * The registered URL with its origin replaced by `deliveryOrigin` (when given): ActiveCampaign only accepts
 * https on port 443, while the receiving n8n listens on plain http on another port.
 */
export function deliveryTarget(url: string, deliveryOrigin?: string): string {
	if (!deliveryOrigin) return url;
	const registered = new URL(url);
	return `${new URL(deliveryOrigin).origin}${registered.pathname}${registered.search}`;
}
