import { EVENT_IDS, SOURCE_IDS } from '../../nodes/ActiveCampaignTrigger/catalog';
import { DEFAULT_WINDOW_MS } from '../../nodes/ActiveCampaignTrigger/delivery/dedup';
import type { ReceiveSettings } from '../../nodes/ActiveCampaignTrigger/settings';

/** A subscriptions node that chose every event, source and list, with the default options (static-data store). */
export const EVERY_EVENT_SETTINGS: Readonly<ReceiveSettings> = {
	kind: 'subscriptions',
	store: 'staticData',
	events: [...EVENT_IDS],
	sources: [...SOURCE_IDS],
	listIds: [],
	deduplicate: true,
	windowMs: DEFAULT_WINDOW_MS,
	includeRaw: false,
	fieldKeys: 'id',
};
