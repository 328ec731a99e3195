import {
	NodeConnectionTypes,
	NodeOperationError,
	type IHookFunctions,
	type ILoadOptionsFunctions,
	type INodePropertyOptions,
	type INodeType,
	type INodeTypeDescription,
	type IWebhookFunctions,
	type IWebhookResponseData,
} from 'n8n-workflow';

import { EVENT_CATALOG } from './catalog';
import { BUILT_IN_CREDENTIAL, OWN_CREDENTIAL, properties } from './description';
import { endpointOf } from './deliveryUrl';
import { ensureSubscriptions, removeSubscriptions } from './reconcile';
import { receiveDelivery } from './receive';
import { MIN_PASTED_SECRET_LENGTH, nodeState, readSettings } from './settings';
import { clientFor, memoryOf, slotOf, subscriptionSetup, toNodeError } from './subscription';

export class ActiveCampaignTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ActiveCampaign Trigger',
		name: 'activeCampaignTrigger',
		icon: { light: 'file:activeCampaign.svg', dark: 'file:activeCampaign.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].length + " event" + ($parameter["events"].length === 1 ? "" : "s")}}',
		description: 'Starts the workflow when ActiveCampaign events occur, authenticated and deduplicated',
		defaults: { name: 'ActiveCampaign Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: OWN_CREDENTIAL,
				required: true,
				displayOptions: { show: { webhookKind: ['subscriptions'], authentication: [OWN_CREDENTIAL] } },
			},
			{
				name: BUILT_IN_CREDENTIAL,
				required: true,
				displayOptions: { show: { webhookKind: ['subscriptions'], authentication: [BUILT_IN_CREDENTIAL] } },
			},
		],
		webhooks: [
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: 'webhook',
			},
		],
		properties,
	};

	methods = {
		loadOptions: {
			/** The catalog, plus any event the account offers that the catalog lacks; the catalog alone on failure. */
			async getEvents(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				const options: INodePropertyOptions[] = EVENT_CATALOG.map((event) => ({
					name: `${event.object}: ${event.label}`,
					value: event.id,
					description: event.listScoped ? `${event.id} (can be narrowed to lists)` : event.id,
				}));
				try {
					const known = new Set(EVENT_CATALOG.map((event) => event.id));
					const offered = await (await clientFor(this)).listWebhookEvents();
					for (const id of offered.filter((event) => !known.has(event)).sort()) {
						options.push({ name: `Other: ${id}`, value: id, description: `${id} (offered by your account)` });
					}
				} catch (error) {
					this.logger.debug(`ActiveCampaign webhook events could not be loaded: ${(error as Error).message}`);
				}
				return options;
			},

			async getLists(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
				try {
					const lists = await (await clientFor(this)).listLists();
					return lists
						.map((list) => ({ name: list.name, value: list.id }))
						.sort((a, b) => a.name.localeCompare(b.name));
				} catch (error) {
					throw toNodeError(this.getNode(), error, []);
				}
			},
		},
	};

	webhookMethods = {
		default: {
			/** True only when the account holds exactly the wanted webhooks; drift is repaired on the way. */
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await runStep(this, false);
			},

			async create(this: IHookFunctions): Promise<boolean> {
				return await runStep(this, true);
			},

			/** Removes every webhook of this node; ids that could not be removed are kept for the next attempt. */
			async delete(this: IHookFunctions): Promise<boolean> {
				const state = nodeState(this.getWorkflowStaticData('node'));
				const memory = memoryOf(state, slotOf(this));
				if (readSettings(this).kind !== 'subscriptions' && memory.ids.length === 0) return true;
				try {
					const endpoint = endpointOf(this.getNodeWebhookUrl('default') ?? '');
					await removeSubscriptions(await clientFor(this), endpoint, memory);
					return true;
				} catch (error) {
					throw toNodeError(this.getNode(), error, [state.secret]);
				}
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receiveDelivery(this);
	}
}

async function runStep(context: IHookFunctions, allowCreate: boolean): Promise<boolean> {
	const settings = readSettings(context);
	if (settings.kind !== 'subscriptions') {
		// Nothing to register: the user pastes the URL into ActiveCampaign. Only the secret must be usable.
		assertPastedSecret(context, settings.secret);
		return true;
	}
	const setup = await subscriptionSetup(context, settings).catch((error: unknown) => {
		throw toNodeError(context.getNode(), error, []);
	});
	try {
		return await ensureSubscriptions(setup.client, setup.desired, setup.memory, {
			allowCreate,
			log: (message) => context.logger.info(message),
		});
	} catch (error) {
		throw toNodeError(context.getNode(), error, [setup.state.secret]);
	}
}

function assertPastedSecret(context: IHookFunctions, secret: string): void {
	if (secret.length < MIN_PASTED_SECRET_LENGTH || !/^[A-Za-z0-9_-]+$/.test(secret)) {
		throw new NodeOperationError(context.getNode(), 'The "Secret" parameter is too short or has characters ActiveCampaign does not allow', {
			description: `Use at least ${MIN_PASTED_SECRET_LENGTH} letters, digits, "-" or "_", then paste the Production URL with ?secret=<that text> into ActiveCampaign.`,
		});
	}
}
