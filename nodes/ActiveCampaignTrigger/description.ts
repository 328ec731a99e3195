import type { INodeProperties } from 'n8n-workflow';

import { EVENT_CATALOG, SOURCES } from './catalog';
import { MIN_PASTED_SECRET_LENGTH } from './settings';

export const OWN_CREDENTIAL = 'activeCampaignTriggerApi';
/** n8n's built-in ActiveCampaign credential: same fields and header, so users need not enter their key twice. */
export const BUILT_IN_CREDENTIAL = 'activeCampaignApi';

const LIST_SCOPED_EVENTS = EVENT_CATALOG.filter((event) => event.listScoped).map((event) => event.id);

const onlyFor = (...kinds: string[]) => ({ show: { webhookKind: kinds } });
const SUBSCRIPTIONS = onlyFor('subscriptions');
const PASTED = onlyFor('automation', 'custom');

export const properties: INodeProperties[] = [
	{
		displayName: 'Webhook Kind',
		name: 'webhookKind',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Automation Webhook Action (Paste URL)',
				value: 'automation',
				description: 'The URL is pasted into the "Webhook" action of an ActiveCampaign automation',
			},
			{
				name: 'Custom Object Webhook (Paste URL)',
				value: 'custom',
				description:
					'The URL is pasted into a custom-object webhook (Settings → Developer → Manage webhooks), e.g. e-commerce orders',
			},
			{
				name: 'Events (Registered Automatically)',
				value: 'subscriptions',
				description: 'The node registers and removes its webhooks through the ActiveCampaign API',
			},
		],
		default: 'subscriptions',
	},
	{
		displayName: 'Credential Type',
		name: 'authentication',
		type: 'options',
		options: [
			{
				name: 'ActiveCampaign Trigger API (This Package)',
				value: OWN_CREDENTIAL,
			},
			{
				name: 'ActiveCampaign API (Built-In Credential of N8n)',
				value: BUILT_IN_CREDENTIAL,
			},
		],
		default: OWN_CREDENTIAL,
		description: "Which kind of ActiveCampaign credential to use. n8n's built-in one works too.",
		displayOptions: SUBSCRIPTIONS,
	},
	{
		displayName: 'Event Names or IDs',
		name: 'events',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getEvents' },
		default: [],
		required: true,
		description:
			'The events to receive. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
		displayOptions: SUBSCRIPTIONS,
	},
	{
		displayName: 'Initiated By',
		name: 'sources',
		type: 'multiOptions',
		options: [...SOURCES]
			.sort((a, b) => a.label.localeCompare(b.label))
			.map((source) => ({ name: source.label, value: source.id })),
		default: ['public', 'admin', 'system', 'api'],
		description: 'Who or what must have caused an event for it to be received',
		displayOptions: SUBSCRIPTIONS,
	},
	{
		displayName: 'List Names or IDs',
		name: 'listIds',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getLists' },
		default: [],
		displayOptions: { show: { ...SUBSCRIPTIONS.show, events: LIST_SCOPED_EVENTS } },
		description:
			'Lists to receive contact and campaign events from; none means all lists. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
	{
		displayName:
			'Copy the Production URL above, add <code>?secret=</code> and the secret below, and paste it into ActiveCampaign. Deliveries without the secret are refused.',
		name: 'pasteNotice',
		type: 'notice',
		default: '',
		displayOptions: PASTED,
	},
	{
		displayName: 'Secret',
		name: 'secret',
		type: 'string',
		typeOptions: { password: true },
		default: '',
		required: true,
		description: `A random text of at least ${MIN_PASTED_SECRET_LENGTH} letters, digits, "-" or "_"; the URL pasted into ActiveCampaign ends with ?secret= and this text`,
		displayOptions: PASTED,
	},
	{
		displayName: 'Event Names',
		name: 'customEvents',
		type: 'string',
		default: '',
		placeholder: 'order_created, order_updated',
		description: 'Comma-separated event names to emit; empty emits every event',
		displayOptions: onlyFor('custom'),
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Deduplicate',
				name: 'deduplicate',
				type: 'boolean',
				default: true,
				description:
					'Whether to drop repeated deliveries of the same event. ActiveCampaign delivers at least once, so an event can arrive twice.',
			},
			{
				displayName: 'Deduplication Window (Minutes)',
				name: 'dedupWindowMinutes',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 60,
				description: 'How long a delivered event is remembered to recognise its duplicates',
			},
			{
				displayName: 'Include Raw Payload',
				name: 'includeRaw',
				type: 'boolean',
				default: false,
				description: 'Whether to add the parsed payload, untouched, as "raw" to each item',
			},
		],
	},
];
