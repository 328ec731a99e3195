/**
 * P1 (the whole per-event pipeline against a bare `qs.parse`) and P4 (heap growth over a million events).
 * Both call `decideDelivery` as the node's webhook() does, with a real secret, every event chosen and dedup
 * on, carrying the dedup state from one event to the next as the node's static data would.
 */
import { parse as qsParse } from 'qs';

import { buildFieldNames, nameFields } from '../nodes/ActiveCampaignTrigger/delivery/fieldNames';
import type { DeliveryItem } from '../nodes/ActiveCampaignTrigger/delivery/normalise';
import { decideDelivery, type Decision } from '../nodes/ActiveCampaignTrigger/delivery/receive';
import { nextSecret } from '../nodes/ActiveCampaignTrigger/lifecycle/secret';
import { EVERY_EVENT_SETTINGS } from '../test/support/receiveSettings';

import type { BodyTemplate } from './bodies';
import { compareInterleaved, type Comparison } from './measure';

const SECRET = nextSecret('bench-api-key', { workflowId: 'bench', nodeId: 'bench', webhookPath: 'bench/webhook' }, undefined);
const CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** One trigger node's view of the pipeline: its dedup scope, its static data and its clock. */
export class PipelineRunner {
	state: unknown = undefined;
	private now = Date.parse('2024-05-14T14:00:00Z');

	constructor(private readonly scope: string) {}

	/** Delivers one body; `stepMs` is how far the clock moves before it arrives. */
	deliver(body: string, stepMs = 1): Decision {
		this.now += stepMs;
		const decision = decideDelivery({ rawBody: body, contentType: CONTENT_TYPE, givenSecret: SECRET }, SECRET, EVERY_EVENT_SETTINGS, {
			scope: this.scope,
			state: this.state,
			now: this.now,
		});
		if (decision.dedupState) this.state = decision.dedupState;
		return decision;
	}
}

export interface PipelineComparison extends Comparison {
	body: BodyTemplate;
	iterations: number;
}

/** The same `iterations` new bodies for every contender of a round, new ones each round. */
function bodiesPerRound(body: BodyTemplate, iterations: number): (round: number) => string[] {
	let serial = 0;
	let bodies: string[] = [];
	let lastRound = -1;
	return (round) => {
		if (round !== lastRound) {
			bodies = Array.from({ length: iterations }, () => body.vary(++serial));
			lastRound = round;
		}
		return bodies;
	};
}

/** Times `runner` over a round's bodies, each of which must be emitted; `then`, timed with it, sees each item. */
function timedPipeline(runner: PipelineRunner, bodiesFor: (round: number) => string[], then?: (item: DeliveryItem) => void) {
	return (round: number): number => {
		const batch = bodiesFor(round);
		const start = process.hrtime.bigint();
		for (const text of batch) {
			const { outcome } = runner.deliver(text);
			if (outcome.action !== 'emit') throw new Error(`Expected an emitted item, got ${JSON.stringify(outcome)}`);
			then?.(outcome.item);
		}
		return Number(process.hrtime.bigint() - start);
	};
}

/**
 * Each round makes `iterations` new bodies, then times the pipeline and `qs.parse` (qs's default options, the
 * floor any parser of these bodies pays) over exactly those bodies.
 */
export function comparePipelineWithQs(
	body: BodyTemplate,
	options: { rounds: number; warmupRounds: number; iterations: number },
): PipelineComparison {
	const bodiesFor = bodiesPerRound(body, options.iterations);
	let keys = 0;
	const comparison = compareInterleaved(
		{ name: 'pipeline', runRound: timedPipeline(new PipelineRunner(`bench:p1:${body.name}`), bodiesFor) },
		{
			name: 'qs.parse',
			runRound: (round) => {
				const batch = bodiesFor(round);
				const start = process.hrtime.bigint();
				for (const text of batch) keys += Object.keys(qsParse(text)).length;
				return Number(process.hrtime.bigint() - start);
			},
		},
		options,
	);
	// Reading the sink keeps qs.parse's result alive, so its work cannot be optimised away.
	if (keys === 0) throw new Error('qs.parse returned nothing');
	return { ...comparison, body, iterations: options.iterations };
}

/** An account's custom fields, all known to the cache (warm): ids 1-300, titles and tags. */
const WARM_NAMES = buildFieldNames(
	Array.from({ length: 300 }, (_, index) => ({ id: String(index + 1), title: `Custom field ${index + 1}`, tag: `custom_field_${index + 1}` })),
	Array.from({ length: 40 }, (_, index) => ({ id: String(index + 1), title: `Deal field ${index + 1}`, tag: `deal_field_${index + 1}` })),
);

/**
 * The pipeline with Custom Field Keys by title (names cached, as after activation) against the same pipeline
 * keeping ids, over the same new bodies; each has its own dedup scope, so both take the "new event" path.
 */
export function compareNamedFields(body: BodyTemplate, options: { rounds: number; warmupRounds: number; iterations: number }): PipelineComparison {
	const bodiesFor = bodiesPerRound(body, options.iterations);
	let unknown = 0;
	const comparison = compareInterleaved(
		{
			name: 'names',
			runRound: timedPipeline(new PipelineRunner(`bench:p1-named:${body.name}`), bodiesFor, (item) => {
				if (nameFields(item, WARM_NAMES, 'title').unknown) unknown++;
			}),
		},
		{ name: 'ids', runRound: timedPipeline(new PipelineRunner(`bench:p1-ids:${body.name}`), bodiesFor) },
		options,
	);
	if (unknown > 0) throw new Error(`${unknown} items carried fields the warm names did not know`);
	return { ...comparison, body, iterations: options.iterations };
}

export interface HeapGrowth {
	events: number;
	growthMb: number;
	heapBeforeMb: number;
	heapAfterMb: number;
	/** JSON length of the dedup state after the run, in bytes. */
	stateBytes: number;
	emitted: number;
	duplicates: number;
}

function collectedHeapBytes(): number {
	const gc = global.gc;
	if (typeof gc !== 'function') throw new Error('Run node with --expose-gc (run.js restarts itself with it)');
	for (let i = 0; i < 3; i++) gc();
	return process.memoryUsage().heapUsed;
}

const MB = 1024 * 1024;

/**
 * The mix P4 delivers, by position in each run of twenty: mostly typical contact events (a campaign burst),
 * one of each large body, and every tenth a repeat of the one before (at-least-once delivery).
 */
const TYPICAL_RUN = Array<BodyTemplate['name']>(8).fill('typical');
const HEAP_MIX: ReadonlyArray<BodyTemplate['name'] | 'repeat'> = [
	'200fields',
	...TYPICAL_RUN,
	'repeat',
	'deal_update',
	...TYPICAL_RUN,
	'repeat',
];

/**
 * Runs `events` deliveries through one node, each a new body but the repeats (see {@link HEAP_MIX}). The clock
 * moves 3.6 ms per event, so a million events span the default one-hour window. Heap is read after full
 * collections before the first event and after the last, so the growth includes everything the node keeps:
 * the in-process claims (filled to their limit), the dedup state, lazily built schemas and compiled code. Run
 * it before anything else touches the node's modules.
 */
export function measureHeapGrowth(bodies: readonly BodyTemplate[], options: { events: number }): HeapGrowth {
	const byName = new Map(bodies.map((body) => [body.name, body]));
	const runner = new PipelineRunner('bench:p4');
	let serial = 0;
	let previous = '';
	let emitted = 0;
	let duplicates = 0;

	const before = collectedHeapBytes();
	for (let index = 0; index < options.events; index++) {
		const pick = HEAP_MIX[index % HEAP_MIX.length];
		const text = pick === 'repeat' ? previous : byName.get(pick)!.vary(++serial);
		previous = text;
		const { outcome } = runner.deliver(text, 3.6);
		if (outcome.action === 'emit') emitted++;
		else if (outcome.action === 'duplicate') duplicates++;
		else throw new Error(`Unexpected outcome ${JSON.stringify(outcome)}`);
	}
	const after = collectedHeapBytes();
	return {
		events: options.events,
		growthMb: (after - before) / MB,
		heapBeforeMb: before / MB,
		heapAfterMb: after / MB,
		stateBytes: Buffer.byteLength(JSON.stringify(runner.state)),
		emitted,
		duplicates,
	};
}
