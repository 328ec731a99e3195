/**
 * P2: what one dedup decision costs with 100 remembered keys against 100,000, and what the state costs to
 * persist. The decision is what `decideDelivery` does after fingerprinting: `recordDelivery` (the in-process
 * claim, the persisted table, and the claims a concurrent save may have erased).
 */
import { randomBytes } from 'node:crypto';

import * as dedup from '../nodes/ActiveCampaignTrigger/delivery/dedup';

import { compareInterleaved, median, timeNs, type Comparison } from './measure';

type DedupModule = typeof dedup;

const WINDOW = { windowMs: dedup.DEFAULT_WINDOW_MS };
const SCOPE = 'bench:p2';

/**
 * The in-process claims live in a module-level map, so two maps of different sizes need two instances of the
 * module: each call loads a new one, with its own empty map.
 */
function freshDedupModule(): DedupModule {
	const file = require.resolve('../nodes/ActiveCampaignTrigger/delivery/dedup');
	delete require.cache[file];
	const loaded = require(file) as DedupModule;
	delete require.cache[file];
	return loaded;
}

const newFingerprints = (count: number) => Array.from({ length: count }, () => randomBytes(8).toString('hex'));

/** A node that has remembered `keys` distinct events in the last minutes, its state as loaded from the database. */
interface Remembering {
	module: DedupModule;
	state: unknown;
	now: number;
}

function remembering(keys: number, start: number): Remembering {
	const module = freshDedupModule();
	let state: unknown;
	let now = start;
	for (const fp of newFingerprints(keys)) {
		now += 10;
		state = module.recordDelivery(state, SCOPE, fp, now, WINDOW).state ?? state;
	}
	// n8n hands the node a copy parsed from the database on every request.
	return { module, state: JSON.parse(JSON.stringify(state)) as unknown, now };
}

/**
 * Each event is new. With claims, a round runs `recordDelivery` as sequential requests do: each starts from the
 * state the one before saved, beginning with the prefilled state (so a round adds `iterations` keys to
 * `keys`). Without claims, each event is checked against the same prefilled state by `checkAndRemember`
 * alone, so every measured event sees exactly `keys` remembered keys. The claims do accumulate; `iterations`
 * is chosen so the small map stays far below its limit while the large one is at it (forgetting its oldest
 * claim per event).
 */
function decisionCost(node: Remembering, fingerprints: readonly string[], withClaims: boolean): number {
	return timeNs(() => {
		let now = node.now;
		let state = node.state;
		for (const fp of fingerprints) {
			now += 1;
			if (withClaims) {
				const recorded = node.module.recordDelivery(state, SCOPE, fp, now, WINDOW);
				if (recorded.duplicate || !recorded.state) throw new Error('A new key was a duplicate');
				state = recorded.state;
			} else if (node.module.checkAndRemember(node.state, fp, now, WINDOW).duplicate) {
				throw new Error('A new key was a duplicate');
			}
		}
	});
}

export interface DedupCost {
	/** Claims and table, 100,000 keys over 100. */
	decision: Comparison;
	/** The table alone, 100,000 keys over 100. */
	table: Comparison;
	iterations: number;
	/** JSON length of the state with 100,000 keys remembered. */
	stateBytes: number;
	/** Microseconds to stringify and parse that state once, as n8n does per request that changes it. */
	persistUs: number;
}

export function measureDedupCost(options: { rounds: number; warmupRounds: number; largeKeys: number }): DedupCost {
	const start = Date.parse('2024-05-14T14:00:00Z');
	const small = remembering(100, start);
	const large = remembering(options.largeKeys, start);
	const totalRounds = options.rounds + options.warmupRounds;
	const iterations = Math.floor((dedup.IN_PROCESS_CLAIM_LIMIT - 100 - 1) / totalRounds);

	let batch: string[] = [];
	let batchRound = -1;
	const batchFor = (round: number) => {
		if (round !== batchRound) {
			batch = newFingerprints(iterations);
			batchRound = round;
		}
		return batch;
	};
	const contenders = (withClaims: boolean) =>
		[
			{ name: '100000 keys', runRound: (round: number) => decisionCost(large, batchFor(round), withClaims) },
			{ name: '100 keys', runRound: (round: number) => decisionCost(small, batchFor(round), withClaims) },
		] as const;

	const decision = compareInterleaved(...contenders(true), options);
	// Without claims nothing accumulates: the same fingerprints can be used for more rounds.
	const table = compareInterleaved(...contenders(false), options);

	const staticData = { dedup: large.state };
	const persistRuns = Array.from({ length: 200 }, () => timeNs(() => JSON.parse(JSON.stringify(staticData))) / 1000);
	return {
		decision,
		table,
		iterations,
		stateBytes: Buffer.byteLength(JSON.stringify(large.state)),
		persistUs: median(persistRuns),
	};
}
