/**
 * Randomized fault run: many schedules of 429 / 5xx / 404 / hangs / lost answers at any step, across
 * activate, reactivate with changed events and lists, lost static data and deactivate, driving the same
 * lifecycle functions the node's webhookMethods call, in the order n8n calls them. After every step the
 * simulator must hold exactly what should exist: 0 orphans, 0 duplicates, the right url/events/sources/lists.
 */
import type { WebhookFields } from '../nodes/ActiveCampaignTrigger/lifecycle/apiClient';
import { EVENT_IDS, SOURCE_IDS, isListScoped } from '../nodes/ActiveCampaignTrigger/catalog';
import { deliveryUrl } from '../nodes/ActiveCampaignTrigger/lifecycle/deliveryUrl';
import {
	desiredWebhooks,
	ensureSubscriptions,
	pathOf,
	removeSubscriptions,
	type Ownership,
	type SubscriptionMemory,
} from '../nodes/ActiveCampaignTrigger/lifecycle/reconcile';
import { ActiveCampaignSimulator, type Fault, type SimulatedWebhook } from './simulator/ActiveCampaignSimulator';
import { fastClient } from './support/fetchTransport';

const SCHEDULES = 1_000;
const API_KEY = 'fault-run-key';
const WEBHOOK_PATH = '0d9c7a52-7f0e-4b51-a1a4-3c2e5f6a7b8c/webhook';
const ENDPOINT = `https://n8n.example.test/webhook/${WEBHOOK_PATH}`;
const WORKFLOW_ID = 'wf-fault-run';
const OWNERSHIP: Ownership = { path: `/webhook/${WEBHOOK_PATH}`, workflowId: WORKFLOW_ID, removeOtherSlots: WEBHOOK_PATH };

/** Deterministic PRNG (mulberry32) so a failing schedule can be replayed by its number. */
function prng(seed: number) {
	let state = seed >>> 0;
	const next = () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)];
	const subset = <T>(values: readonly T[], max: number): T[] =>
		[...values].sort(() => next() - 0.5).slice(0, 1 + Math.floor(next() * max));
	return { next, pick, subset };
}

type Random = ReturnType<typeof prng>;

function randomFault(random: Random): Fault {
	const method = random.pick([undefined, 'GET', 'POST', 'PUT', 'DELETE']);
	const kind = random.pick(['429', '500', '502', '503', '404', 'hang'] as const);
	const base: Fault = { method, count: 1 + Math.floor(random.next() * 3), applyFirst: random.next() < 0.5 };
	if (kind === 'hang') return { ...base, hang: true };
	if (kind === '429') return { ...base, status: 429, retryAfter: 0 };
	return { ...base, status: Number(kind) };
}

function randomConfig(random: Random, secret: string) {
	const events = random.subset(EVENT_IDS, 4);
	const lists = events.some(isListScoped) ? random.subset(['1', '2', '3'], 3).slice(0, Math.floor(random.next() * 3)) : [];
	return desiredWebhooks({
		name: 'n8n: fault run / Trigger',
		url: deliveryUrl(ENDPOINT, secret, WORKFLOW_ID),
		events,
		sources: random.subset(SOURCE_IDS, 4),
		listIds: lists,
	});
}

const comparable = (webhook: WebhookFields | SimulatedWebhook) => ({
	name: webhook.name,
	url: webhook.url,
	events: [...webhook.events].sort(),
	sources: [...webhook.sources].sort(),
	listid: webhook.listid,
});
const byList = (a: { listid: string }, b: { listid: string }) => a.listid.localeCompare(b.listid);

let simulator: ActiveCampaignSimulator;

beforeAll(async () => {
	simulator = await ActiveCampaignSimulator.start({ apiToken: API_KEY });
});

afterAll(async () => {
	await simulator.close();
});

describe('randomized fault run', () => {
	it(`keeps exactly the right webhooks through ${SCHEDULES} fault schedules`, async () => {
		const client = fastClient(simulator.apiUrl, API_KEY, { timeoutMs: 40, attempts: 4 });
		const tally = { steps: 0, failedActivations: 0, failedSteps: 0, faults: 0 };
		const owned = () => simulator.webhooks().filter((webhook) => pathOf(webhook.url) === OWNERSHIP.path);

		type Outcome = WebhookFields[] | 'deactivated' | 'failed';

		async function deactivate(memory: SubscriptionMemory): Promise<Outcome> {
			return await removeSubscriptions(client, OWNERSHIP, memory).then(
				() => 'deactivated' as const,
				() => 'failed' as const,
			);
		}

		/** n8n's activation: checkExists, then create; when that fails n8n runs delete to clean up. */
		async function activate(desired: WebhookFields[], memory: SubscriptionMemory): Promise<Outcome> {
			try {
				if (!(await ensureSubscriptions(client, desired, OWNERSHIP, memory, { allowCreate: false }))) {
					await ensureSubscriptions(client, desired, OWNERSHIP, memory, { allowCreate: true });
				}
				return desired;
			} catch {
				tally.failedActivations++;
				return await deactivate(memory);
			}
		}

		for (let schedule = 1; schedule <= SCHEDULES; schedule++) {
			const random = prng(schedule);
			for (const webhook of simulator.webhooks()) simulator.removeWebhook(webhook.id);
			simulator.clearFaults();
			const foreign = simulator.seedWebhook({
				name: 'another app',
				url: 'https://hooks.example.com/other',
				events: ['subscribe'],
				sources: ['public'],
				listid: '0',
			});
			const injectFaults = () => {
				simulator.clearFaults();
				const count = Math.floor(random.next() * 3);
				for (let i = 0; i < count; i++) simulator.injectFault(randomFault(random));
				tally.faults += count;
			};
			const context = `schedule ${schedule}`;
			let memory: SubscriptionMemory = { ids: [] };
			let secret = `secret-${schedule}-a`;

			const steps: Array<() => Promise<Outcome>> = [
				async () => await activate(randomConfig(random, secret), memory),
				async () => await activate(randomConfig(random, secret), memory),
				async () => {
					memory = { ids: [] };
					secret = `secret-${schedule}-b`;
					return await activate(randomConfig(random, secret), memory);
				},
				async () => await deactivate(memory),
			];

			for (const step of steps) {
				injectFaults();
				const outcome = await step();
				simulator.clearFaults();
				tally.steps++;
				if (outcome === 'failed') {
					tally.failedSteps++;
					continue;
				}
				const expected = outcome === 'deactivated' ? [] : outcome.map(comparable).sort(byList);
				expect({ context, webhooks: owned().map(comparable).sort(byList) }).toEqual({ context, webhooks: expected });
			}

			// A user deactivating again once ActiveCampaign has recovered leaves nothing behind.
			expect({ context, outcome: await deactivate(memory) }).toEqual({ context, outcome: 'deactivated' });
			expect({ context, webhooks: simulator.webhooks() }).toEqual({ context, webhooks: [foreign] });
		}

		console.log(
			`fault run: ${SCHEDULES} schedules, ${tally.steps} steps, ${tally.faults} faults injected, ` +
				`${tally.failedActivations} activations failed and were cleaned up, ${tally.failedSteps} steps left work for the next; ` +
				'0 orphans, 0 duplicates',
		);
		expect(tally.steps).toBe(SCHEDULES * 4);
	}, 600_000);
});
