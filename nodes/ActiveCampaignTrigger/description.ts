import type { INodeProperties } from 'n8n-workflow';

import { EVENT_CATALOG, SOURCES } from './catalog';
import { MAX_WINDOW_MINUTES } from './delivery/dedup';

export const OWN_CREDENTIAL = 'activeCampaignTriggerApi';
/** n8n's built-in ActiveCampaign credential: same fields and header, so users need not enter their key twice. */
export const BUILT_IN_CREDENTIAL = 'activeCampaignApi';
/** A pasted kind needs no API access, unless it must remove webhooks it registered before its kind changed. */
export const NO_API_CREDENTIAL = 'none';

const API_CREDENTIAL_OPTIONS = [
	{ name: 'ActiveCampaign Trigger API (This Package)', value: OWN_CREDENTIAL },
	{ name: 'ActiveCampaign API (Built-In Credential of N8n)', value: BUILT_IN_CREDENTIAL },
];

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
		options: API_CREDENTIAL_OPTIONS,
		default: OWN_CREDENTIAL,
		description: "Which kind of ActiveCampaign credential to use. n8n's built-in one works too.",
		displayOptions: SUBSCRIPTIONS,
	},
	// The same parameter for the pasted kinds, with the same default. n8n saves only values that differ from
	// the default, so the credential chosen while the node registered events stays chosen when Webhook Kind
	// changes, and the node can remove those webhooks. "None" is for nodes that never registered any.
	{
		displayName: 'Credential Type',
		name: 'authentication',
		type: 'options',
		options: [...API_CREDENTIAL_OPTIONS, { name: 'None', value: NO_API_CREDENTIAL }],
		default: OWN_CREDENTIAL,
		description:
			'Needed here only to remove webhooks this node registered while its Webhook Kind was "Events". Choose None if it never did.',
		displayOptions: PASTED,
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
			'Paste <code>&lt;Production URL&gt;?&lt;name&gt;=&lt;value&gt;</code> into ActiveCampaign: the Production URL above, then the parameter name and value of the Query Auth credential (e.g. <code>?secret=…</code>, at least 16 characters, URL-encoded). Deliveries without it are refused.',
		name: 'pasteNotice',
		type: 'notice',
		default: '',
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
		displayName: 'Dedup Store',
		name: 'dedupStore',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Workflow Static Data',
				value: 'staticData',
				description: 'One n8n process: the node remembers events in its static data',
			},
			{
				name: 'Redis',
				value: 'redis',
				description:
					'Queue mode or several n8n processes: one atomic claim per event in Redis, shared by every process',
			},
		],
		default: 'staticData',
		description:
			'Where delivered events are remembered to drop their duplicates. In queue mode each webhook process has its own copy of static data, so only Redis holds there.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Custom Field Keys',
				name: 'customFieldKeys',
				type: 'options',
				options: [
					{
						name: 'Field ID',
						value: 'id',
						description: 'As delivered: standard events by field ID ("39"), automation actions by personalisation tag',
					},
					{
						name: 'Field Title',
						value: 'title',
						description: 'The title ActiveCampaign shows ("Lead source"), in standard events and automation actions alike',
					},
					{
						name: 'Personalisation Tag',
						value: 'tag',
						description: 'The tag in lower case ("lead_source"), in standard events and automation actions alike',
					},
				],
				default: 'id',
				description:
					'How contact custom fields are keyed in the item. The names come from the API credential, read at activation and every few minutes. Deal custom fields get their title and tag either way when a name is chosen.',
			},
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
				typeOptions: { minValue: 1, maxValue: MAX_WINDOW_MINUTES },
				default: 60,
				description:
					'How long a delivered event is remembered to recognise its duplicates. Standard events carry their time to the second, so an hour is safe.',
				displayOptions: { show: { '/webhookKind': ['subscriptions'] } },
			},
			{
				displayName: 'Deduplication Window (Minutes)',
				name: 'dedupWindowMinutes',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: MAX_WINDOW_MINUTES },
				default: 1,
				description:
					'How long a delivered event is remembered to recognise its duplicates. These bodies carry no time or event ID, so the same contact passing the action twice looks identical: a longer window would drop the second as a duplicate.',
				displayOptions: { show: { '/webhookKind': ['automation', 'custom'] } },
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
