/**
 * Upgrading keeps the window: the dedup state that 0.1.0 saved (test/fixtures/dedup-state-0.1.0.json, made by
 * running 0.1.0's code on fixture deliveries) is read by this version, its events are recognised as
 * duplicates, and the state this version writes back still holds them.
 */
import { readFileSync } from 'fs';
import * as path from 'path';

import { recordDelivery } from '../nodes/ActiveCampaignTrigger/delivery/dedup';
import { decideDelivery, type Decision } from '../nodes/ActiveCampaignTrigger/delivery/receive';
import { DELIVERY_BODIES } from './fixtures/deliveryBodies';
import { EVERY_EVENT_SETTINGS } from './support/receiveSettings';
import { REPO_ROOT } from './support/repository';

const SAVED = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'dedup-state-0.1.0.json'), 'utf8')) as {
	events: string[];
	lastSavedAt: string;
	state: unknown;
};
const SECRET = 'fixture-secret-of-the-upgrade-test';
const MINUTE = 60_000;
const savedAt = Date.parse(SAVED.lastSavedAt);
const bodyOf = (event: string) => DELIVERY_BODIES.find((body) => body.event === event)!.body;

/**
 * One delivery as the node's webhook() decides it, carrying the static data like n8n does. Each test is its
 * own node (scope): the in-process claims of one must not answer for another.
 */
function deliver(node: { scope: string; state: unknown }, event: string, now: number): Decision['outcome']['action'] {
	const decision = decideDelivery(
		{ rawBody: bodyOf(event), contentType: 'application/x-www-form-urlencoded', givenSecret: SECRET },
		SECRET,
		EVERY_EVENT_SETTINGS,
		{ scope: node.scope, state: node.state, now },
	);
	if (decision.dedupState) node.state = decision.dedupState;
	return decision.outcome.action;
}

it("recognises every event 0.1.0's saved state remembers, and keeps them in the state it writes", () => {
	expect(SAVED.events).toHaveLength(6);
	expect((SAVED.state as { v: number }).v).toBe(1);
	const node = { scope: 'wf-upgrade:node-1:webhook', state: structuredClone(SAVED.state) };
	const later = savedAt + 20 * MINUTE;
	expect(SAVED.events.map((event) => deliver(node, event, later))).toEqual(SAVED.events.map(() => 'duplicate'));

	// A new event is emitted and written back; the state is then this version's, and still holds the old ones.
	expect(deliver(node, 'unsubscribe', later)).toBe('emit');
	expect(node.state).not.toEqual(SAVED.state);
	expect(JSON.stringify(node.state).length).toBeLessThanOrEqual(32 * 1024);
	// Another scope has none of this one's in-process claims: as after a restart, only the state answers.
	const restarted = { scope: 'wf-upgrade-restarted:node-1:webhook', state: JSON.parse(JSON.stringify(node.state)) as unknown };
	expect([...SAVED.events, 'unsubscribe'].map((event) => deliver(restarted, event, later + MINUTE))).toEqual(
		[...SAVED.events, 'unsubscribe'].map(() => 'duplicate'),
	);
});

it("lets 0.1.0's entries expire with their window", () => {
	// `subscribe` was first seen at 10:01, `sms_reply` at 10:06: at 11:03 only the first is outside the hour.
	const node = { scope: 'wf-upgrade-expiry:node-1:webhook', state: structuredClone(SAVED.state) };
	const at = Date.parse('2026-12-01T11:03:00Z');
	expect(deliver(node, 'subscribe', at)).toBe('emit');
	expect(deliver(node, 'sms_reply', at)).toBe('duplicate');
});

describe("0.1.0's fingerprints", () => {
	const windowMs = 60 * MINUTE;
	const fpOf = (i: number) => i.toString(16).padStart(16, '0');

	it('are looked up only while a table read from 0.1.0 can hold live entries, and the mark then goes', () => {
		const calls: number[] = [];
		const legacy = (i: number) => () => {
			calls.push(i);
			return fpOf(1000 + i);
		};
		const readAt = savedAt + MINUTE;
		const first = recordDelivery(SAVED.state, 'wf-legacy:n:webhook', fpOf(1), readAt, { windowMs }, legacy(1));
		expect(first.duplicate).toBe(false);
		expect(first.state?.legacyUntil).toBe(Math.floor(readAt / 1000) + windowMs / 1000);

		const within = recordDelivery(first.state, 'wf-legacy:n:webhook', fpOf(2), readAt + 30 * MINUTE, { windowMs }, legacy(2));
		expect(within.state?.legacyUntil).toBe(first.state?.legacyUntil);

		const after = recordDelivery(within.state, 'wf-legacy:n:webhook', fpOf(3), readAt + 61 * MINUTE, { windowMs }, legacy(3));
		expect(calls).toEqual([1, 2]);
		expect(after.state).toBeDefined();
		expect(after.state).not.toHaveProperty('legacyUntil');
	});

	it('are never computed for a table this version started', () => {
		let called = false;
		const fresh = recordDelivery(undefined, 'wf-legacy-fresh:n:webhook', fpOf(7), savedAt, { windowMs }, () => {
			called = true;
			return fpOf(8);
		});
		expect(fresh.state).not.toHaveProperty('legacyUntil');
		recordDelivery(fresh.state, 'wf-legacy-fresh:n:webhook', fpOf(9), savedAt + MINUTE, { windowMs }, () => {
			called = true;
			return fpOf(10);
		});
		expect(called).toBe(false);
	});
});
