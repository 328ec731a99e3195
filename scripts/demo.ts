/**
 * `npm run demo`: this package inside a real n8n, fed by the ActiveCampaign simulator. Sets everything up
 * (demoSetup.ts), streams a realistic run of events about one a second (demoStream.ts), then leaves the
 * editor open until Ctrl-C, which deactivates the workflow (the webhook is removed from the simulated
 * account) and stops n8n and the simulator.
 *
 *   node .build/scripts/demo.js          interactive
 *   node .build/scripts/demo.js --once   exits after the stream (also DEMO_EXIT=1); exit code 1 when any
 *                                        delivery did not end as expected
 *   DEMO_PORT=5690                       another port for n8n (default 5678; the next port is taken too)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';

import { startDemo, type Demo, type Say } from './demoSetup';
import { demoSteps, streamEvents } from './demoStream';
import { OWNER, REPO_ROOT } from '../test/e2e/harness';

const EXIT_AFTER_STREAM = process.argv.includes('--once') || process.env.DEMO_EXIT === '1';
const PORT = Number(process.env.DEMO_PORT ?? 5678);
const FOLDER = path.join(REPO_ROOT, '.cache', 'demo');
const PACE_MS = 1000;
/** Set in the environment of the process that runs the demo under the interactive supervisor. */
const WORKER_VARIABLE = 'ACTIVECAMPAIGN_DEMO_WORKER';

const say: Say = (line) => console.log(line);

async function main(): Promise<number> {
	if (!EXIT_AFTER_STREAM && process.env[WORKER_VARIABLE] !== '1') return await superviseWorker();
	return await runDemo();
}

/**
 * Ctrl-C in a terminal signals the whole foreground process group, n8n included, and n8n then stops at once
 * without removing its webhooks. So the demo runs in a detached process (its own group, with n8n), and this
 * one turns Ctrl-C into an orderly stop: deactivate, then stop n8n. A second Ctrl-C stops at once.
 */
async function superviseWorker(): Promise<number> {
	const worker = spawn(process.execPath, [__filename, ...process.argv.slice(2)], {
		detached: true,
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		env: { ...process.env, [WORKER_VARIABLE]: '1' },
	});
	let requests = 0;
	const requestStop = () => {
		requests += 1;
		if (!worker.connected) return;
		if (requests > 1) say('Stopping at once: n8n is killed, the webhook may stay registered.');
		worker.send(requests === 1 ? 'stop' : 'stop-now');
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, requestStop);
	const [code] = (await once(worker, 'exit')) as [number | null];
	return code ?? 1;
}

async function runDemo(): Promise<number> {
	const startedAt = Date.now();
	const streamStopped = new AbortController();
	let demo: Demo | undefined;
	let streaming: Promise<unknown> | undefined;
	let stopping: Promise<void> | undefined;
	const stop = (why: string): Promise<void> => {
		stopping ??= (async () => {
			streamStopped.abort();
			say('');
			say(why);
			// Before the demo is up there is nothing to deactivate; the harness kills a starting n8n on exit.
			if (!demo) process.exit(130);
			// The delivery in flight finishes first, so its line comes before the shutdown's.
			await streaming?.catch(() => undefined);
			await demo.stop();
		})();
		return stopping;
	};
	const stopAndExit = (why: string) => void stop(why).finally(() => process.exit(0));
	process.on('message', (message) => (message === 'stop-now' ? process.exit(130) : stopAndExit('Ctrl-C: stopping')));
	process.on('disconnect', () => stopAndExit('The demo\'s terminal went away: stopping'));
	for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopAndExit(`${signal}: stopping`));

	demo = await startDemo({ port: PORT, folder: FOLDER, say });
	say(`Ready in ${Math.round((Date.now() - startedAt) / 1000)} s.`);
	printLogin(demo);

	say('');
	say('Streaming events from the ActiveCampaign simulator, about one a second:');
	const stream = streamEvents(demo, demoSteps(), { paceMs: PACE_MS, say, signal: streamStopped.signal });
	streaming = stream;
	const summary = await stream;
	if (stopping) return await stopping.then(() => 0);

	if (EXIT_AFTER_STREAM) {
		await stop('Done (--once): stopping');
		say(summary.surprises === 0 ? 'Every delivery ended as expected.' : `${summary.surprises} delivery outcome(s) were not as expected.`);
		return summary.surprises === 0 ? 0 : 1;
	}
	say('');
	printLogin(demo);
	say('Open the workflow\'s Executions tab to see each event\'s item. n8n\'s log:');
	say(`  ${demo.n8n.logFile}`);
	say('Press Ctrl-C to stop: the workflow is deactivated first, so its webhook is removed from ActiveCampaign.');
	await new Promise(() => undefined);
	return 0;
}

function printLogin(demo: Demo): void {
	const rule = '-'.repeat(78);
	say(rule);
	say(`  n8n editor:  ${demo.n8n.baseUrl}/workflow/${demo.workflowId}`);
	say(`  log in as:   ${OWNER.email}   password: ${OWNER.password}   (a local demo account)`);
	say(rule);
}

main().then(
	(code) => process.exit(code),
	(error: unknown) => {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	},
);
