/**
 * n8n in queue mode, started from the project's own scripts: a PostgreSQL database of its own (created here,
 * dropped by `stop`), n8n's queue on the machine's Redis under a prefix of its own, the main process, two
 * `n8n webhook` processes and one `n8n worker`. All share one user folder (the community package, the
 * encryption key). Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and Redis on 127.0.0.1:6379.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { startN8n, startN8nProcess, type N8nInstance, type N8nMajor, type N8nProcess, type StartOptions } from '../e2e/harness';

export const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres' };
export const QUEUE_REDIS = { host: '127.0.0.1', port: 6379 };

export interface QueueCluster {
	readonly main: N8nInstance;
	readonly webhooks: readonly [N8nProcess, N8nProcess];
	readonly worker: N8nProcess;
	readonly database: string;
	stop(): Promise<void>;
}

export interface ClusterOptions {
	version: N8nMajor;
	/** main: basePort, webhook processes: basePort + 10 and + 20, worker: basePort + 30 (each also takes +1). */
	basePort: number;
	userFolder: string;
	packageTarball: string;
	webhookUrl: string;
	/** More n8n settings for every process of the cluster. */
	env?: Record<string, string>;
}

/** Runs one SQL statement (by default in the server's `postgres` database); returns its rows, unaligned. */
export function psql(sql: string, database = 'postgres'): string {
	return execFileSync('psql', ['-h', POSTGRES.host, '-p', String(POSTGRES.port), '-U', POSTGRES.user, '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], {
		encoding: 'utf8',
		stdio: 'pipe',
	}).trim();
}

/** Deletes this run's keys from the shared Redis (queue and cache), leaving everything else. */
function removeRedisKeys(pattern: string): void {
	const redis = ['-h', QUEUE_REDIS.host, '-p', String(QUEUE_REDIS.port)];
	const keys = execFileSync('redis-cli', [...redis, '--scan', '--pattern', pattern], { encoding: 'utf8' }).split('\n').filter(Boolean);
	for (let start = 0; start < keys.length; start += 500) execFileSync('redis-cli', [...redis, 'DEL', ...keys.slice(start, start + 500)], { stdio: 'pipe' });
}

/** Says what is missing, with how to start it, before minutes are spent starting n8n. */
export function assertServices(): void {
	try {
		psql('SELECT 1');
	} catch (error) {
		throw new Error(
			`PostgreSQL does not answer on ${POSTGRES.host}:${POSTGRES.port} as user ${POSTGRES.user} (${(error as Error).message.split('\n')[0]}). ` +
				'Start it, e.g. `pg_ctlcluster $(ls /etc/postgresql) main start` (README, "Queue mode").',
		);
	}
	try {
		execFileSync('redis-cli', ['-h', QUEUE_REDIS.host, '-p', String(QUEUE_REDIS.port), 'PING'], { stdio: 'pipe' });
	} catch (error) {
		throw new Error(
			`Redis does not answer on ${QUEUE_REDIS.host}:${QUEUE_REDIS.port} (${(error as Error).message.split('\n')[0]}). ` +
				'Start it, e.g. `redis-server --daemonize yes --port 6379` (README, "Queue mode").',
		);
	}
}

export async function startQueueCluster(options: ClusterOptions): Promise<QueueCluster> {
	const database = `ac_trigger_queue_${options.version}_${process.pid}`;
	psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
	psql(`CREATE DATABASE ${database}`);
	fs.rmSync(options.userFolder, { recursive: true, force: true });
	fs.mkdirSync(options.userFolder, { recursive: true });

	const env: Record<string, string> = {
		DB_TYPE: 'postgresdb',
		DB_POSTGRESDB_HOST: POSTGRES.host,
		DB_POSTGRESDB_PORT: String(POSTGRES.port),
		DB_POSTGRESDB_USER: POSTGRES.user,
		DB_POSTGRESDB_PASSWORD: '',
		DB_POSTGRESDB_DATABASE: database,
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: QUEUE_REDIS.host,
		QUEUE_BULL_REDIS_PORT: String(QUEUE_REDIS.port),
		// Each run's queue and cache apart from any other n8n on the same Redis: n8n caches which workflow owns
		// a webhook path there, and a stale entry would make the next run's activation a "conflict".
		QUEUE_BULL_PREFIX: `bull-${database}`,
		N8N_CACHE_REDIS_KEY_PREFIX: `cache-${database}`,
		N8N_ENCRYPTION_KEY: `queue-suite-key-${database}`,
		// Without it, n8n 1.x warns that the setting will change and keeps file-mode permissions checks loud.
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		...options.env,
	};
	const processOptions = (offset: number, name: string): StartOptions => ({
		version: options.version,
		port: options.basePort + offset,
		userFolder: options.userFolder,
		webhookUrl: options.webhookUrl,
		env,
		logFile: path.join(options.userFolder, `${name}.log`),
	});

	const started: Array<{ stop(): Promise<void> }> = [];
	const stopAll = async () => {
		for (const one of started.reverse()) await one.stop().catch(() => undefined);
		psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
		removeRedisKeys(`*${database}*`);
	};
	try {
		const main = await startN8n({ ...processOptions(0, 'main'), packageTarball: options.packageTarball });
		started.push(main);
		const [first, second, worker] = await Promise.all([
			startN8nProcess('webhook', processOptions(10, 'webhook-1')),
			startN8nProcess('webhook', processOptions(20, 'webhook-2')),
			startN8nProcess('worker', processOptions(30, 'worker')),
		]);
		started.push(first, second, worker);
		return { main, webhooks: [first, second], worker, database, stop: stopAll };
	} catch (error) {
		await stopAll();
		throw error;
	}
}
