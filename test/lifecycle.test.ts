/**
 * The node's webhookMethods, run in n8n-core's real HookContext, over real HTTP against the simulator.
 */
import { ActiveCampaignTrigger } from '../nodes/ActiveCampaignTrigger/ActiveCampaignTrigger.node';

import { WEBHOOK_ID, activate, deactivate, hookContext, runLifecycle, type TriggerSetup } from './support/n8nContext';
import { simulatorPerFile } from './support/simulatorPerFile';
import { TRIGGER_STATE_KEY } from './support/triggerNode';

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

const secretOf = (trigger: TriggerSetup) => (trigger.staticData[TRIGGER_STATE_KEY] as { secret: string }).secret;
const idsOf = (trigger: TriggerSetup) =>
	(trigger.staticData[TRIGGER_STATE_KEY] as { webhookIds: { production?: string[]; test?: string[] } }).webhookIds;
const writes = () => simulator().requests.filter((request) => request.method !== 'GET');

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
		expect(text).not.toContain(secretOf(trigger));
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

	it('keeps the ids it could not delete, reports clearly, and deletes them next time', async () => {
		const trigger = setup();
		await activate(trigger);
		const [webhook] = simulator().webhooks();
		simulator().injectFault({ method: 'DELETE', status: 400, count: 1 });
		const failure = (await deactivate(trigger).catch((error: unknown) => error)) as Error & { description?: string };
		expect(failure.message).toMatch(/^Could not remove 1 ActiveCampaign webhook\(s\): ActiveCampaign refused to delete webhook \d+: HTTP 400/);
		expect(failure.description).toContain('removed on the next activation or deactivation');
		expect(idsOf(trigger)).toEqual({ production: [webhook.id] });
		await deactivate(trigger);
		expect(simulator().webhooks()).toEqual([]);
	});

	it("keeps the cause's hint when removal is refused (a revoked API key)", async () => {
		const trigger = setup();
		await activate(trigger);
		simulator().injectFault({ method: 'DELETE', status: 403, count: 1 });
		const failure = (await deactivate(trigger).catch((error: unknown) => error)) as Error & { description?: string };
		expect(failure.description).toBe(
			'Check the API key in the ActiveCampaign credential (Settings → Developer). They are remembered and removed on the next activation or deactivation. You can also delete them in ActiveCampaign under Settings → Developer → Webhooks.',
		);
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
