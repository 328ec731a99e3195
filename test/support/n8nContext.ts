/**
 * Real n8n execution contexts for tests: n8n-core's own HookContext and WebhookContext over a real
 * n8n-workflow Workflow, so parameters, static data, webhook URLs and the authenticated HTTP helper are
 * n8n's code. Only the credential store is stood in for (n8n's lives in its CLI package and database).
 */
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { createHash } from 'node:crypto';
import { parse as parseQueryString } from 'querystring';
import { EventEmitter } from 'events';

process.env.N8N_USER_FOLDER ??= mkdtempSync(join(tmpdir(), 'n8n-user-'));

/* eslint-disable import/first -- n8n-core reads N8N_USER_FOLDER when it is first loaded. */
import { HookContext, WebhookContext } from 'n8n-core';
import {
	Workflow,
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type IHttpRequestOptions,
	type INode,
	type INodeType,
	type INodeTypes,
	type IWebhookData,
	type IWorkflowExecuteAdditionalData,
	type WorkflowActivateMode,
	type WorkflowExecuteMode,
} from 'n8n-workflow';

import { ActiveCampaignTriggerApi } from '../../credentials/ActiveCampaignTriggerApi.credentials';
import { ActiveCampaignTrigger } from '../../nodes/ActiveCampaignTrigger/ActiveCampaignTrigger.node';
import { TRIGGER_NAME, TRIGGER_TYPE } from './triggerNode';

export const WEBHOOK_ID = '5b1c2f0e-8d7a-4c1e-9f3b-2a6d8e4c7b10';

const trigger = new ActiveCampaignTrigger();
const nodeTypes: INodeTypes = {
	getByName: () => trigger as INodeType,
	getByNameAndVersion: () => trigger as INodeType,
	getKnownTypes: () => ({}),
};

export interface TriggerSetup {
	parameters: IDataObject;
	credentials: { apiUrl: string; apiKey: string };
	/** n8n's Query Auth credential (`httpQueryAuth`), the pasted kinds' secret. */
	queryAuth?: { name: string; value: string };
	/** n8n's id of that credential; by default one derived from its data. The same id with other data: the credential edited. */
	queryAuthId?: string;
	/** n8n's Redis credential (`redis`), for the Redis dedup store. */
	redis?: { host: string; port: number; database: number; password?: string };
	/** Shared across contexts like n8n's database row: pass the same object to simulate one workflow. */
	staticData: IDataObject;
	/** n8n's WEBHOOK_URL, e.g. 'https://n8n.example.test/'. */
	webhookBaseUrl?: string;
	workflowId?: string;
	/** The node's name (default: the node type's) and webhook id (null: none, as for a node made outside the editor). */
	node?: { name?: string; webhookId?: string | null };
	/** When given, records the type of every credential n8n is asked to read. */
	credentialReads?: string[];
}

/** Applies the credential's generic `authenticate` block the way n8n's CredentialsHelper does. */
function authenticate(credentials: ICredentialDataDecryptedObject, options: IHttpRequestOptions): IHttpRequestOptions {
	const headers: IDataObject = { ...options.headers };
	for (const [name, template] of Object.entries(new ActiveCampaignTriggerApi().authenticate.properties.headers ?? {})) {
		const field = /^=\{\{\s*\$credentials\.(\w+)\s*\}\}$/.exec(String(template))?.[1];
		headers[name] = field ? credentials[field] : template;
	}
	return { ...options, headers };
}

function workflowFor(setup: TriggerSetup): { workflow: Workflow; node: INode } {
	const authentication = String(setup.parameters.authentication ?? 'activeCampaignTriggerApi');
	const node: INode = {
		id: 'node-1',
		name: setup.node?.name ?? TRIGGER_NAME,
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		...(setup.node?.webhookId === null ? {} : { webhookId: setup.node?.webhookId ?? WEBHOOK_ID }),
		parameters: structuredClone(setup.parameters) as INode['parameters'],
		credentials: {
			// As in n8n, another credential has another id: deliveries reuse a credential read by its id.
			[authentication]: { id: credentialId('activecampaign', setup.credentials), name: 'ActiveCampaign' },
			...(setup.queryAuth ? { httpQueryAuth: { id: setup.queryAuthId ?? credentialId('query-auth', setup.queryAuth), name: 'Query Auth' } } : {}),
			...(setup.redis ? { redis: { id: credentialId('redis', setup.redis), name: 'Redis' } } : {}),
		},
	};
	const workflow = new Workflow({
		id: setup.workflowId ?? 'wf1',
		name: 'Lifecycle test',
		nodes: [node],
		connections: {},
		active: true,
		nodeTypes,
		staticData: setup.staticData,
	});
	return { workflow, node: workflow.getNode(node.name)! };
}

function additionalDataFor(setup: TriggerSetup): IWorkflowExecuteAdditionalData {
	const base = setup.webhookBaseUrl ?? 'https://n8n.example.test/';
	return {
		webhookBaseUrl: `${base}webhook`,
		webhookTestBaseUrl: `${base}webhook-test`,
		webhookWaitingBaseUrl: `${base}webhook-waiting`,
		formWaitingBaseUrl: `${base}form-waiting`,
		instanceBaseUrl: base,
		restApiUrl: `${base}rest`,
		variables: {},
		credentialsHelper: {
			getParentTypes: () => [],
			preAuthentication: async () => undefined,
			authenticate: async (credentials: ICredentialDataDecryptedObject, _type: string, options: IHttpRequestOptions) =>
				authenticate(credentials, options),
			getDecrypted: async (_additionalData: unknown, _nodeCredentials: unknown, type: string) => {
				setup.credentialReads?.push(type);
				return type === 'httpQueryAuth' ? { ...setup.queryAuth } : type === 'redis' ? { ...setup.redis } : { ...setup.credentials };
			},
		},
	} as unknown as IWorkflowExecuteAdditionalData;
}

/**
 * n8n's HookContext, as used for activation ('trigger') or "Listen for test event" ('manual'). n8n removes
 * webhooks in 'internal' mode, test ones included: `isTest` then says which.
 */
export function hookContext(
	setup: TriggerSetup,
	mode: WorkflowExecuteMode = 'trigger',
	activation: WorkflowActivateMode = 'activate',
	isTest = mode === 'manual',
) {
	const { workflow, node } = workflowFor(setup);
	const webhookData = {
		webhookDescription: trigger.description.webhooks![0],
		isTest,
	} as unknown as IWebhookData;
	const context = new HookContext(workflow, node, additionalDataFor(setup), mode, activation, webhookData);
	/** n8n writes changed static data back to the database; the test keeps the object. */
	const persist = () => Object.assign(setup.staticData, JSON.parse(JSON.stringify(workflow.staticData)));
	return { context, workflow, persist };
}

export async function runLifecycle(
	setup: TriggerSetup,
	step: 'checkExists' | 'create' | 'delete',
	mode: WorkflowExecuteMode = 'trigger',
	isTest = mode === 'manual',
): Promise<boolean> {
	const { context, persist } = hookContext(setup, mode, 'activate', isTest);
	// n8n saves static data only after a step that succeeded (a failed activation's changes are dropped).
	const result = await trigger.webhookMethods.default[step].call(context);
	persist();
	return result;
}

/** What n8n does on activation: create unless checkExists says everything is there. */
export async function activate(setup: TriggerSetup, mode: WorkflowExecuteMode = 'trigger'): Promise<void> {
	if (!(await runLifecycle(setup, 'checkExists', mode))) await runLifecycle(setup, 'create', mode);
}

/**
 * What n8n does on deactivation, and (with 'manual') when "Listen for test event" ends: both remove the
 * webhooks in 'internal' mode; only the webhook data's `isTest` tells the test webhook apart.
 */
export async function deactivate(setup: TriggerSetup, mode: WorkflowExecuteMode = 'trigger'): Promise<void> {
	await runLifecycle(setup, 'delete', mode === 'manual' ? 'internal' : mode, mode === 'manual');
}

export interface FakeRequest {
	rawBody: Buffer;
	body: IDataObject;
	headers: Record<string, string>;
	query: IDataObject;
	/** Path and query string, as Express's `req.url`. */
	url: string;
}

function credentialId(type: string, data: object): string {
	return `${type}-${createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 12)}`;
}

/** A query string from parsed values; an array repeats its key. */
function queryString(query: IDataObject): string {
	const search = new URLSearchParams();
	for (const [key, value] of Object.entries(query)) {
		for (const one of Array.isArray(value) ? value : [value]) search.append(key, String(one));
	}
	return search.toString();
}

export interface RecordedResponse {
	status?: number;
	json?: unknown;
}

/**
 * Runs the node's webhook() in n8n-core's WebhookContext for one request, as n8n's webhook server does:
 * `rawBody` kept, a flat `body` from Node's querystring, the query parsed. Static data is written back.
 */
export async function deliverToNode(
	setup: TriggerSetup,
	request: {
		body: string | Buffer;
		/** Form-encoded unless given; `null`: no Content-Type header. */
		contentType?: string | null;
		query?: IDataObject;
		/** The query string as sent, instead of one built from `query`. */
		rawQuery?: string;
		/** The sender went away before the node's webhook() ended: the response is destroyed, its 'close' past. */
		senderGone?: boolean;
		withoutRawBody?: boolean;
		/**
		 * As n8n leaves a body it does not parse for a node of version 1.1 (no Content-Type, a `+json` one): no
		 * `rawBody`, no `body`, the stream unread until `readRawBody()`, which then 'reads' it, 'aborts' (the
		 * sender went away) or finds it 'too large' (n8n's payload limit); or the stream has 'ended' unread.
		 */
		unread?: 'reads' | 'aborts' | 'too large' | 'ended';
	},
	mode: WorkflowExecuteMode = 'webhook',
) {
	const { workflow, node } = workflowFor(setup);
	const contentType = request.contentType === null ? undefined : (request.contentType ?? 'application/x-www-form-urlencoded');
	let readRawBodyCalls = 0;
	const headersAndUrl = {
		headers: (contentType === undefined ? {} : { 'content-type': contentType }) as Record<string, string>,
		query: request.query ?? {},
		url: `/webhook/${WEBHOOK_ID}/webhook?${request.rawQuery ?? queryString(request.query ?? {})}`,
	};
	const httpRequest: Partial<FakeRequest> & { readable?: boolean; readRawBody?: () => Promise<void> } =
		request.unread === undefined
			? {
					...(request.withoutRawBody ? {} : { rawBody: Buffer.from(request.body) }),
					// n8n's own body parsing: JSON, or a flat form whose repeated keys become arrays.
					body: (contentType?.includes('json')
						? parseJsonOrEmpty(String(request.body))
						: parseQueryString(String(request.body))) as IDataObject,
					...headersAndUrl,
				}
			: {
					...headersAndUrl,
					readable: request.unread !== 'ended',
					async readRawBody() {
						readRawBodyCalls++;
						// As n8n's reader fails: its BadRequestError, or raw-body's error for a body over the limit.
						if (request.unread === 'aborts') throw new Error('Request body stream was aborted mid-read or is not readable');
						if (request.unread === 'too large') throw Object.assign(new Error('request entity too large'), { type: 'entity.too.large', status: 413 });
						httpRequest.rawBody = Buffer.from(request.body);
					},
				};
	const response: RecordedResponse = {};
	/** Like Express's response: a test ends it with `finish(status)`, as n8n's answer leaving would. */
	const httpResponse = Object.assign(new EventEmitter(), {
		statusCode: 200,
		writableFinished: false,
		destroyed: request.senderGone === true,
		status(code: number) {
			response.status = code;
			httpResponse.statusCode = code;
			return httpResponse;
		},
		json(body: unknown) {
			response.json = body;
			return httpResponse;
		},
		finish(code: number) {
			httpResponse.statusCode = code;
			httpResponse.writableFinished = true;
			httpResponse.emit('finish');
			httpResponse.emit('close');
		},
	});
	const additionalData = { ...additionalDataFor(setup), httpRequest, httpResponse } as unknown as IWorkflowExecuteAdditionalData;
	const webhookData = { webhookDescription: trigger.description.webhooks![0], isTest: false } as unknown as IWebhookData;
	const context = new WebhookContext(workflow, node, additionalData, mode, webhookData, [], null);
	const result = await trigger.webhook.call(context);
	Object.assign(setup.staticData, JSON.parse(JSON.stringify(workflow.staticData)));
	return { result, response, httpResponse, readRawBodyCalls };
}

function parseJsonOrEmpty(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return {};
	}
}

export { trigger };
