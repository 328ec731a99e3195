/**
 * The one catalog of ActiveCampaign's standard webhook events. The node's options, the filters, the
 * schemas, the simulator and the README table all read it: adding an event is one line here.
 *
 * Source: docs/activecampaign-events.md. "List-scoped" follows ActiveCampaign's own `listid`
 * text, which names the events on which a list filter "has no effect"; the others honour it.
 */

export type EventObject = 'Contact' | 'List' | 'Campaign' | 'Deal' | 'Account' | 'SMS';

export interface CatalogEvent {
	/** ActiveCampaign's identifier, sent as `type` and used when registering a webhook. */
	id: string;
	/** Plain-words label, in the sentence style of ActiveCampaign's own webhook page. */
	label: string;
	object: EventObject;
	/** Whether a webhook's `listid` narrows this event to one list. */
	listScoped: boolean;
}

const event = (id: string, object: EventObject, label: string, listScoped = false): CatalogEvent => ({
	id,
	label,
	object,
	listScoped,
});

export const EVENT_CATALOG: readonly CatalogEvent[] = [
	event('subscribe', 'Contact', 'A contact is added (subscribes)', true),
	event('unsubscribe', 'Contact', 'A contact unsubscribes', true),
	event('update', 'Contact', 'A contact is updated', true),
	event('subscriber_note', 'Contact', 'A note is added to a contact'),
	event('contact_tag_added', 'Contact', 'A tag is added to a contact'),
	event('contact_tag_removed', 'Contact', 'A tag is removed from a contact'),
	event('contact_task_add', 'Contact', 'A task is added to a contact'),
	event('list_add', 'List', 'A list is added'),
	event('sent', 'Campaign', 'A campaign starts sending', true),
	event('open', 'Campaign', 'A campaign is opened', true),
	event('click', 'Campaign', 'A link in a campaign is clicked', true),
	event('forward', 'Campaign', 'A campaign is forwarded', true),
	event('share', 'Campaign', 'A campaign is shared', true),
	event('bounce', 'Campaign', 'A campaign email bounces', true),
	event('reply', 'Campaign', 'A contact replies to a campaign', true),
	event('deal_add', 'Deal', 'A deal is added'),
	event('deal_update', 'Deal', 'A deal is updated'),
	event('deal_note_add', 'Deal', 'A note is added to a deal'),
	event('deal_pipeline_add', 'Deal', 'A pipeline is added'),
	event('deal_stage_add', 'Deal', 'A deal stage is added'),
	event('deal_task_add', 'Deal', 'A task is added to a deal'),
	event('deal_task_complete', 'Deal', 'A deal task is completed'),
	event('deal_tasktype_add', 'Deal', 'A task type is added'),
	event('account_add', 'Account', 'An account is added'),
	event('account_update', 'Account', 'An account is updated'),
	event('account_contact_add', 'Account', 'A contact is added to an account'),
	event('account_contact_update', 'Account', 'An account contact is updated'),
	event('sms_sent', 'SMS', 'An SMS is sent'),
	event('sms_reply', 'SMS', 'An SMS reply is received'),
	event('sms_unsub', 'SMS', 'A contact unsubscribes by SMS'),
];

const byId = new Map(EVENT_CATALOG.map((entry) => [entry.id, entry]));

/** Events not in the catalog (new ones the account reports) are taken as not list-scoped. */
export function isListScoped(id: string): boolean {
	return byId.get(id)?.listScoped ?? false;
}

export const EVENT_IDS: readonly string[] = EVENT_CATALOG.map((entry) => entry.id);

/** Where a delivery came from: ActiveCampaign calls these "sources" or "initiated_from". */
export const SOURCES = [
	{ id: 'public', label: 'By a Contact' },
	{ id: 'admin', label: 'By Any User (Admin)' },
	{ id: 'system', label: 'By System Processes' },
	{ id: 'api', label: 'By the API' },
] as const;

export const SOURCE_IDS: readonly string[] = SOURCES.map((source) => source.id);
