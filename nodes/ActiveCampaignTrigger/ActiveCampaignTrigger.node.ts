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
import { properties } from './description';
import { fieldNamesFor } from './delivery/fieldNames';
import { ActiveCampaignApiError, isNetworkError, settle } from './lifecycle/apiClient';
import { ensureSubscriptions } from './lifecycle/reconcile';
import { receiveDelivery } from './delivery/receive';
import { redact } from './lifecycle/secret';
import { MIN_PASTED_SECRET_LENGTH, readQueryAuth, readRedisSettings, readSettings } from './settings';
import { claimNodeState, clientFor, fieldNamesSource, ownSecret, removeRegisteredWebhooks, subscriptionSetup, toNodeError } from './lifecycle/subscription';

export class ActiveCampaignTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'ActiveCampaign Trigger',
		name: 'activeCampaignTrigger',
		icon: { light: 'file:activeCampaign.svg', dark: 'file:activeCampaign.dark.svg' },
		group: ['trigger'],
		// 1.1 behaves as 1 in every way the node controls. n8n treats a webhook node of version 1 apart: on each
		// delivery it evaluates an expression to learn whether the node wants binary data, which on n8n 2.x's
		// isolated expression engine costs more than the node's whole work on the delivery. From 1.1 on n8n skips
		// it and reads the body only for the content types it parses itself; the node reads any other (see
		// rawBodyOf). Workflows saved with version 1 keep working as they are.
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{$parameter["events"].length + " event" + ($parameter["events"].length === 1 ? "" : "s")}}',
		description: 'Starts the workflow when ActiveCampaign events occur, authenticated and deduplicated',
		defaults: { name: 'ActiveCampaign Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		// Three of n8n's built-in credential types are reused on purpose, so users pick what they already have:
		// ActiveCampaign's API credential, Query Auth for the secret of a pasted URL, and Redis for the dedup
		// store in queue mode. n8n's community rules flag any credential from outside the package (and a name
		// without "Api"); scripts/scan-package.mjs accepts exactly these names.
		credentials: [
			{
				name: 'activeCampaignTriggerApi',
				required: true,
				displayOptions: { show: { authentication: ['activeCampaignTriggerApi'] } },
			},
			{
				// eslint-disable-next-line @n8n/community-nodes/no-credential-reuse, @n8n/community-nodes/valid-credential-references -- n8n's built-in ActiveCampaign credential, see above
				name: 'activeCampaignApi',
				required: true,
				displayOptions: { show: { authentication: ['activeCampaignApi'] } },
			},
			{
				// eslint-disable-next-line @n8n/community-nodes/no-credential-reuse, @n8n/community-nodes/valid-credential-references, n8n-nodes-base/node-class-description-credentials-name-unsuffixed -- n8n's built-in Query Auth credential, see above
				name: 'httpQueryAuth',
				required: true,
				displayOptions: { show: { webhookKind: ['automation', 'custom'] } },
			},
			{
				// eslint-disable-next-line @n8n/community-nodes/no-credential-reuse, @n8n/community-nodes/valid-credential-references -- n8n's built-in Redis credential, see above
				name: 'redis',
				required: true,
				displayOptions: { show: { dedupStore: ['redis'] } },
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

			/**
			 * Removes every webhook of this node; ids that could not be removed are kept for the next attempt. A
			 * failure is logged, not thrown: n8n (1.x and 2.x) only logs it too, but would skip the rest of its
			 * removal, its own webhook rows and the save of static data, which keeps those ids.
			 */
			async delete(this: IHookFunctions): Promise<boolean> {
				try {
					await removeRegisteredWebhooks(this, readSettings(this).kind, 'removal');
				} catch (error) {
					const failure = toNodeError(this.getNode(), error, []);
					const hint = 'description' in failure && typeof failure.description === 'string' ? ` ${failure.description}` : '';
					this.logger.warn(`ActiveCampaign Trigger could not remove its webhooks: ${failure.message.replace(/\.$/, '')}.${hint}`);
				}
				return true;
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receiveDelivery(this);
	}
}

async function runStep(context: IHookFunctions, allowCreate: boolean): Promise<boolean> {
	const settings = readSettings(context);
	if (settings.store === 'redis' && settings.deduplicate) await assertRedisCredential(context);
	if (settings.fieldKeys !== 'id') await loadFieldNames(context);
	if (settings.kind !== 'subscriptions') {
		// Nothing to register: the user pastes the URL. The secret must be usable, and webhooks this node
		// registered before its kind was changed must go.
		await assertPastedSecret(context);
		await removeRegisteredWebhooks(context, settings.kind, 'activation');
		// A secret 0.1.x kept for the Events kind would stay in exported static data for good.
		delete claimNodeState(context).secret;
		return true;
	}
	const setup = await subscriptionSetup(context, settings).catch((error: unknown) => {
		throw toNodeError(context.getNode(), error, []);
	});
	const before = { secretHash: setup.state.secretHash, secret: setup.state.secret };
	let secret: string | undefined;
	try {
		secret = await ownSecret(context, setup);
		return await ensureSubscriptions(setup.client, setup.desired(secret), setup.ownership, setup.memory, {
			allowCreate,
			// A failed request's message may quote ActiveCampaign's answer, which may quote the delivery URL.
			log: (message) => context.logger.info(redact(message, [secret])),
		});
	} catch (error) {
		const failure = toNodeError(context.getNode(), error, [secret]);
		if (setup.memory.ids.length > 0 && keepsWebhooksOnFailure(context, error)) {
			// The webhooks keep the URLs they have: so does static data (a new secret would refuse their deliveries).
			for (const key of ['secretHash', 'secret'] as const) {
				if (before[key] === undefined) delete setup.state[key];
				else setup.state[key] = before[key];
			}
			context.logger.warn(
				`ActiveCampaign Trigger kept its webhooks as they are: reconciling them failed while n8n was starting (${failure.message}). Deliveries to them go on; the next activation repairs any drift.`,
			);
			return true;
		}
		throw failure;
	}
}

/**
 * When n8n 1.x starts, or a main process takes the lead, n8n re-activates every active workflow, and a failed
 * check makes it delete the node's webhooks, then retry the activation after a growing wait: ActiveCampaign's API
 * failing at that moment would stop deliveries that still work, for as long as it fails. A step that fails
 * while webhooks of the node are in place (the last listing showed them, or, without one, the node remembers
 * them) keeps them instead (the workflow counts as active; one missing, say of a list deleted since, is
 * created on the next activation). With none in place the failure is reported, so that n8n's retries create
 * them; so is a user's own activation.
 */
function keepsWebhooksOnFailure(context: IHookFunctions, error: unknown): boolean {
	const mode = context.getActivationMode();
	return (mode === 'init' || mode === 'leadershipChange') && (error instanceof ActiveCampaignApiError || isNetworkError(error));
}

async function assertPastedSecret(context: IHookFunctions): Promise<void> {
	const { name, value } = await readCredential(
		context,
		readQueryAuth,
		"Choose a Query Auth credential for the pasted URL's secret",
		`The pasted kinds read their secret from n8n's Query Auth credential (earlier versions kept it in the node's "Secret" parameter). Create one with Name "secret" and a random Value of at least ${MIN_PASTED_SECRET_LENGTH} characters, pick it in the node, and paste <Production URL>?<name>=<value> into ActiveCampaign.`,
	);
	if (name === '' || value.length < MIN_PASTED_SECRET_LENGTH) {
		throw new NodeOperationError(context.getNode(), `The Query Auth credential needs a parameter name and a value of at least ${MIN_PASTED_SECRET_LENGTH} characters`, {
			description: `Open the credential and set, e.g., Name "secret" and a random Value of at least ${MIN_PASTED_SECRET_LENGTH} characters; then paste <Production URL>?<name>=<value> into ActiveCampaign.`,
		});
	}
}

/** Names for "Custom Field Keys", loaded now so the first delivery pays nothing; the API down only warns. */
async function loadFieldNames(context: IHookFunctions): Promise<void> {
	const source = fieldNamesSource(context);
	if (source === undefined) {
		throw new NodeOperationError(context.getNode(), 'Custom Field Keys by name need the ActiveCampaign API credential', {
			description: 'Pick an API credential under "Credential Type" (the names come from ActiveCampaign\'s API), or set Custom Field Keys to "Field ID".',
		});
	}
	await fieldNamesFor(source.key, source.load, context.logger, { force: true });
}

/** Redis itself may be down at activation (deliveries then pass undeduplicated); its credential must be set. */
async function assertRedisCredential(context: IHookFunctions): Promise<void> {
	await readCredential(
		context,
		readRedisSettings,
		'Choose a Redis credential for the Redis dedup store',
		'Pick the Redis your n8n queue mode uses (any Redis that every n8n process reaches will do), or set Dedup Store to "Workflow Static Data" for a single n8n process.',
	);
}

/** A credential the chosen settings need, or an error that says which one to pick. */
async function readCredential<T>(context: IHookFunctions, read: (context: IHookFunctions) => Promise<T>, message: string, description: string): Promise<T> {
	const credential = await settle(read(context));
	if (!credential.ok) throw new NodeOperationError(context.getNode(), message, { description });
	return credential.value;
}
