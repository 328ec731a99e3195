/**
 * Drives a real n8n, installed by `scripts/install-n8n.sh <v1|v2>`, for the end-to-end tests and the demo.
 *
 * Everything after start goes through n8n's own HTTP interfaces, the same on both majors, while n8n runs (the
 * CLI imports, `n8n import:workflow`, cost a whole n8n process start each and only work while n8n is stopped):
 * - workflows, activation and executions through the public API (`/api/v1`, API key).
 * - executions come from `/api/v1/executions?includeData=true`, not from the SQLite file: the sqlite3 addon
 *   of the v2 install is built for Node 24 and cannot load in the tests' Node 20, the tables differ between
 *   majors, and the API hands back the execution data already decoded from n8n's "flatted" format.
 * - the internal REST API (`/rest`, session cookie, as the editor uses it) for the rest: the owner account and
 *   the API key at first start, credentials, the loaded node types, and v2's publication status.
 *
 * Install, environment and webhook facts for machines that reach only the npm registry:
 * docs/running-n8n-offline.md.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { REPO_ROOT } from '../support/repository';

export { REPO_ROOT };

/**
 * Where a run keeps an n8n user folder: outside the repository. Node resolves an installed package's imports
 * by walking up from its folder; from a user folder inside the repository that walk reaches the repository's
 * own node_modules, and the package would load the n8n-workflow this repository builds against instead of
 * the running n8n's (n8n 2.x's lacks helpers that 1.x's has), as no user's n8n ever does.
 */
export function n8nUserFolder(name: string): string {
	const repository = createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 8);
	return path.join(os.tmpdir(), `n8n-nodes-activecampaign-trigger-${repository}`, name);
}

function assertOutsideRepository(userFolder: string): void {
	const relative = path.relative(REPO_ROOT, path.resolve(userFolder));
	if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
		throw new Error(`n8n user folder ${userFolder} is inside the repository: use n8nUserFolder() (see its comment)`);
	}
}

export type N8nMajor = 'v1' | 'v2';

/**
 * Where `scripts/install-n8n.sh <version>` installs n8n: `n8n-<version>` in N8N_INSTALL_CACHE, by default the
 * repository's ignored .cache/. CI points the variable outside its fresh copy of the repository, so the copy
 * reuses an install of the same lockfile instead of spending minutes on a new one. A relative value is taken
 * from the repository, as the install script takes it.
 */
export function n8nInstallFolder(version: N8nMajor): string {
	return path.resolve(REPO_ROOT, process.env.N8N_INSTALL_CACHE || '.cache', `n8n-${version}`);
}

export interface StartOptions {
	version: N8nMajor;
	/** n8n's HTTP port. v2 also takes the next port for its task broker. */
	port: number;
	/** Created when missing; n8n keeps its database, encryption key and community packages in `.n8n/` here. */
	userFolder: string;
	/** Public origin n8n hands to trigger nodes (`getNodeWebhookUrl`); defaults to `http://localhost:<port>/`. */
	webhookUrl?: string;
	/** An `npm pack` tarball, installed the way n8n's Community nodes panel installs a package. */
	packageTarball?: string;
	/** Extra environment for n8n, applied last. */
	env?: Record<string, string>;
	/** Receives n8n's stdout and stderr, appended across restarts; defaults to `<userFolder>/n8n.log`. */
	logFile?: string;
}

/** A credential as the editor creates it; `data` is plain and n8n encrypts it. */
export interface CredentialJson {
	name: string;
	type: string;
	data: Record<string, unknown>;
}

/** A workflow as exported by n8n; only the fields the public API accepts on create are sent. */
export interface WorkflowJson {
	name: string;
	nodes: unknown[];
	connections: Record<string, unknown>;
	settings?: Record<string, unknown>;
	staticData?: Record<string, unknown> | null;
}

export interface ExecutionRecord {
	id: string;
	status: string;
	mode: string;
	startedAt: string;
	stoppedAt: string | null;
	/** The `json` of every item the named node put on its first output, over all its runs. */
	items: Array<Record<string, unknown>>;
	/** The execution's error message, when it failed. */
	error?: string;
}

export interface N8nInstance {
	readonly version: N8nMajor;
	/** `http://localhost:<port>`: the editor, the APIs and the webhooks (`/webhook/...`). */
	readonly baseUrl: string;
	readonly userFolder: string;
	readonly logFile: string;
	/** Milliseconds from spawning n8n to it answering requests, for the last (re)start. */
	readonly startupMs: number;
	/** Returns the new credential's id. */
	importCredentials(credential: CredentialJson): Promise<string>;
	/** Returns the new workflow's id (n8n assigns it; node `webhookId`s are kept as given). */
	importWorkflow(workflow: WorkflowJson): Promise<string>;
	/**
	 * Replaces the workflow's name, nodes, connections and settings (public API). An active v1 workflow is
	 * re-activated by n8n on the spot; v2 keeps the change as a draft until the next `activate` publishes it.
	 */
	updateWorkflow(workflowId: string, workflow: WorkflowJson): Promise<void>;
	/** The workflow's static data as n8n stored it (what an export with static data carries). */
	staticData(workflowId: string): Promise<Record<string, unknown> | null>;
	/** Resolves once the workflow's triggers are live, rejects with n8n's reason when they could not be. */
	activate(workflowId: string): Promise<void>;
	deactivate(workflowId: string): Promise<void>;
	/** The workflow's stored executions, oldest first, each with the output items of `nodeName`. */
	executions(workflowId: string, nodeName: string): Promise<ExecutionRecord[]>;
	/** The workflow's stored executions without their data (cheap for thousands), oldest first. */
	executionStatuses(workflowId: string): Promise<Array<Pick<ExecutionRecord, 'id' | 'status' | 'mode'>>>;
	/** Polls `executions` until at least `count` have finished; returns all of them. */
	waitForExecutions(workflowId: string, nodeName: string, count: number, timeoutMs?: number): Promise<ExecutionRecord[]>;
	/**
	 * The editor's "Listen for test event" on one trigger: registers the test webhooks (`/webhook-test/...`)
	 * and resolves with whether n8n now waits for a test event. n8n removes them after the first event, or
	 * after two minutes.
	 */
	listenForTestEvent(workflowId: string, triggerName: string): Promise<boolean>;
	/** The editor's "Stop listening": n8n removes the workflow's test webhooks (in the background). */
	stopListening(workflowId: string): Promise<void>;
	/** Names of every node type n8n loaded, e.g. `n8n-nodes-base.webhook`. */
	nodeTypes(): Promise<string[]>;
	restart(): Promise<void>;
	stop(): Promise<void>;
	/** n8n's log so far. */
	logs(): string;
}

const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 45_000;
/** n8n's REST and public API answer in well under a second; one that takes this long has hung. */
const REQUEST_TIMEOUT_MS = 120_000;
const PUBLICATION_TIMEOUT_MS = 150_000;
const POLL_INTERVAL_MS = 250;

/** What differs between the majors, in one place. */
interface MajorSettings {
	env: Record<string, string>;
	/** The variable that sets the public webhook origin. */
	webhookUrlVariable: string;
	/** Whether activation returns before the triggers are registered. */
	activatesAsync: boolean;
}

const MAJOR_SETTINGS: Record<N8nMajor, MajorSettings> = {
	v1: {
		// isolated-vm does not build on Node 20, so v1 runs the legacy expression engine without task runners.
		env: { N8N_RUNNERS_ENABLED: 'false', N8N_EXPRESSION_ENGINE: 'legacy' },
		webhookUrlVariable: 'WEBHOOK_URL',
		activatesAsync: false,
	},
	v2: {
		env: {},
		// v2 still reads WEBHOOK_URL but logs a deprecation for it.
		webhookUrlVariable: 'N8N_WEBHOOK_URL',
		// v2 activates through a publication outbox, after the API has answered.
		activatesAsync: true,
	},
};

/** The owner account the harness creates in every fresh user folder (local test instances only). */
/** The owner created in a fresh user folder; the demo prints its login. */
export const OWNER = { email: 'e2e@example.com', firstName: 'End', lastName: 'ToEnd', password: 'E2e-harness-1' };
/** n8n ties its session cookie to this header (a browser's id in the editor). */
const BROWSER_ID = 'n8n-e2e-harness';
/** Where the harness keeps the API key it created, so a restart reuses it. */
const HARNESS_STATE_FILE = 'e2e-harness.json';
/** n8n prints this last when it starts: after the migrations and (v1) after activating the active workflows. */
const READY_LOG_LINE = 'Editor is now accessible via';

/** The environment every n8n process of the harness runs with; `options.env` last. */
function n8nEnvironment(options: StartOptions, runtime: Runtime, baseUrl: string): NodeJS.ProcessEnv {
	const settings = MAJOR_SETTINGS[options.version];
	const nodeBinFolder = path.dirname(runtime.nodeBin);
	// Jest sets NODE_ENV=test, in which n8n refuses to load nodes; n8n started from a shell has none.
	const { NODE_ENV, ...inherited } = process.env;
	return {
		...inherited,
		// The Node that runs n8n first, for the processes n8n starts itself (task runners, npm).
		PATH: `${nodeBinFolder}${path.delimiter}${process.env.PATH ?? ''}`,
		N8N_USER_FOLDER: path.resolve(options.userFolder),
		N8N_PORT: String(options.port),
		N8N_RUNNERS_BROKER_PORT: String(options.port + 1),
		[settings.webhookUrlVariable]: options.webhookUrl ?? `${baseUrl}/`,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		// The tests read executions back, so keep every one whatever n8n's defaults become, and prune none
		// (by default n8n keeps at most 10,000; the flood and the bench make more).
		EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
		EXECUTIONS_DATA_SAVE_ON_ERROR: 'all',
		EXECUTIONS_DATA_PRUNE: 'false',
		...settings.env,
		...options.env,
	};
}

/** Another process of a queue-mode n8n (`n8n webhook` or `n8n worker`), sharing the main's user folder. */
export interface N8nProcess {
	readonly command: 'webhook' | 'worker';
	/** `http://localhost:<port>` (a webhook process's webhooks; a worker's health check). */
	readonly baseUrl: string;
	readonly logFile: string;
	/** SIGKILL: the process dies mid-request, as in a crash. */
	kill(): Promise<void>;
	start(): Promise<void>;
	stop(): Promise<void>;
}

const PROCESS_READY_LINES: Record<N8nProcess['command'], string> = {
	webhook: 'Webhook listener waiting for requests.',
	worker: 'n8n worker is now ready',
};

/** Starts `n8n webhook` or `n8n worker` with the same installation, user folder and environment rules. */
export async function startN8nProcess(command: N8nProcess['command'], options: StartOptions): Promise<N8nProcess> {
	assertOutsideRepository(options.userFolder);
	const runtime = readRuntime(options.version);
	const baseUrl = `http://localhost:${options.port}`;
	const logFile = path.resolve(options.logFile ?? path.join(options.userFolder, `n8n-${command}-${options.port}.log`));
	let child: ChildProcess | undefined;
	const logs = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
	const stopWith = async (signal: NodeJS.Signals) => {
		const running = child;
		if (!running || running.exitCode !== null || running.signalCode !== null) return;
		const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
		running.kill(signal);
		const timer = setTimeout(() => running.kill('SIGKILL'), STOP_TIMEOUT_MS);
		await exited;
		clearTimeout(timer);
		child = undefined;
	};
	const instance: N8nProcess = {
		command,
		baseUrl,
		logFile,
		async start() {
			const logOffset = logs().length;
			const logFd = fs.openSync(logFile, 'a');
			const started = spawn(runtime.nodeBin, [runtime.n8nBin, command], {
				cwd: options.userFolder,
				env: n8nEnvironment(options, runtime, baseUrl),
				stdio: ['ignore', logFd, logFd],
			});
			fs.closeSync(logFd);
			child = started;
			runningProcesses.add(started);
			started.once('exit', () => runningProcesses.delete(started));
			const ready = await pollUntil(READY_TIMEOUT_MS, async () => {
				if (started.exitCode !== null || started.signalCode !== null) {
					throw new Error(`n8n ${command} exited while starting:\n${logs().split('\n').slice(-40).join('\n')}`);
				}
				return logs().slice(logOffset).includes(PROCESS_READY_LINES[command]);
			});
			if (!ready) throw new Error(`n8n ${command} was not ready after ${READY_TIMEOUT_MS} ms:\n${logs().split('\n').slice(-40).join('\n')}`);
		},
		stop: async () => await stopWith('SIGTERM'),
		kill: async () => await stopWith('SIGKILL'),
	};
	await instance.start();
	return instance;
}

export async function startN8n(options: StartOptions): Promise<N8nInstance> {
	const instance = new RunningN8n(options);
	await instance.start();
	return instance;
}

/**
 * Packs this repository with `npm pack` into `destination` and returns the tarball's path. The repository's
 * `.npmrc` turns scripts off, so `prepack` does not build: `npm run build` must have run.
 */
export function packPackage(destination: string): string {
	const manifest = readJson<{ n8n: { nodes: string[]; credentials: string[] } }>(path.join(REPO_ROOT, 'package.json'));
	const missing = [...manifest.n8n.nodes, ...manifest.n8n.credentials].filter(
		(file) => !fs.existsSync(path.join(REPO_ROOT, file)),
	);
	if (missing.length > 0) {
		throw new Error(`Cannot pack the package: ${missing.join(', ')} missing. Run \`npm run build\` first.`);
	}
	fs.mkdirSync(destination, { recursive: true });
	const output = execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
		cwd: REPO_ROOT,
		encoding: 'utf8',
	});
	const [packed] = JSON.parse(output) as Array<{ filename: string }>;
	return path.join(destination, packed.filename);
}

/**
 * Installs a package tarball into `<userFolder>/.n8n/nodes` exactly as n8n's Community nodes panel does
 * (CommunityPackagesService.downloadPackage, the same in 1.123 and 2.40): unpack into
 * `node_modules/<name>`, drop dev, peer and optional dependencies from its manifest, `npm install` its runtime
 * dependencies inside it, and record it in the folder's package.json. At start n8n loads every
 * `node_modules/n8n-nodes-*` package found there, as node types `<package name>.<node name>`.
 */
export function installCommunityPackage(userFolder: string, tarball: string): void {
	const nodesFolder = path.join(userFolder, '.n8n', 'nodes');
	const nodesManifestPath = path.join(nodesFolder, 'package.json');
	fs.mkdirSync(nodesFolder, { recursive: true });
	if (!fs.existsSync(nodesManifestPath)) {
		writeJson(nodesManifestPath, { name: 'installed-nodes', private: true, dependencies: {} });
	}

	const packed = JSON.parse(
		execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
	) as Record<string, unknown> & { name: string; version: string };
	const packageFolder = path.join(nodesFolder, 'node_modules', packed.name);
	fs.rmSync(packageFolder, { recursive: true, force: true });
	fs.mkdirSync(packageFolder, { recursive: true });
	execFileSync('tar', ['-xzf', tarball, '-C', packageFolder, '--strip-components=1']);

	const { devDependencies, peerDependencies, optionalDependencies, ...runtimeManifest } = packed;
	writeJson(path.join(packageFolder, 'package.json'), runtimeManifest);
	execFileSync(
		'npm',
		[
			'install',
			'--audit=false',
			'--fund=false',
			'--bin-links=false',
			'--install-strategy=shallow',
			'--ignore-scripts=true',
			'--package-lock=false',
			// Not n8n's: take qs and zod from npm's cache when it has them, so repeated runs need no network.
			'--prefer-offline',
		],
		{ cwd: packageFolder, env: { ...process.env, NODE_ENV: 'production' }, stdio: 'pipe' },
	);

	const nodesManifest = readJson<{ dependencies: Record<string, string> }>(nodesManifestPath);
	nodesManifest.dependencies[packed.name] = packed.version;
	writeJson(nodesManifestPath, nodesManifest);
}

interface Runtime {
	n8nBin: string;
	nodeBin: string;
}

function readRuntime(version: N8nMajor): Runtime {
	const runtimeFile = path.join(n8nInstallFolder(version), 'runtime.json');
	if (!fs.existsSync(runtimeFile)) {
		throw new Error(
			`n8n ${version} is not installed: ${runtimeFile} is missing. Run \`bash scripts/install-n8n.sh ${version}\` ` +
				'with the same N8N_INSTALL_CACHE as this process.',
		);
	}
	return readJson<Runtime>(runtimeFile);
}

/** n8n processes still running, killed if the test process exits without stopping them. */
const runningProcesses = new Set<ChildProcess>();
process.once('exit', () => {
	for (const child of runningProcesses) child.kill('SIGKILL');
});

class RunningN8n implements N8nInstance {
	readonly version: N8nMajor;
	readonly baseUrl: string;
	readonly userFolder: string;
	readonly logFile: string;
	startupMs = 0;

	private readonly options: StartOptions;
	private readonly runtime: Runtime;
	private child: ChildProcess | undefined;
	private sessionCookie = '';
	private apiKey = '';

	constructor(options: StartOptions) {
		this.options = options;
		this.version = options.version;
		this.baseUrl = `http://localhost:${options.port}`;
		assertOutsideRepository(options.userFolder);
		this.userFolder = path.resolve(options.userFolder);
		this.logFile = path.resolve(options.logFile ?? path.join(this.userFolder, 'n8n.log'));
		this.runtime = readRuntime(options.version);
	}

	async start(): Promise<void> {
		fs.mkdirSync(this.userFolder, { recursive: true });
		if (this.options.packageTarball) installCommunityPackage(this.userFolder, this.options.packageTarball);
		await this.spawnAndWait();
	}

	async importCredentials(credential: CredentialJson): Promise<string> {
		// Not the public API: n8n 1.x makes its own injected `allowedDomains` field required there.
		const created = await this.rest<{ id: string }>('POST', '/rest/credentials', credential);
		return created.id;
	}

	async importWorkflow(workflow: WorkflowJson): Promise<string> {
		const { name, nodes, connections, settings = {}, staticData } = workflow;
		const body = staticData ? { name, nodes, connections, settings, staticData } : { name, nodes, connections, settings };
		const created = await this.publicApi<{ id: string }>('POST', '/workflows', body);
		return created.id;
	}

	async updateWorkflow(workflowId: string, workflow: WorkflowJson): Promise<void> {
		const { name, nodes, connections, settings = {} } = workflow;
		await this.publicApi('PUT', `/workflows/${workflowId}`, { name, nodes, connections, settings });
	}

	async staticData(workflowId: string): Promise<Record<string, unknown> | null> {
		const workflow = await this.rest<{ staticData?: Record<string, unknown> | string | null }>('GET', `/rest/workflows/${workflowId}`);
		const data = workflow.staticData ?? null;
		return typeof data === 'string' ? (JSON.parse(data) as Record<string, unknown>) : data;
	}

	async activate(workflowId: string): Promise<void> {
		await this.publicApi('POST', `/workflows/${workflowId}/activate`);
		if (MAJOR_SETTINGS[this.version].activatesAsync) await this.waitForPublication(workflowId, 'published');
	}

	async deactivate(workflowId: string): Promise<void> {
		await this.publicApi('POST', `/workflows/${workflowId}/deactivate`);
		if (MAJOR_SETTINGS[this.version].activatesAsync) await this.waitForPublication(workflowId, 'not_published');
	}

	async executionStatuses(workflowId: string): Promise<Array<Pick<ExecutionRecord, 'id' | 'status' | 'mode'>>> {
		const records: Array<Pick<ExecutionRecord, 'id' | 'status' | 'mode'>> = [];
		let cursor: string | null = null;
		do {
			const query = new URLSearchParams({ workflowId, includeData: 'false', limit: '250' });
			if (cursor) query.set('cursor', cursor);
			const page: ExecutionPage = await this.publicApi<ExecutionPage>('GET', `/executions?${query.toString()}`);
			records.push(...page.data.map(({ id, status, mode }) => ({ id: String(id), status, mode })));
			cursor = page.nextCursor;
		} while (cursor);
		return records.sort((a, b) => Number(a.id) - Number(b.id));
	}

	async executions(workflowId: string, nodeName: string): Promise<ExecutionRecord[]> {
		const records: ExecutionRecord[] = [];
		let cursor: string | null = null;
		do {
			const query = new URLSearchParams({ workflowId, includeData: 'true', limit: '250' });
			if (cursor) query.set('cursor', cursor);
			const page: ExecutionPage = await this.publicApi<ExecutionPage>('GET', `/executions?${query.toString()}`);
			records.push(...page.data.map((execution) => toExecutionRecord(execution, nodeName)));
			cursor = page.nextCursor;
		} while (cursor);
		return records.sort((a, b) => Number(a.id) - Number(b.id));
	}

	async waitForExecutions(workflowId: string, nodeName: string, count: number, timeoutMs = 30_000): Promise<ExecutionRecord[]> {
		const unfinished = new Set(['new', 'running', 'waiting']);
		let latest: ExecutionRecord[] = [];
		const settled = await pollUntil(timeoutMs, async () => {
			latest = await this.executions(workflowId, nodeName);
			return latest.filter((execution) => !unfinished.has(execution.status)).length >= count;
		});
		if (!settled) {
			throw new Error(
				`Expected ${count} finished execution(s) of workflow ${workflowId} within ${timeoutMs} ms, found ` +
					`${latest.length}: ${JSON.stringify(latest.map(({ id, status }) => ({ id, status })))}`,
			);
		}
		return latest;
	}

	async listenForTestEvent(workflowId: string, triggerName: string): Promise<boolean> {
		// The editor's own call. v1 runs the workflow the editor sends along; v2 reads it from the database.
		const body: Record<string, unknown> = { triggerToStartFrom: { name: triggerName } };
		if (this.version === 'v1') body.workflowData = await this.rest('GET', `/rest/workflows/${workflowId}`);
		const answer = await this.rest<{ waitingForWebhook?: boolean }>('POST', `/rest/workflows/${workflowId}/run`, body);
		return answer?.waitingForWebhook === true;
	}

	async stopListening(workflowId: string): Promise<void> {
		await this.rest('DELETE', `/rest/test-webhook/${workflowId}`);
	}

	async nodeTypes(): Promise<string[]> {
		const types = await this.rest<Array<{ name: string }>>('GET', '/types/nodes.json');
		return [...new Set(types.map((type) => type.name))];
	}

	async restart(): Promise<void> {
		await this.stop();
		await this.spawnAndWait();
	}

	async stop(): Promise<void> {
		const child = this.child;
		if (!child || child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
		child.kill('SIGTERM');
		const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
		await exited;
		clearTimeout(timer);
		this.child = undefined;
	}

	logs(): string {
		return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
	}

	private async spawnAndWait(): Promise<void> {
		const startedAt = Date.now();
		const logOffset = fs.existsSync(this.logFile) ? fs.statSync(this.logFile).size : 0;
		const logFd = fs.openSync(this.logFile, 'a');
		const child = spawn(this.runtime.nodeBin, [this.runtime.n8nBin, 'start'], {
			cwd: this.userFolder,
			env: this.environment(),
			stdio: ['ignore', logFd, logFd],
		});
		fs.closeSync(logFd);
		this.child = child;
		runningProcesses.add(child);
		child.once('exit', () => runningProcesses.delete(child));

		try {
			const ready = await pollUntil(READY_TIMEOUT_MS, async () => {
				if (child.exitCode !== null || child.signalCode !== null) {
					throw new Error(`n8n ${this.version} exited while starting:\n${this.logTail()}`);
				}
				// /healthz answers before the migrations run; /healthz/readiness once the database is ready.
				const readiness = await fetch(`${this.baseUrl}/healthz/readiness`).catch(() => undefined);
				return readiness?.ok === true && this.logs().slice(logOffset).includes(READY_LOG_LINE);
			});
			if (!ready) throw new Error(`n8n ${this.version} was not ready after ${READY_TIMEOUT_MS} ms:\n${this.logTail()}`);
			this.startupMs = Date.now() - startedAt;
			await this.signIn();
		} catch (error) {
			await this.stop();
			throw error;
		}
	}

	private environment(): NodeJS.ProcessEnv {
		return n8nEnvironment(this.options, this.runtime, this.baseUrl);
	}

	/** Creates the owner and an API key in a fresh user folder, then logs in (the cookie ends with the process). */
	private async signIn(): Promise<void> {
		const statePath = path.join(this.userFolder, HARNESS_STATE_FILE);
		const isFresh = !fs.existsSync(statePath);
		if (isFresh) await this.rest('POST', '/rest/owner/setup', OWNER);
		await this.rest('POST', '/rest/login', { emailOrLdapLoginId: OWNER.email, password: OWNER.password });
		if (!isFresh) {
			this.apiKey = readJson<{ apiKey: string }>(statePath).apiKey;
			return;
		}
		// An owner's key may carry every scope its role allows; the list differs between the majors.
		const scopes = await this.rest<string[]>('GET', '/rest/api-keys/scopes');
		const key = await this.rest<{ rawApiKey: string }>('POST', '/rest/api-keys', {
			label: 'e2e harness',
			expiresAt: null,
			scopes,
		});
		this.apiKey = key.rawApiKey;
		writeJson(statePath, { apiKey: this.apiKey });
	}

	/**
	 * v2 only: waits for the publication outbox to settle, and fails as soon as n8n marks a trigger failed.
	 * n8n 2.x tries a failing trigger 5 times with growing pauses (TRIGGER_ACTIVATION_MAX_ATTEMPTS, not
	 * configurable) before it records the failure: about 70 s, hence the long limit.
	 */
	private async waitForPublication(workflowId: string, wanted: 'published' | 'not_published'): Promise<void> {
		let latest: PublicationStatus | undefined;
		const settled = await pollUntil(PUBLICATION_TIMEOUT_MS, async () => {
			latest = await this.rest<PublicationStatus>('GET', `/rest/workflows/${workflowId}/publication-status`);
			const failures = latest.triggers.filter((trigger) => trigger.status === 'failed');
			if (wanted === 'published' && failures.length > 0) {
				const reasons = failures.map((trigger) => `${trigger.nodeId}: ${trigger.errorMessage ?? 'no message'}`);
				throw new Error(`n8n could not activate workflow ${workflowId} (${reasons.join('; ')}).`);
			}
			return latest.status === wanted;
		});
		if (!settled) {
			throw new Error(
				`Workflow ${workflowId} did not reach "${wanted}" within ${PUBLICATION_TIMEOUT_MS} ms: ${JSON.stringify(latest)}`,
			);
		}
	}

	private async publicApi<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
		return await this.request<T>(method, `/api/v1${route}`, { 'X-N8N-API-KEY': this.apiKey }, body);
	}

	/** The internal REST API unwraps `{ data }`; other paths (`/types/...`) answer plainly. */
	private async rest<T = unknown>(method: string, route: string, body?: unknown): Promise<T> {
		const headers: Record<string, string> = { 'browser-id': BROWSER_ID };
		if (this.sessionCookie) headers.cookie = this.sessionCookie;
		const answer = await this.request<{ data: T } | T>(method, route, headers, body);
		return route.startsWith('/rest/') ? (answer as { data: T }).data : (answer as T);
	}

	private async request<T>(method: string, route: string, headers: Record<string, string>, body?: unknown): Promise<T> {
		let response: Response;
		let text: string;
		try {
			response = await fetch(`${this.baseUrl}${route}`, {
				method,
				headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
				body: body === undefined ? undefined : JSON.stringify(body),
				signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
			});
			text = await response.text();
		} catch (error) {
			const cause = (error as Error & { cause?: Error }).cause?.message;
			throw new Error(`n8n ${this.version}: ${method} ${route} got no answer (${(error as Error).message}${cause ? `: ${cause}` : ''}):\n${this.logTail()}`, {
				cause: error,
			});
		}
		const authCookie = response.headers.getSetCookie().find((cookie) => cookie.startsWith('n8n-auth='));
		if (authCookie) this.sessionCookie = authCookie.split(';')[0];
		if (!response.ok) throw new Error(`n8n ${this.version}: ${method} ${route} answered ${response.status}: ${text}`);
		return (text ? JSON.parse(text) : undefined) as T;
	}

	private logTail(): string {
		return this.logs().split('\n').slice(-40).join('\n');
	}
}

interface PublicationStatus {
	status: 'in_progress' | 'published' | 'partial' | 'failed' | 'not_published';
	triggers: Array<{ nodeId: string; status: string; errorMessage: string | null }>;
}

/** The part of the public API's execution that the harness reads. */
interface ApiExecution {
	id: string | number;
	status: string;
	mode: string;
	startedAt: string;
	stoppedAt: string | null;
	data?: {
		resultData?: {
			error?: { message?: string };
			runData?: Record<string, Array<{ data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> } }>>;
		};
	};
}

interface ExecutionPage {
	data: ApiExecution[];
	nextCursor: string | null;
}

function toExecutionRecord(execution: ApiExecution, nodeName: string): ExecutionRecord {
	const resultData = execution.data?.resultData;
	const runs = resultData?.runData?.[nodeName] ?? [];
	const record: ExecutionRecord = {
		id: String(execution.id),
		status: execution.status,
		mode: execution.mode,
		startedAt: execution.startedAt,
		stoppedAt: execution.stoppedAt,
		items: runs.flatMap((run) => run.data?.main?.[0] ?? []).map((item) => item.json),
	};
	if (resultData?.error?.message) record.error = resultData.error.message;
	return record;
}

/** Calls `check` until it returns true (then true) or `timeoutMs` passes (then false). */
export async function pollUntil(timeoutMs: number, check: () => Promise<boolean>): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await check()) return true;
		await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
	}
	return false;
}

function readJson<T>(file: string): T {
	return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function writeJson(file: string, value: unknown): void {
	fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}
