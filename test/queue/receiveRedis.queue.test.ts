/**
 * The node's webhook() with the Redis dedup store, in n8n-core's real WebhookContext against a real Redis:
 * n8n answers, the claim is settled by that answer, and static data is never written per event.
 */
import { settling } from '../../nodes/ActiveCampaignTrigger/delivery/receive';
import { closeRedisConnections, forgetSettledHere } from '../../nodes/ActiveCampaignTrigger/delivery/redisStore';
import { DELIVERY_BODIES } from '../fixtures/deliveryBodies';
import { activate, deliverToNode, type TriggerSetup } from '../support/n8nContext';
import { TRIGGER_STATE_KEY as STATE_KEY } from '../support/triggerNode';
import { OwnRedis } from './redisServer';
import { withTwinWait } from './storeSettings';

const SECRET = 'a-known-secret-of-32-characters!';
const bodyOf = (event: string) => DELIVERY_BODIES.find((body) => body.event === event)!.body;
let server: OwnRedis;
let workflows = 0;

/** What the node answers a copy of a settled event, and a copy whose twin is still pending. */
const DUPLICATE = { webhookResponse: { received: true, emitted: false, reason: 'duplicate' } };
const RETRY_LATER = { status: 409, json: { message: 'A copy of this event is being processed; retry later' } };
/** A claim stays pending this long after its 2xx left (500 ms in n8n). */
const AFTER_ANSWER_MS = 200;
/** Long enough for a settle to have reached Redis: the pending moment, its timer's slot, a round trip. */
const SETTLED_MS = AFTER_ANSWER_MS + 300;
const wait = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
	server = await OwnRedis.start();
	settling.afterAnswerMs = AFTER_ANSWER_MS;
});

afterAll(async () => {
	await closeRedisConnections();
	await server.stop();
});

function setup(): TriggerSetup {
	return {
		workflowId: `wf-redis-${++workflows}`,
		parameters: { events: ['subscribe'], sources: ['public'], dedupStore: 'redis' },
		credentials: { apiUrl: 'http://127.0.0.1:1', apiKey: 'unused' },
		redis: { host: '127.0.0.1', port: server.port, database: 0 },
		staticData: { [STATE_KEY]: { secret: SECRET } },
	};
}

const deliver = (trigger: TriggerSetup) => deliverToNode(trigger, { body: bodyOf('subscribe'), query: { secret: SECRET } });

it("emits with n8n's own answer, then takes a copy as a duplicate once that answer was a 2xx", async () => {
	const trigger = setup();
	const first = await deliver(trigger);
	expect(first.result.noWebhookResponse).toBeUndefined();
	expect(first.result.workflowData?.flat().map((item) => item.json.event)).toEqual(['subscribe']);
	expect(first.response).toEqual({});
	first.httpResponse.finish(200);
	await wait(SETTLED_MS);
	const copy = await deliver(trigger);
	expect(copy.result).toEqual(DUPLICATE);
	expect(trigger.staticData).toEqual({ [STATE_KEY]: { secret: SECRET } });
});

/** Two copies at once: the one that got the claim emits and is answered `status`; returns what the other got. */
async function twoCopiesAnswering(trigger: TriggerSetup, status: number) {
	const [a, b] = [deliver(trigger), deliver(trigger)];
	const first = await Promise.race([a, b]);
	expect(first.result.workflowData?.flat()).toHaveLength(1);
	first.httpResponse.finish(status);
	return await (first === (await a) ? b : a);
}

it('holds a copy that arrives while the first is in flight until that one succeeded, then answers it as a duplicate', async () => {
	const trigger = setup();
	const held = await twoCopiesAnswering(trigger, 200);
	expect({ result: held.result, response: held.response }).toEqual({ result: DUPLICATE, response: {} });
	expect(trigger.staticData).toEqual({ [STATE_KEY]: { secret: SECRET } });
});

it('runs the held copy when the first one failed, so the event is not lost', async () => {
	const held = await twoCopiesAnswering(setup(), 500);
	expect(held.result.workflowData?.flat().map((item) => item.json.event)).toEqual(['subscribe']);
});

it('answers 409, so the sender may retry, a copy whose twin is still unsettled after the wait, and starts nothing', async () => {
	const trigger = setup();
	await withTwinWait({ maxMs: 300 }, async () => {
		const first = await deliver(trigger);
		expect(first.result.workflowData?.flat()).toHaveLength(1);
		const copy = await deliver(trigger);
		expect({ result: copy.result, response: copy.response }).toEqual({ result: { noWebhookResponse: true }, response: RETRY_LATER });
		first.httpResponse.finish(200);
	});
	await wait(SETTLED_MS);
	expect((await deliver(trigger)).result).toEqual(DUPLICATE);
});

it('keeps the claim pending for a moment after the 2xx left (n8n 1.x enqueues after answering), then settled', async () => {
	const trigger = setup();
	const first = await deliver(trigger);
	first.httpResponse.finish(200);
	await wait(20);
	// A copy at another process, while a process killed now would leave only a claim that expires.
	forgetSettledHere();
	await withTwinWait({ maxMs: 0 }, async () => {
		expect((await deliver(trigger)).response).toEqual(RETRY_LATER);
	});
	await wait(SETTLED_MS);
	forgetSettledHere();
	expect((await deliver(trigger)).result).toEqual(DUPLICATE);
});

it('lets the retry of a delivery whose answer was not a 2xx run', async () => {
	const trigger = setup();
	const failed = await deliver(trigger);
	failed.httpResponse.finish(500);
	await wait(50);
	const retry = await deliver(trigger);
	expect(retry.result.workflowData?.flat()).toHaveLength(1);
});

it('gives the claim up at once when the sender went away before the claim was made (as when it goes away later)', async () => {
	const trigger = setup();
	const gone = await deliverToNode(trigger, { body: bodyOf('subscribe'), query: { secret: SECRET }, senderGone: true });
	expect(gone.result.workflowData?.flat()).toHaveLength(1);
	await wait(50);
	// Not held for the twin wait and answered 409: the claim is free, as after any answer that was not a 2xx.
	await withTwinWait({ maxMs: 0 }, async () => {
		const retry = await deliver(trigger);
		expect(retry.result.workflowData?.flat()).toHaveLength(1);
	});
});

it('emits while Redis is down, so no event is lost', async () => {
	const trigger = setup();
	await server.stop();
	try {
		const during = await deliver(trigger);
		expect(during.result.workflowData?.flat()).toHaveLength(1);
	} finally {
		await server.resume();
	}
});

it('refuses activation without a Redis credential, naming the fix', async () => {
	const { redis: _redis, ...trigger } = setup();
	await expect(activate({ ...trigger, parameters: { ...trigger.parameters, webhookKind: 'automation' }, queryAuth: { name: 'secret', value: SECRET } })).rejects.toThrow(
		'Choose a Redis credential for the Redis dedup store',
	);
});
