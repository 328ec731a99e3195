/**
 * How much work each part does: the full run (on demand, a few minutes plus an n8n start) and the smoke run
 * (CI: proves the bench still executes, in seconds; its numbers mean nothing).
 */
import type { BodyTemplate } from './bodies';
import type { HttpOptions } from './http';
import type { QueueOptions } from './queueMode';

export interface BenchSettings {
	mode: 'full' | 'smoke';
	/** Rounds each micro-benchmark median is taken over (after its warm-up rounds). */
	rounds: number;
	warmupRounds: number;
	/** Bodies per P1 round, sized so a round takes some tens of milliseconds. */
	pipelineIterations: Record<BodyTemplate['name'], number>;
	/** Keys remembered by the "large" P2 node. */
	largeKeys: number;
	heapEvents: number;
	/** P3; skipped in smoke mode when n8n is not installed. */
	http: HttpOptions;
	/** P3 runs, each in a fresh n8n: its ratio moves by about 0.05 from run to run, so the median is reported. */
	httpRuns: number;
	/** P5 in each major, full runs only (needs PostgreSQL and Redis). */
	queue: Omit<QueueOptions, 'version'>;
}

export const FULL: BenchSettings = {
	mode: 'full',
	rounds: 25,
	warmupRounds: 3,
	pipelineIterations: { typical: 2000, '200fields': 150, deal_update: 600 },
	largeKeys: 100_000,
	heapEvents: 1_000_000,
	http: { warmup: 30, requests: 300, gapMs: 30 },
	httpRuns: 3,
	queue: { events: 2000, passes: 3, chunk: 220, inFlight: 16 },
};

export const SMOKE: BenchSettings = {
	mode: 'smoke',
	rounds: 3,
	warmupRounds: 1,
	pipelineIterations: { typical: 100, '200fields': 10, deal_update: 30 },
	largeKeys: 5_000,
	heapEvents: 5_000,
	http: { warmup: 3, requests: 12, gapMs: 10 },
	httpRuns: 1,
	queue: { events: 50, passes: 1, chunk: 55, inFlight: 4 },
};
