/**
 * `node .build/bench/run.js [--smoke]` (after `tsc -p tsconfig.json`): measures what the trigger costs per
 * event, against the floor (`qs.parse`) and against n8n's built-in ActiveCampaign Trigger. See README.md here.
 *
 * The full run writes bench/results.json (and the per-round samples to bench/results.raw.json, not committed);
 * the smoke run writes .build/bench/results.smoke.json, so it never overwrites the committed numbers.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { n8nInstallFolder, type N8nMajor } from '../test/e2e/harness';
import { BODIES } from './bodies';
import { measureDedupCost } from './dedupCost';
import { measureHttpLatency, n8nVersion, type HttpLatency } from './http';
import { compareNamedFields, comparePipelineWithQs, measureHeapGrowth } from './pipeline';
import { measureQueueMode, type QueueOptions, type QueueResult } from './queueMode';
import { barChart, missedGoals, resultsTable, round, type ResultKey, type Results } from './report';
import { FULL, SMOKE } from './settings';

/** This file runs as .build/bench/run.js. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const n8nInstalled = (version: N8nMajor) => fs.existsSync(path.join(n8nInstallFolder(version), 'runtime.json'));

const started = Date.now();
const log = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

/** Variants of P5 that are printed, not written: what the bench favours, and where this node's cost lies. */
const QUEUE_DIAGNOSTICS: Array<{ flag: string; what: string; options: Partial<QueueOptions>; majors?: N8nMajor[] }> = [
	{ flag: '--control', what: 'the built-in node in both places', options: { control: true } },
	{ flag: '--without-copies', what: 'no event delivered twice', options: { withoutCopies: true } },
	{
		flag: '--dedup-off',
		what: 'this node with Deduplicate off, no event delivered twice',
		options: { withoutCopies: true, oursDedupOff: true },
	},
	{
		flag: '--lazy-isolates',
		what: "n8n's N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true, which README recommends for n8n 2.x",
		options: { env: { N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE: 'true' } },
		// The setting exists in n8n 2.x only.
		majors: ['v2'],
	},
];

interface Latency {
	/** The median run's figures. */
	http: HttpLatency;
	/** Each run's ratio. */
	runs: number[];
}

/** P3 in one major: `runs` fresh n8n instances, the median run's figures. */
async function measureLatency(version: N8nMajor, settings: typeof FULL): Promise<Latency> {
	const runs: HttpLatency[] = [];
	for (let run = 1; run <= settings.httpRuns; run++) {
		log(`P3 run ${run} of ${settings.httpRuns}: starting n8n ${n8nVersion(version)}, then ${settings.http.requests} rounds of deliveries`);
		runs.push(await measureHttpLatency(version, BODIES, settings.http));
		log(`P3 run ${run}: ours / built-in ${runs[runs.length - 1].ratio.toFixed(3)}`);
	}
	const http = [...runs].sort((a, b) => a.ratio - b.ratio)[Math.floor((runs.length - 1) / 2)];
	return { http, runs: runs.map((run) => round(run.ratio, 3)) };
}

function latencyDetails(http: HttpLatency) {
	return {
		measuredAt: new Date().toISOString(),
		requestsEach: http.requests,
		medianMs: Object.fromEntries(Object.entries(http.medianMs).map(([target, ms]) => [target, round(ms, 3)])),
		pairedRatio: round(http.pairedRatio, 3),
		ratioByBody: Object.fromEntries(Object.entries(http.ratioByBody).map(([name, ratio]) => [name, round(ratio, 3)])),
		noDedupOverBuiltIn: round(http.noDedupRatio, 3),
		oursOverBuiltInWithSameStaticData: round(http.sameStaticDataRatio, 3),
		oursAtVersion1OverBuiltIn: round(http.versionOneRatio, 3),
		oursExecutions: http.oursExecutions,
		n8nStartupSeconds: round(http.n8nStartupMs / 1000, 1),
	};
}

/** P3's keys and details from what ran in each major; a major that did not run is null, with why. */
function latencyResults(latency: Partial<Record<N8nMajor, Latency>>, skipped: Partial<Record<N8nMajor, string>> = {}) {
	const details = (version: N8nMajor) =>
		latency[version] ? latencyDetails(latency[version].http) : { skipped: skipped[version] ?? 'not run in this mode' };
	return {
		keys: {
			p3_ratio_latency: latency.v1 ? round(latency.v1.http.ratio, 3) : null,
			p3_runs: latency.v1?.runs ?? null,
			p3_ratio_latency_v2: latency.v2 ? round(latency.v2.http.ratio, 3) : null,
			p3_runs_v2: latency.v2?.runs ?? null,
		},
		details: { p3: details('v1'), p3_v2: details('v2') },
	};
}

/** Merges one part's keys and details into the committed bench/results.json, and prints the table. */
function mergeIntoResults(part: string, keys: Partial<Results>, details: Record<string, unknown>): void {
	const file = path.join(REPO_ROOT, 'bench', 'results.json');
	const results = JSON.parse(fs.readFileSync(file, 'utf8')) as Results;
	Object.assign(results, keys);
	Object.assign(results.details, details);
	fs.writeFileSync(file, `${JSON.stringify(results, null, '\t')}\n`);
	console.log(`\n${resultsTable(results)}\n\nWritten: ${path.relative(REPO_ROOT, file)} (${part} only)`);
}

/** P3 alone, in both majors, merged into the committed bench/results.json (`npm run bench:latency`). */
async function latencyOnly(): Promise<void> {
	const { keys, details } = latencyResults({ v1: await measureLatency('v1', FULL), v2: await measureLatency('v2', FULL) });
	mergeIntoResults('P3', { ...keys, n8n_version_v2: n8nVersion('v2') }, details);
}

/** The majors `--major v1` or `--major v2` names, else `all`. */
function chosenMajors(all: N8nMajor[]): N8nMajor[] {
	if (process.argv.some((arg) => arg.startsWith('--major='))) throw new Error('Write --major v1 or --major v2, with a space');
	const at = process.argv.indexOf('--major');
	if (at < 0) return all;
	const major = process.argv[at + 1];
	if (major !== 'v1' && major !== 'v2') throw new Error(`--major takes v1 or v2, not ${major ?? 'nothing'}`);
	return [major];
}

/**
 * P5 alone, merged into the committed bench/results.json (`npm run bench:queue`), in both majors or the one
 * `--major` names. With `--control`, the built-in node takes this node's place too: the ratio then shows what the
 * bench itself favours. `--without-copies` and `--dedup-off` take the saved executions, then the Redis commands,
 * out of the comparison; `--lazy-isolates` runs n8n with lazy expression isolates. The variants are printed, not
 * written.
 */
async function queueOnly(): Promise<void> {
	const chosen = QUEUE_DIAGNOSTICS.filter(({ flag }) => process.argv.includes(flag));
	if (chosen.length > 1) throw new Error(`Choose one of ${chosen.map(({ flag }) => flag).join(', ')} per run`);
	const [diagnostic] = chosen;
	const queue: Partial<Record<N8nMajor, QueueResult>> = {};
	for (const version of chosenMajors(diagnostic?.majors ?? ['v1', 'v2'])) queue[version] = await measureQueue({ ...FULL.queue, ...diagnostic?.options, version });
	const { keys, details } = queueResults(queue);
	if (diagnostic) {
		console.log(`\nDiagnostic run (${diagnostic.what}): ${JSON.stringify({ ...keys, details }, null, '\t')}`);
		return;
	}
	mergeIntoResults('P5', keys, details);
}

async function measureQueue(options: QueueOptions): Promise<QueueResult> {
	log(
		`P5: queue-mode n8n ${n8nVersion(options.version)} (PostgreSQL, Redis, 2 webhook processes, 1 worker), ` +
			`${options.passes} passes of ${options.events} events each`,
	);
	return await measureQueueMode(options, log);
}

/** P5's keys in results.json, per major: named once, so a misspelt one does not compile. */
const P5_KEYS = {
	v1: { ratio: 'p5_throughput_ratio', runs: 'p5_runs', extra: 'p5_extra_executions', writes: 'p5_static_writes_per_event', details: 'p5' },
	v2: { ratio: 'p5_throughput_ratio_v2', runs: 'p5_runs_v2', extra: 'p5_extra_executions_v2', writes: 'p5_static_writes_per_event_v2', details: 'p5_v2' },
} as const satisfies Record<N8nMajor, { ratio: ResultKey; runs: keyof Results; extra: ResultKey; writes: ResultKey; details: string }>;

/**
 * P5's keys and details from what ran in each major. A major that did not run is left out, so a merge keeps
 * its figures; with `nullWhereNotRun` (a whole new results file) its keys are null instead.
 */
function queueResults(
	queue: Partial<Record<N8nMajor, QueueResult>>,
	nullWhereNotRun = false,
): { keys: Partial<Results>; details: Record<string, unknown> } {
	const keys: Partial<Results> = {};
	const details: Record<string, unknown> = {};
	for (const version of ['v1', 'v2'] as const) {
		const result = queue[version];
		const names = P5_KEYS[version];
		if (!result) {
			if (nullWhereNotRun) {
				Object.assign(keys, { [names.ratio]: null, [names.runs]: null, [names.extra]: null, [names.writes]: null });
				details[names.details] = { skipped: 'not run in this mode' };
			}
			continue;
		}
		keys[names.ratio] = round(result.throughputRatio, 3);
		keys[names.runs] = result.passRatios.map((ratio) => round(ratio, 3));
		keys[names.extra] = result.extraExecutions;
		keys[names.writes] = round(result.staticWritesPerEvent, 3);
		details[names.details] = {
			n8nVersion: n8nVersion(version),
			deliveries: result.deliveries,
			distinctEvents: result.distinctEvents,
			deliveriesPerSecond: { ours: round(result.perSecond.ours, 1), builtIn: round(result.perSecond.builtIn, 1) },
			cpuMsPerDelivery: result.cpuMsPerDelivery,
			answeredOnlyRatio: round(result.answeredOnlyRatio, 3),
			queuedAtAnswer: { ours: round(result.queuedAtAnswer.ours, 1), builtIn: round(result.queuedAtAnswer.builtIn, 1) },
			enqueueAfterAnswerMs: result.enqueueAfterAnswer,
		};
	}
	return { keys, details };
}

async function main(): Promise<void> {
	if (process.argv.includes('--queue-only')) return await queueOnly();
	if (process.argv.includes('--latency-only')) return await latencyOnly();
	const smoke = process.argv.includes('--smoke');
	const settings = smoke ? SMOKE : FULL;
	const micro = { rounds: settings.rounds, warmupRounds: settings.warmupRounds };
	log(`${settings.mode} run, node ${process.version}`);

	// First, while nothing has touched the node's modules: its heap growth counts everything it keeps.
	log(`P4: ${settings.heapEvents.toLocaleString('en')} pipeline events`);
	const heap = measureHeapGrowth(BODIES, { events: settings.heapEvents });

	const pipeline = BODIES.map((body) => {
		log(`P1: ${body.label}, ${settings.rounds} rounds of ${settings.pipelineIterations[body.name]}`);
		return comparePipelineWithQs(body, { ...micro, iterations: settings.pipelineIterations[body.name] });
	});
	const pipelineRatio = (name: string) => round(pipeline.find((entry) => entry.body.name === name)!.ratio, 3);
	const typical = BODIES.find((body) => body.name === 'typical')!;
	log(`P1: ${typical.label} with Custom Field Keys by title (names cached) against ids, ${settings.rounds} rounds`);
	const named = compareNamedFields(typical, { ...micro, iterations: settings.pipelineIterations.typical });

	log(`P2: dedup decision with 100 and ${settings.largeKeys.toLocaleString('en')} remembered keys`);
	const dedup = measureDedupCost({ ...micro, largeKeys: settings.largeKeys });

	// P3 in each major; the smoke run takes what is installed, the full run needs both.
	const latency: Partial<Record<N8nMajor, Latency>> = {};
	const latencySkipped: Partial<Record<N8nMajor, string>> = {};
	for (const version of ['v1', 'v2'] as const) {
		if (!n8nInstalled(version)) {
			latencySkipped[version] = `n8n ${version} is not installed (scripts/install-n8n.sh ${version})`;
			if (!smoke) throw new Error(`P3 needs a real n8n: ${latencySkipped[version]}`);
			log(`P3 skipped: ${latencySkipped[version]}`);
			continue;
		}
		latency[version] = await measureLatency(version, settings);
	}
	const http = latency.v1?.http;
	const p3 = latencyResults(latency, latencySkipped);
	// Queue mode needs PostgreSQL and Redis; the smoke run (CI's bench check) leaves it to npm run test:queue.
	const queue: Partial<Record<N8nMajor, QueueResult>> = {};
	if (!smoke) for (const version of ['v1', 'v2'] as const) queue[version] = await measureQueue({ ...settings.queue, version });
	const p5 = queueResults(queue, true);

	const results: Results = {
		p1_ratio_typical: pipelineRatio('typical'),
		p1_ratio_200fields: pipelineRatio('200fields'),
		p1_ratio_deal_update: pipelineRatio('deal_update'),
		p1_ratio_named_fields: round(named.ratio, 3),
		p2_ratio_100k_vs_100: round(dedup.decision.ratio, 3),
		p2_state_bytes: heap.stateBytes,
		...p3.keys,
		p4_heap_growth_mb: round(heap.growthMb, 2),
		...(p5.keys as Pick<Results, (typeof P5_KEYS)[N8nMajor]['ratio' | 'runs' | 'extra' | 'writes']>),
		node_version: process.version,
		n8n_version: n8nVersion('v1'),
		n8n_version_v2: n8nVersion('v2'),
		runs: settings.rounds,
		mode: settings.mode,
		measured_at: new Date().toISOString(),
		details: {
			p1: Object.fromEntries(
				pipeline.map((entry) => [
					entry.body.name,
					{
						bytes: entry.body.bytes,
						iterationsPerRound: entry.iterations,
						pipelineUsPerEvent: round(entry.medianNs.pipeline / entry.iterations / 1000, 2),
						qsParseUsPerEvent: round(entry.medianNs['qs.parse'] / entry.iterations / 1000, 2),
					},
				]),
			),
			p1_named_fields: {
				namesUsPerEvent: round(named.medianNs.names / named.iterations / 1000, 2),
				idsUsPerEvent: round(named.medianNs.ids / named.iterations / 1000, 2),
			},
			p2: {
				eventsPerRound: dedup.iterations,
				decisionUsPerEvent100k: round(dedup.decision.medianNs['100000 keys'] / dedup.iterations / 1000, 3),
				decisionUsPerEvent100: round(dedup.decision.medianNs['100 keys'] / dedup.iterations / 1000, 3),
				tableOnlyRatio100kVs100: round(dedup.table.ratio, 3),
				stateBytesWith100kKeys: dedup.stateBytes,
				persistUsPerWrite: round(dedup.persistUs, 1),
			},
			...p3.details,
			...p5.details,
			p4: {
				events: heap.events,
				emitted: heap.emitted,
				duplicates: heap.duplicates,
				heapBeforeMb: round(heap.heapBeforeMb, 2),
				heapAfterMb: round(heap.heapAfterMb, 2),
			},
		},
	};

	const raw = {
		p1: Object.fromEntries(pipeline.map((entry) => [entry.body.name, entry.roundRatios])),
		p2: { decision: dedup.decision.roundRatios, table: dedup.table.roundRatios },
		p3: http?.samples ?? null,
		p3_v2: latency.v2?.http.samples ?? null,
	};
	const outputs = smoke
		? { results: path.join(__dirname, 'results.smoke.json') }
		: { results: path.join(REPO_ROOT, 'bench', 'results.json'), raw: path.join(REPO_ROOT, 'bench', 'results.raw.json') };
	fs.writeFileSync(outputs.results, `${JSON.stringify(results, null, '\t')}\n`);
	if (outputs.raw) fs.writeFileSync(outputs.raw, `${JSON.stringify(raw)}\n`);

	console.log(`\n${resultsTable(results)}\n`);
	console.log('Per event, median (µs):');
	console.log(
		barChart(
			pipeline.flatMap((entry) => [
				{ label: `${entry.body.name} qs.parse`, value: entry.medianNs['qs.parse'] / entry.iterations / 1000 },
				{ label: `${entry.body.name} pipeline`, value: entry.medianNs.pipeline / entry.iterations / 1000 },
			]),
			'µs',
		),
	);
	if (http) {
		console.log('\nPer delivery in n8n, median (ms):');
		console.log(
			barChart(
				[
					{ label: 'built-in', value: http.medianMs.builtIn },
					{ label: 'this package', value: http.medianMs.ours },
					{ label: 'this package, dedup off', value: http.medianMs.oursNoDedup },
					{ label: 'built-in, 32 KB static data', value: http.medianMs.builtInWithTable },
				],
				'ms',
			),
		);
	}
	const missed = missedGoals(results);
	console.log(`\n${missed.length === 0 ? 'Every goal met.' : `Missed: ${missed.join(', ')}.`} Written: ${path.relative(REPO_ROOT, outputs.results)}`);
	if (smoke) console.log('Smoke run: the numbers only show that the bench executes.');
}

/** P4 reads the heap after full collections, which needs --expose-gc: restart with it when missing. */
if (typeof global.gc !== 'function') {
	const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, ...process.argv.slice(2)], {
		stdio: 'inherit',
	});
	process.exit(child.status ?? 1);
} else {
	main().catch((error: unknown) => {
		console.error(error);
		process.exit(1);
	});
}
