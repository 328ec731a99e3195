/**
 * The node's webhookMethods, run in n8n-core's real HookContext, over real HTTP against the simulator.
 */
import { ActiveCampaignTrigger } from '../nodes/ActiveCampaignTrigger/ActiveCampaignTrigger.node';
import { secretHash } from '../nodes/ActiveCampaignTrigger/lifecycle/secret';
import { accountPacing } from '../nodes/ActiveCampaignTrigger/lifecycle/pacing';
import { forgetKnownSecrets } from '../nodes/ActiveCampaignTrigger/lifecycle/subscription';

import { DELIVERY_BODIES } from './fixtures/deliveryBodies';
import { WEBHOOK_ID, activate, deactivate, deliverToNode, hookContext, runLifecycle, type TriggerSetup } from './support/n8nContext';
import { simulatorPerFile } from './support/simulatorPerFile';
import { TRIGGER_STATE_KEY, deliverySecretOf } from './support/triggerNode';

const API_KEY = 'lifecycle-key';
const ENDPOINT = `https://n8n.example.test/webhook/${WEBHOOK_ID}/webhook`;
const TEST_ENDPOINT = `https://n8n.example.test/webhook-test/${WEBHOOK_ID}/webhook`;

const simulator = simulatorPerFile(API_KEY);

function setup(parameters: TriggerSetup['parameters'] = {}): TriggerSetup {
	return {
		parameters: { events: ['update', 'subscribe'], sources: ['public', 'admin'], ...parameters },
		credentials: { apiUrl: `${simulator().apiUrl}/api/3/`, apiKey: API_KEY },
		staticData: {},
	};
}

const stateOf = (trigger: TriggerSetup) => trigger.staticData[TRIGGER_STATE_KEY] as { secretHash?: string; secret?: string };
const secretOf = (trigger: TriggerSetup) => deliverySecretOf(stateOf(trigger), simulator().webhooks().map(({ url }) => url));
const idsOf = (trigger: TriggerSetup) =>
	(trigger.staticData[TRIGGER_STATE_KEY] as { webhookIds: { production?: string[]; test?: string[] } }).webhookIds;
const writes = () => simulator().requests.filter((request) => request.method !== 'GET');

/** The warnings n8n's logger (one for the process) got while `run` ran. */
async function warningsDuring(run: () => Promise<unknown>): Promise<string[]> {
	const warn = jest.spyOn(hookContext(setup()).context.logger, 'warn').mockImplementation(() => undefined);
	try {
		await run();
		return warn.mock.calls.map(([line]) => String(line));
	} finally {
		warn.mockRestore();
	}
}

describe('activation', () => {
	it('registers one webhook with the secret URL, the chosen events and sources, for all lists', async () => {
		const trigger = setup();
		await activate(trigger);
		const [webhook, ...others] = simulator().webhooks();
		expect(others).toEqual([]);
		expect(webhook).toMatchObject({
			name: 'n8n: Lifecycle test / ActiveCampaign Trigger',
			url: `${ENDPOINT}?secret=${secretOf(trigger)}&workflow=wf1`,
			events: ['subscribe', 'update'],
			sources: ['admin', 'public'],
			listid: '0',
		});
		expect(secretOf(trigger)).toMatch(/^[A-Za-z0-9_-]{32}$/);
		expect(idsOf(trigger)).toEqual({ production: [webhook.id] });
	});

	it('keeps only a hash of the secret in static data, and reads the secret back from its webhook', async () => {
		const trigger = setup();
		await activate(trigger);
		const [registered] = simulator().webhooks();
		const secret = secretOf(trigger)!;
		expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
		expect(Object.keys(stateOf(trigger)).sort()).toEqual(['secretHash', 'webhookIds', 'webhookPath', 'workflowId']);
		expect(JSON.stringify(trigger.staticData)).not.toContain(secret);
		// The next activation (events changed, after a restart) keeps the secret, read back from the webhook.
		trigger.parameters.events = ['update', 'subscribe', 'open'];
		forgetKnownSecrets();
		await activate(trigger);
		expect(simulator().webhooks().map(({ id, url }) => ({ id, url }))).toEqual([{ id: registered.id, url: registered.url }]);
	});

	it("keeps the secret through n8n's update of an active workflow after a restart (remove, then activate)", async () => {
		const trigger = setup();
		await activate(trigger);
		const secret = secretOf(trigger);
		forgetKnownSecrets();
		await deactivate(trigger);
		expect(simulator().webhooks()).toEqual([]);
		await activate(trigger);
		expect(simulator().webhooks().map(({ url }) => url)).toEqual([`${ENDPOINT}?secret=${secret}&workflow=wf1`]);
	});

	it("replaces a secret 0.1.x kept in static data by its hash, keeping the webhook's URL", async () => {
		const legacy = 'a-secret-version-0.1.x-kept-here';
		const url = `${ENDPOINT}?secret=${legacy}&workflow=wf1`;
		const trigger = setup();
		simulator().seedWebhook({ name: 'n8n: Lifecycle test / ActiveCampaign Trigger', url, events: ['subscribe', 'update'], sources: ['admin', 'public'], listid: '0' });
		trigger.staticData[TRIGGER_STATE_KEY] = { secret: legacy };
		expect(await runLifecycle(trigger, 'checkExists')).toBe(true);
		expect(stateOf(trigger)).toMatchObject({ secretHash: secretHash(legacy) });
		expect(stateOf(trigger).secret).toBeUndefined();
		expect(simulator().webhooks().map((webhook) => webhook.url)).toEqual([url]);
	});

	it('makes a new secret when no webhook carries the one whose hash it keeps, and moves its webhook to it', async () => {
		const trigger = setup();
		await activate(trigger);
		const [registered] = simulator().webhooks();
		const lostHash = stateOf(trigger).secretHash;
		simulator().removeWebhook(registered.id);
		const { name, events, sources, listid } = registered;
		simulator().seedWebhook({ name, events, sources, listid, url: `${ENDPOINT}?secret=not-the-secret-it-hashed-0123456789&workflow=wf1` });
		// n8n restarted: only the hash is left.
		forgetKnownSecrets();
		await activate(trigger);
		expect(stateOf(trigger).secretHash).not.toBe(lostHash);
		expect(simulator().webhooks().map((webhook) => webhook.url)).toEqual([`${ENDPOINT}?secret=${secretOf(trigger)}&workflow=wf1`]);
	});

	it("never takes another workflow's secret for the hash it was given (static data imported from an export)", async () => {
		const victim = setup();
		await activate(victim);
		const victimSecret = secretOf(victim)!;
		// Another workflow in the same process and account, given the victim's static data without its ids.
		const other: TriggerSetup = { ...setup(), workflowId: 'wf-other', staticData: { [TRIGGER_STATE_KEY]: { secretHash: stateOf(victim).secretHash } } };
		await activate(other);
		const otherUrl = simulator()
			.webhooks()
			.map(({ url }) => new URL(url))
			.find((url) => url.searchParams.get('workflow') === 'wf-other')!;
		expect(otherUrl.searchParams.get('secret')).not.toBe(victimSecret);
		expect(stateOf(other).secretHash).not.toBe(stateOf(victim).secretHash);
		forgetKnownSecrets();
		await activate({ ...other, staticData: { [TRIGGER_STATE_KEY]: { secretHash: stateOf(victim).secretHash } } });
		expect(simulator().webhooks().filter(({ url }) => url.includes(`secret=${victimSecret}`)).map(({ url }) => new URL(url).searchParams.get('workflow'))).toEqual(['wf1']);
	});

	it('answers checkExists true and writes nothing when all is in place', async () => {
		const trigger = setup();
		await activate(trigger);
		simulator().resetRequests();
		expect(await runLifecycle(trigger, 'checkExists')).toBe(true);
		expect(writes()).toEqual([]);
	});

	it('follows changed events with a PUT on the same webhook, never a second webhook', async () => {
		const trigger = setup();
		await activate(trigger);
		const [before] = simulator().webhooks();
		trigger.parameters.events = ['deal_add'];
		simulator().resetRequests();
		await activate(trigger);
		expect(simulator().webhooks()).toEqual([{ ...before, events: ['deal_add'] }]);
		expect(writes().map((request) => request.method)).toEqual(['PUT']);
	});

	it('repairs a webhook edited in ActiveCampaign', async () => {
		const trigger = setup();
		await activate(trigger);
		const [before] = simulator().webhooks();
		simulator().editWebhook(before.id, { sources: ['api'], events: ['sent'] });
		expect(await runLifecycle(trigger, 'checkExists')).toBe(true);
		expect(simulator().webhooks()).toEqual([before]);
	});

	it('adopts its webhook after static data is lost instead of creating a duplicate', async () => {
		const trigger = setup();
		await activate(trigger);
		const [before] = simulator().webhooks();
		trigger.staticData = {};
		await activate(trigger);
		const after = simulator().webhooks();
		expect(after).toHaveLength(1);
		expect(after[0].id).toBe(before.id);
		expect(after[0].url).toBe(`${ENDPOINT}?secret=${secretOf(trigger)}&workflow=wf1`);
	});

	it('removes duplicates pointing at its endpoint', async () => {
		const trigger = setup();
		const duplicate = { name: 'old', url: `${ENDPOINT}?secret=stale`, events: ['open'], sources: ['public'], listid: '0' };
		simulator().seedWebhook(duplicate);
		simulator().seedWebhook(duplicate);
		await activate(trigger);
		expect(simulator().webhooks().map((webhook) => webhook.url)).toEqual([`${ENDPOINT}?secret=${secretOf(trigger)}&workflow=wf1`]);
	});

	it('leaves webhooks of other URLs alone', async () => {
		const foreign = simulator().seedWebhook({
			name: 'Zapier',
			url: 'https://hooks.example.com/abc',
			events: ['subscribe'],
			sources: ['public'],
			listid: '0',
		});
		const trigger = setup();
		await activate(trigger);
		await deactivate(trigger);
		expect(simulator().webhooks()).toEqual([foreign]);
	});

	it('registers one webhook per chosen list for list-scoped events, and follows list changes', async () => {
		const trigger = setup({ events: ['subscribe'], listIds: ['2', '1'] });
		await activate(trigger);
		expect(simulator().webhooks().map((webhook) => webhook.listid).sort()).toEqual(['1', '2']);
		trigger.parameters.listIds = ['2'];
		await activate(trigger);
		expect(simulator().webhooks().map((webhook) => webhook.listid)).toEqual(['2']);
	});

	it('ignores chosen lists when no chosen event is list-scoped', async () => {
		const trigger = setup({ events: ['deal_add'], listIds: ['1', '2'] });
		await activate(trigger);
		expect(simulator().webhooks().map((webhook) => webhook.listid)).toEqual(['0']);
	});

	it('ends with exactly one webhook when the creation answer is lost after it was applied', async () => {
		const trigger = setup();
		simulator().injectFault({ method: 'POST', path: '/api/3/webhooks', status: 500, applyFirst: true });
		await activate(trigger);
		expect(simulator().webhooks()).toHaveLength(1);
		expect(idsOf(trigger)?.production).toEqual([simulator().webhooks()[0].id]);
	});

	it('honours a 429 with Retry-After while listing', async () => {
		const trigger = setup();
		simulator().injectFault({ method: 'GET', path: '/api/3/webhooks', status: 429, retryAfter: 1 });
		const started = Date.now();
		await activate(trigger);
		expect(Date.now() - started).toBeGreaterThanOrEqual(900);
		expect(simulator().webhooks()).toHaveLength(1);
	});

	it('honours a 429 with Retry-After while creating, and creates exactly one webhook', async () => {
		const trigger = setup();
		simulator().injectFault({ method: 'POST', path: '/api/3/webhooks', status: 429, retryAfter: 1 });
		const started = Date.now();
		await activate(trigger);
		expect(Date.now() - started).toBeGreaterThanOrEqual(900);
		expect(simulator().requests.filter((request) => request.method === 'POST')).toHaveLength(2);
		expect(simulator().webhooks()).toHaveLength(1);
	});
});

describe('deliveries before n8n has saved a new secret', () => {
	// n8n saves static data after the activation; ActiveCampaign may deliver to the new URL before that. Each
	// test activates with `trigger` (n8n's copy in memory) and delivers with the static data as saved before.
	const subscribe = DELIVERY_BODIES.find((body) => body.event === 'subscribe')!.body;
	let contactId = 7000;
	/** Each call a new event (a new contact id): a repeat would be dropped as a duplicate. */
	const emittedFor = async (trigger: TriggerSetup, staticData: TriggerSetup['staticData'], secret: string | undefined) => {
		const body = subscribe.replace(/contact%5Bid%5D=\d+/, `contact%5Bid%5D=${++contactId}`);
		const { result, response } = await deliverToNode({ ...trigger, staticData }, { body, query: { secret } });
		return { status: response.status ?? 200, items: (result.workflowData ?? []).flat().length };
	};
	const snapshot = (trigger: TriggerSetup) => JSON.parse(JSON.stringify(trigger.staticData)) as TriggerSetup['staticData'];

	it('accepts a delivery to the first URL while static data holds no secret yet, and only that URL', async () => {
		const trigger = setup();
		await activate(trigger);
		const secret = secretOf(trigger)!;
		expect(await emittedFor(trigger, {}, secret)).toEqual({ status: 200, items: 1 });
		const forged = `${secret.slice(0, 31)}${secret.endsWith('A') ? 'B' : 'A'}`;
		expect(await emittedFor(trigger, {}, forged)).toEqual({ status: 401, items: 0 });
		// Another key derives another secret: one activated with it is not accepted under this key.
		const otherKey: TriggerSetup = { ...setup(), credentials: { ...setup().credentials, apiKey: 'another-key' } };
		expect(await emittedFor(otherKey, {}, secret)).toEqual({ status: 401, items: 0 });
	});

	it('accepts a delivery to a new URL while static data still holds the old hash, and refuses the old URL once the new hash is saved', async () => {
		const trigger = setup();
		await activate(trigger);
		const oldSecret = secretOf(trigger)!;
		simulator().removeWebhook(simulator().webhooks()[0].id);
		forgetKnownSecrets();
		const saved = snapshot(trigger);
		await activate(trigger);
		const newSecret = secretOf(trigger)!;
		expect(newSecret).not.toBe(oldSecret);
		expect(await emittedFor(trigger, saved, newSecret)).toEqual({ status: 200, items: 1 });
		expect(await emittedFor(trigger, snapshot(trigger), oldSecret)).toEqual({ status: 401, items: 0 });
	});

	it('accepts the new URL of a workflow activated with static data copied from another node, which it discarded', async () => {
		const original = setup();
		await activate(original);
		const copied = snapshot(original);
		const copy: TriggerSetup = { ...setup(), workflowId: 'wf-copy', staticData: snapshot(original) };
		await activate(copy);
		const copySecret = deliverySecretOf(stateOf(copy), simulator().webhooks().map(({ url }) => url))!;
		expect(copySecret).not.toBe(secretOf(original));
		expect(await emittedFor(copy, copied, copySecret)).toEqual({ status: 200, items: 1 });
		// Once the copy's own state is saved, the original's secret is no secret of the copy's.
		expect(await emittedFor(copy, snapshot(copy), secretOf(original))).toEqual({ status: 401, items: 0 });
	});

	it("accepts the new URL of a workflow activated with another node's static data holding a 0.1.x secret", async () => {
		const legacy = 'a-secret-version-0.1.x-kept-here';
		const copied = { [TRIGGER_STATE_KEY]: { secret: legacy, workflowId: 'wf-original', webhookPath: `${WEBHOOK_ID}/webhook` } };
		const copy: TriggerSetup = { ...setup(), workflowId: 'wf-copy-legacy', staticData: JSON.parse(JSON.stringify(copied)) };
		await activate(copy);
		const copySecret = deliverySecretOf(stateOf(copy), simulator().webhooks().map(({ url }) => url))!;
		expect(copySecret).not.toBe(legacy);
		expect(await emittedFor(copy, copied, copySecret)).toEqual({ status: 200, items: 1 });
	});

	it('derives nothing while a secret 0.1.x kept in static data is in use', async () => {
		// The secret a first activation of this node derives, which a 0.1.x state must not accept.
		const fresh = setup();
		await activate(fresh);
		const derived = secretOf(fresh)!;
		await deactivate(fresh);
		forgetKnownSecrets();

		const legacy = 'a-secret-version-0.1.x-kept-here';
		const trigger = setup();
		trigger.staticData[TRIGGER_STATE_KEY] = { secret: legacy };
		const saved = snapshot(trigger);
		await activate(trigger);
		expect(secretOf(trigger)).toBe(legacy);
		expect(await emittedFor(trigger, saved, legacy)).toEqual({ status: 200, items: 1 });
		expect(await emittedFor(trigger, saved, derived)).toEqual({ status: 401, items: 0 });
	});
});

describe('pacing: ActiveCampaign allows an account 5 requests a second', () => {
	/** Runs `body` with the node's own spacing (test/support/fastPacing.ts turns it off for the other tests). */
	async function withPacing(body: () => Promise<void>): Promise<void> {
		const saved = accountPacing.intervalMs;
		accountPacing.intervalMs = 200;
		try {
			await body();
		} finally {
			accountPacing.intervalMs = saved;
		}
	}
	const arrivals = () => simulator().requests.map((request) => request.receivedAt);
	/** Milliseconds between requests as the simulator received them. */
	const gaps = (times: number[]) => times.slice(1).map((time, index) => time - times[index]);
	// Lower bounds, not timing asserts: requests came no closer than the spacing, less the network's jitter.
	const NEAR_SPACING_MS = 150;

	it("spaces one process's requests to an account, also across workflows activated at once", async () => {
		await withPacing(async () => {
			await Promise.all([activate(setup()), activate({ ...setup(), workflowId: 'wf-paced' })]);
			expect(simulator().webhooks().map(({ url }) => new URL(url).searchParams.get('workflow')).sort()).toEqual(['wf-paced', 'wf1']);
			expect(simulator().requests.length).toBeGreaterThanOrEqual(4);
			expect(Math.min(...gaps(arrivals()))).toBeGreaterThanOrEqual(NEAR_SPACING_MS);
		});
	});

	it('holds every request to the account back after a 429, for as long as it asks, and stays spaced after it', async () => {
		await withPacing(async () => {
			simulator().injectFault({ method: 'GET', path: '/api/3/webhooks', status: 429, retryAfter: 1 });
			await Promise.all([activate(setup()), activate({ ...setup(), workflowId: 'wf-held' })]);
			expect(simulator().webhooks()).toHaveLength(2);
			const limited = simulator().requests.findIndex((request) => request.status === 429);
			const times = arrivals();
			const after = times.slice(limited + 1);
			expect(after.length).toBeGreaterThanOrEqual(3);
			expect(Math.min(...after) - times[limited]).toBeGreaterThanOrEqual(1_000 - (200 - NEAR_SPACING_MS));
			expect(Math.min(...gaps(after))).toBeGreaterThanOrEqual(NEAR_SPACING_MS);
		});
	});
});

describe('refusals', () => {
	it('refuses a webhook URL ActiveCampaign cannot deliver to before calling the API', async () => {
		const trigger = { ...setup(), webhookBaseUrl: 'http://localhost:5678/' };
		const failure = await activate(trigger).catch((error: unknown) => error as Error & { description?: string });
		expect(failure).toBeInstanceOf(Error);
		expect((failure as Error).message).toBe(
			`ActiveCampaign cannot deliver to the webhook URL n8n produced (http://localhost:5678/webhook/${WEBHOOK_ID}/webhook): ActiveCampaign only delivers to https URLs`,
		);
		expect((failure as { description?: string }).description).toContain('WEBHOOK_URL');
		expect(simulator().requests).toEqual([]);
	});

	it('explains a wrong API key without revealing the key or the secret', async () => {
		const trigger = setup();
		trigger.credentials.apiKey = 'wrong-key-123456';
		const failure = (await activate(trigger).catch((error: unknown) => error)) as Error & { description?: string };
		expect(failure.message).toContain('HTTP 403');
		expect(failure.description).toBe('Check the API key in the ActiveCampaign credential (Settings → Developer).');
		const text = JSON.stringify({ message: failure.message, description: failure.description });
		expect(text).not.toContain('wrong-key-123456');
		expect(text).not.toContain('secret=');
	});

	it('refuses to activate without events', async () => {
		const failure = (await activate(setup({ events: [] })).catch((error: unknown) => error)) as Error;
		expect(failure.message).toBe('No events are chosen');
	});
});

describe('n8n starting while the API fails', () => {
	// n8n deletes a node's webhooks when its check fails during a re-activation, then retries for hours.
	it.each(['init', 'leadershipChange'] as const)('keeps the webhooks in place on %s and logs why, without secrets', async (activation) => {
		const trigger = setup();
		await activate(trigger);
		const before = simulator().webhooks();
		simulator().injectFault({ method: 'GET', path: '/api/3/webhooks', status: 403 });
		const { context } = hookContext(trigger, 'trigger', activation);
		const warn = jest.spyOn(context.logger, 'warn').mockImplementation(() => undefined);
		try {
			await expect(new ActiveCampaignTrigger().webhookMethods.default.checkExists.call(context)).resolves.toBe(true);
			expect(warn).toHaveBeenCalledTimes(1);
			const [line] = warn.mock.calls[0] as [string];
			expect(line).toMatch(/^ActiveCampaign Trigger kept its webhooks as they are: reconciling them failed while n8n was starting \(.*HTTP 403.*\)/);
			expect(line).not.toContain(API_KEY);
			expect(line).not.toContain(secretOf(trigger));
		} finally {
			warn.mockRestore();
		}
		expect(simulator().webhooks()).toEqual(before);
		expect(writes().filter((request) => request.method === 'DELETE')).toEqual([]);
	});

	it('keeps the hash it had when the failure comes after a new secret was made (the webhooks keep their URLs)', async () => {
		const trigger = setup();
		await activate(trigger);
		// Static data names a secret no webhook carries, and n8n restarted: the listing makes a new one, then the
		// reconciliation's own listing fails.
		trigger.staticData[TRIGGER_STATE_KEY] = { ...stateOf(trigger), secretHash: secretHash('a-secret-no-webhook-carries-0123') };
		forgetKnownSecrets();
		simulator().injectFault({ method: 'GET', path: '/api/3/webhooks', status: 403, after: 1 });
		simulator().resetRequests();
		const { context, persist } = hookContext(trigger, 'trigger', 'init');
		const warn = jest.spyOn(context.logger, 'warn').mockImplementation(() => undefined);
		try {
			await expect(new ActiveCampaignTrigger().webhookMethods.default.checkExists.call(context)).resolves.toBe(true);
			persist();
		} finally {
			warn.mockRestore();
		}
		// ownSecret's listing, then the reconciliation's, refused.
		expect(simulator().requests.map(({ method, path, status }) => `${method} ${path} ${status}`)).toEqual(['GET /api/3/webhooks 200', 'GET /api/3/webhooks 403']);
		expect(stateOf(trigger).secretHash).toBe(secretHash('a-secret-no-webhook-carries-0123'));
	});

	it('reports a failed creation at start, so that n8n retries it: no webhook is in place to keep', async () => {
		const trigger = setup();
		await activate(trigger);
		simulator().removeWebhook(simulator().webhooks()[0].id);
		forgetKnownSecrets();
		simulator().injectFault({ method: 'POST', path: '/api/3/webhooks', status: 422, count: 1 });
		const check = hookContext(trigger, 'trigger', 'init');
		await expect(new ActiveCampaignTrigger().webhookMethods.default.checkExists.call(check.context)).resolves.toBe(false);
		check.persist();
		const failure = (await new ActiveCampaignTrigger().webhookMethods.default.create
			.call(hookContext(trigger, 'trigger', 'init').context)
			.catch((error: unknown) => error)) as Error;
		expect(failure.message).toContain('HTTP 422');
		expect(simulator().webhooks()).toEqual([]);
	});

	it('keeps the webhooks in place at start when creating a missing one fails (a list deleted since), and logs why', async () => {
		const trigger = setup({ events: ['open'], listIds: ['1', '2', '3'] });
		await activate(trigger);
		const [, ...kept] = simulator().webhooks();
		simulator().removeWebhook(simulator().webhooks()[0].id);
		simulator().injectFault({ method: 'POST', path: '/api/3/webhooks', status: 422 });
		const init = (step: 'checkExists' | 'create') => new ActiveCampaignTrigger().webhookMethods.default[step].call(hookContext(trigger, 'trigger', 'init').context);
		const warnings = await warningsDuring(async () => {
			await expect(init('checkExists')).resolves.toBe(false);
			await expect(init('create')).resolves.toBe(true);
		});
		expect(warnings).toEqual([expect.stringMatching(/^ActiveCampaign Trigger kept its webhooks as they are: .*HTTP 422/)]);
		expect(simulator().webhooks()).toEqual(kept);
	});

	it('keeps the webhooks a listing at start showed when a later repair fails, though it remembered none', async () => {
		const trigger = setup();
		await activate(trigger);
		const before = simulator().webhooks();
		delete (trigger.staticData[TRIGGER_STATE_KEY] as { webhookIds?: unknown }).webhookIds;
		trigger.parameters = { ...trigger.parameters, events: ['subscribe'] };
		simulator().injectFault({ method: 'PUT', status: 422 });
		const { context } = hookContext(trigger, 'trigger', 'init');
		const warnings = await warningsDuring(async () => {
			await expect(new ActiveCampaignTrigger().webhookMethods.default.checkExists.call(context)).resolves.toBe(true);
		});
		expect(warnings).toEqual([expect.stringMatching(/^ActiveCampaign Trigger kept its webhooks as they are: .*HTTP 422/)]);
		expect(simulator().webhooks()).toEqual(before);
	});

	it('reports a failed check at start when the node remembers no webhook in place', async () => {
		const trigger = setup();
		simulator().injectFault({ method: 'GET', path: '/api/3/webhooks', status: 403 });
		const { context } = hookContext(trigger, 'trigger', 'init');
		const failure = (await new ActiveCampaignTrigger().webhookMethods.default.checkExists.call(context).catch((error: unknown) => error)) as Error;
		expect(failure.message).toContain('HTTP 403');
	});

	it("still reports the failure on a user's own activation", async () => {
		const trigger = setup();
		await activate(trigger);
		simulator().injectFault({ method: 'GET', path: '/api/3/webhooks', status: 403 });
		const failure = (await runLifecycle(trigger, 'checkExists').catch((error: unknown) => error)) as Error;
		expect(failure.message).toContain('HTTP 403');
	});
});

describe('deactivation', () => {
	it('deletes every webhook it registered', async () => {
		const trigger = setup({ events: ['open'], listIds: ['1', '2', '3'] });
		await activate(trigger);
		expect(simulator().webhooks()).toHaveLength(3);
		await deactivate(trigger);
		expect(simulator().webhooks()).toEqual([]);
		expect(idsOf(trigger)).toEqual({ production: [] });
	});

	it('takes a webhook already deleted in ActiveCampaign as gone', async () => {
		const trigger = setup();
		await activate(trigger);
		simulator().removeWebhook(simulator().webhooks()[0].id);
		await deactivate(trigger);
		expect(idsOf(trigger)).toEqual({ production: [] });
	});

	it('keeps the ids it could not delete, logs why with a hint instead of failing, and deletes them next time', async () => {
		const trigger = setup();
		await activate(trigger);
		const [webhook] = simulator().webhooks();
		simulator().injectFault({ method: 'DELETE', status: 400, count: 1 });
		// n8n only logs a failed removal, and skips its own cleanup and the save of static data when one throws.
		const warnings = await warningsDuring(async () => await expect(deactivate(trigger)).resolves.toBeUndefined());
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).toMatch(
			/^ActiveCampaign Trigger could not remove its webhooks: Could not remove 1 ActiveCampaign webhook\(s\): ActiveCampaign refused to delete webhook \d+: HTTP 400\b.*\. They are remembered and removed on the next activation or deactivation\./,
		);
		expect(idsOf(trigger)).toEqual({ production: [webhook.id] });
		await deactivate(trigger);
		expect(simulator().webhooks()).toEqual([]);
	});

	it("leaves an earlier version's webhook alone when a copy that kept its static data is removed", async () => {
		// 0.1.0 recorded neither the workflow in the URL nor in static data; n8n's Duplicate can keep the node's
		// webhook id (so its path) and the static data, and removes the copy's webhooks when it refuses to
		// activate it while the original holds the path.
		const original = simulator().seedWebhook({
			name: 'n8n: Lifecycle test / ActiveCampaign Trigger',
			url: `${ENDPOINT}?secret=a-secret-version-0.1.x-kept-here`,
			events: ['subscribe', 'update'],
			sources: ['admin', 'public'],
			listid: '0',
		});
		const earlierState = { secret: 'a-secret-version-0.1.x-kept-here', webhookPath: `${WEBHOOK_ID}/webhook`, webhookIds: { production: [original.id] } };
		const copy: TriggerSetup = { ...setup(), workflowId: 'wf-copy', staticData: { [TRIGGER_STATE_KEY]: structuredClone(earlierState) } };
		await deactivate(copy);
		expect(simulator().webhooks()).toEqual([original]);
		expect(idsOf(copy)).toEqual({ production: [] });
	});

	it("keeps the cause's hint when removal is refused (a revoked API key), without the key", async () => {
		const trigger = setup();
		await activate(trigger);
		simulator().injectFault({ method: 'DELETE', status: 403, count: 1 });
		const warnings = await warningsDuring(async () => await deactivate(trigger));
		expect(warnings).toHaveLength(1);
		expect(warnings[0]).toContain(
			'. Check the API key in the ActiveCampaign credential (Settings → Developer). They are remembered and removed on the next activation or deactivation. You can also delete them in ActiveCampaign under Settings → Developer → Webhooks.',
		);
		expect(warnings[0]).not.toContain(API_KEY);
		expect(warnings[0]).not.toContain(secretOf(trigger));
	});
});

describe('test mode ("Listen for test event")', () => {
	it('registers a test webhook beside the production one and removes only its own', async () => {
		const trigger = setup();
		await activate(trigger);
		const [production] = simulator().webhooks();
		await activate(trigger, 'manual');
		expect(simulator().webhooks().map((webhook) => webhook.url.split('?')[0]).sort()).toEqual([TEST_ENDPOINT, ENDPOINT].sort());
		await deactivate(trigger, 'manual');
		expect(simulator().webhooks()).toEqual([production]);
		expect(idsOf(trigger)).toEqual({ production: [production.id], test: [] });
	});
});
