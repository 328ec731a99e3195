/**
 * `node .build/bench/profile.js [typical|200fields|deal_update] [seconds]`: where one body's pipeline time
 * goes. Runs the pipeline on new bodies (claims and dedup table at their steady state) under `--cpu-prof`,
 * then prints the time per pipeline step (inclusive) and the functions with the most self time. Inlining is
 * off while profiling, so the split between steps is exact but the total is a little slower than in P1.
 * The profile is kept in .cache/bench/profiles/ for Chrome DevTools or speedscope.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { BODIES } from './bodies';
import { PipelineRunner } from './pipeline';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PROFILE_DIR = path.join(REPO_ROOT, '.cache', 'bench', 'profiles');

/** The pipeline's steps, as called by decideDelivery: a sample is counted for the outermost one on its stack. */
const STEPS = ['secretsMatch', 'parseDeliveryBody', 'toItem', 'filterReason', 'fingerprint', 'recordDelivery'];

interface CallFrame {
	functionName: string;
	url: string;
	lineNumber: number;
}

interface ProfileNode {
	id: number;
	callFrame: CallFrame;
	children?: number[];
}

interface CpuProfile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
}

function where(frame: CallFrame): string {
	const file = frame.url.replace(/^file:\/\//, '');
	const short = file.includes('node_modules/')
		? file.slice(file.lastIndexOf('node_modules/') + 'node_modules/'.length)
		: path.relative(REPO_ROOT, file) || '(native)';
	return `${frame.functionName || '(anonymous)'} ${short}:${frame.lineNumber + 1}`;
}

function summarise(profile: CpuProfile): void {
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const parent = new Map<number, number>();
	for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

	const steps = new Map<string, number>();
	const self = new Map<string, number>();
	let inPipeline = 0;
	let total = 0;
	profile.samples.forEach((leaf, index) => {
		const micros = profile.timeDeltas[index] ?? 0;
		total += micros;
		const leafName = where(byId.get(leaf)!.callFrame);
		self.set(leafName, (self.get(leafName) ?? 0) + micros);
		let step: string | undefined;
		let pipeline = false;
		for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
			const name = byId.get(id)!.callFrame.functionName;
			if (STEPS.includes(name)) step = name;
			if (name === 'decideDelivery') pipeline = true;
		}
		if (!pipeline) return;
		inPipeline += micros;
		const key = step ?? 'decideDelivery itself';
		steps.set(key, (steps.get(key) ?? 0) + micros);
	});

	const percent = (micros: number, of: number) => `${((micros / of) * 100).toFixed(1).padStart(5)} %`;
	console.log(`\nPipeline steps (inclusive, share of the ${(inPipeline / 1000).toFixed(0)} ms spent in decideDelivery):`);
	for (const [name, micros] of [...steps].sort((a, b) => b[1] - a[1])) console.log(`  ${percent(micros, inPipeline)}  ${name}`);
	console.log(`\nTop self time (share of all ${(total / 1000).toFixed(0)} ms sampled, GC and the bench loop included):`);
	for (const [name, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${percent(micros, total)}  ${name}`);
}

function runPipeline(name: string, seconds: number): void {
	const body = BODIES.find((candidate) => candidate.name === name);
	if (!body) throw new Error(`Unknown body "${name}": one of ${BODIES.map((candidate) => candidate.name).join(', ')}`);
	const runner = new PipelineRunner(`bench:profile:${name}`);
	const deadline = Date.now() + seconds * 1000;
	let events = 0;
	while (Date.now() < deadline) {
		for (let i = 0; i < 100; i++) runner.deliver(body.vary(++events));
	}
	console.log(`${events} ${name} events in ${seconds} s: ${((seconds * 1e6) / events).toFixed(1)} µs per event (body creation included)`);
}

const [name = 'typical', seconds = '10'] = process.argv.slice(2);
if (process.env.BENCH_PROFILING === '1') {
	runPipeline(name, Number(seconds));
} else {
	fs.rmSync(PROFILE_DIR, { recursive: true, force: true });
	const child = spawnSync(
		process.execPath,
		// Without inlining, each function's samples stay its own instead of landing in decideDelivery.
		['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, '--no-turbo-inlining', __filename, name, seconds],
		{ stdio: 'inherit', env: { ...process.env, BENCH_PROFILING: '1' } },
	);
	if (child.status !== 0) process.exit(child.status ?? 1);
	const [file] = fs.readdirSync(PROFILE_DIR).filter((entry) => entry.endsWith('.cpuprofile'));
	summarise(JSON.parse(fs.readFileSync(path.join(PROFILE_DIR, file), 'utf8')) as CpuProfile);
	console.log(`\nProfile: ${path.relative(REPO_ROOT, path.join(PROFILE_DIR, file))}`);
}
