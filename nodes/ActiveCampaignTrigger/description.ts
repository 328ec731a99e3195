import type { INodeProperties } from 'n8n-workflow';

import { EVENT_CATALOG, SOURCES } from './catalog';

export const OWN_CREDENTIAL = 'activeCampaignTriggerApi';
/** n8n's built-in ActiveCampaign credential: same fields and header, so users need not enter their key twice. */
export const BUILT_IN_CREDENTIAL = 'activeCampaignApi';

const LIST_SCOPED_EVENTS = EVENT_CATALOG.filter((event) => event.listScoped).map((event) => event.id);

export const properties: INodeProperties[] = [
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
	},
	{
		displayName: 'List Names or IDs',
		name: 'listIds',
		type: 'multiOptions',
		typeOptions: { loadOptionsMethod: 'getLists' },
		default: [],
		displayOptions: { show: { events: LIST_SCOPED_EVENTS } },
		description:
			'Lists to receive contact and campaign events from; none means all lists. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
	},
];
