/**
 * The Redis dedup store, for queue mode and any n8n with several processes: one atomic claim per delivery,
 * shared by every process, and nothing written to static data per event.
 *
 * A claim is `SET <key> p:<token> NX PX <pending>`: the first copy of an event gets it. The claim starts
 * *pending* (a short lifetime) and is settled when n8n's answer leaves: a 2xx turns it into `d` for the whole
 * window, any other answer deletes it. Another copy that finds a settled claim is a duplicate (200, no
 * execution); one that finds a pending claim is answered 409 and retried by ActiveCampaign later, because the
 * first copy may still fail: a claim must never swallow the retry of a delivery that did not succeed. A
 * process that dies mid-request leaves only a pending claim, which expires on its own.
 *
 * Redis unreachable or slow: the delivery is emitted unclaimed (a duplicate at worst, never a lost event),
 * a warning is logged once per outage, and claims resume when Redis answers again.
 *
 * Keys: `n8n-nodes-activecampaign-trigger:dedup:<workflow id>:<node id>:<mode>:<fingerprint>`. They expire
 * with the window, so memory is bounded by traffic.
 */
import { createHash, randomBytes } from 'node:crypto';

// A declared runtime dependency (package.json): n8n offers nodes no Redis client in the webhook context, and
// the atomic claim needs one. ioredis is the client n8n itself runs its queue mode on.
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports
import Redis from 'ioredis';
import { sleep } from 'n8n-workflow';

export const KEY_PREFIX = 'n8n-nodes-activecampaign-trigger:dedup:';

/** How long an unsettled claim lives: longer than n8n takes to answer, short enough for a prompt retry. */
export const PENDING_MS = 30_000;

/** A command slower than this counts as an outage for this delivery. */
export const COMMAND_TIMEOUT_MS = 500;

/** n8n's built-in Redis credential (`redis`), as the node reads it. */
export interface RedisSettings {
	host: string;
	port: number;
	user?: string;
	password?: string;
	database: number;
	ssl: boolean;
	disableTlsVerification: boolean;
}

export type Claim =
	| { outcome: 'claimed'; settle: (succeeded: boolean) => Promise<void> }
	/** A copy of this event already succeeded. */
	| { outcome: 'duplicate' }
	/** A copy of this event is in flight and may still fail. */
	| { outcome: 'pending' }
	/** Redis did not answer in time: the delivery goes through unclaimed. */
	| { outcome: 'unavailable' };

export interface StoreLog {
	warn(message: string): void;
	info(message: string): void;
}

const PENDING = 'p:';
const SETTLED = 'd';

/** Deletes the claim only while it is still this delivery's, so an expired claim never takes another's. */
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

interface PooledConnection {
	redis: Redis;
	/** Settles when the first connection is ready or has failed; later outages do not wait for it. */
	firstConnect: Promise<unknown>;
	/** True from the first failed command until the next one that succeeds. */
	down: boolean;
}

const CONNECT_TIMEOUT_MS = 2_000;

/** One connection per process and credential; ioredis reconnects on its own. */
const pool = new Map<string, PooledConnection>();

function poolKey(settings: RedisSettings): string {
	return createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}

function connect(settings: RedisSettings): PooledConnection {
	const key = poolKey(settings);
	let pooled = pool.get(key);
	if (pooled === undefined) {
		const redis = new Redis({
			host: settings.host,
			port: settings.port,
			username: settings.user || undefined,
			password: settings.password || undefined,
			db: settings.database,
			tls: settings.ssl ? { rejectUnauthorized: !settings.disableTlsVerification } : undefined,
			connectionName: 'n8n-nodes-activecampaign-trigger',
			connectTimeout: CONNECT_TIMEOUT_MS,
			commandTimeout: COMMAND_TIMEOUT_MS,
			// Fail at once while disconnected instead of queueing: the delivery must not wait for Redis.
			enableOfflineQueue: false,
			maxRetriesPerRequest: 0,
			// Reconnect soon after an outage ends: every half second at most, a cheap attempt while Redis is down.
			retryStrategy: (attempt) => Math.min(attempt * 100, 500),
		});
		// Errors surface through the failed commands; without a listener ioredis would print each one.
		redis.on('error', () => undefined);
		const firstConnect = Promise.race([
			new Promise((resolve) => {
				redis.once('ready', resolve);
				redis.once('error', resolve);
			}),
			sleep(CONNECT_TIMEOUT_MS),
		]);
		pooled = { redis, firstConnect, down: false };
		pool.set(key, pooled);
	}
	return pooled;
}

async function attempt<T>(pooled: PooledConnection, log: StoreLog, command: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
	try {
		await pooled.firstConnect;
		const value = await command();
		if (pooled.down) {
			pooled.down = false;
			log.info('ActiveCampaign Trigger: the Redis dedup store answers again; deduplication resumed');
		}
		return { ok: true, value };
	} catch (error) {
		if (!pooled.down) {
			pooled.down = true;
			log.warn(
				`ActiveCampaign Trigger: the Redis dedup store does not answer (${(error as Error).message}); deliveries are emitted without deduplication until it does`,
			);
		}
		return { ok: false };
	}
}

export function dedupKey(scope: string, fingerprint: string): string {
	return `${KEY_PREFIX}${scope}:${fingerprint}`;
}

/** Claims one delivery's fingerprint for `windowMs` once settled as a success. */
export async function claimDelivery(settings: RedisSettings, key: string, windowMs: number, log: StoreLog): Promise<Claim> {
	const pooled = connect(settings);
	const token = `${PENDING}${randomBytes(12).toString('base64url')}`;
	const set = await attempt(pooled, log, async () => await pooled.redis.set(key, token, 'PX', Math.min(PENDING_MS, windowMs), 'NX'));
	if (!set.ok) return { outcome: 'unavailable' };
	if (set.value !== 'OK') {
		// Only copies pay this second round trip. A claim gone meanwhile was released: let the copy retry.
		const found = await attempt(pooled, log, async () => await pooled.redis.get(key));
		if (!found.ok) return { outcome: 'unavailable' };
		return { outcome: found.value === SETTLED ? 'duplicate' : 'pending' };
	}
	return {
		outcome: 'claimed',
		settle: async (succeeded) => {
			// A failed settle leaves the pending claim to expire: a delayed retry at worst.
			await attempt(pooled, log, async () =>
				succeeded ? await pooled.redis.set(key, SETTLED, 'PX', windowMs) : await pooled.redis.eval(RELEASE_SCRIPT, 1, key, token),
			);
		},
	};
}

/** Closes every pooled connection (tests, and a process that shuts down). */
export async function closeRedisConnections(): Promise<void> {
	const connections = [...pool.values()];
	pool.clear();
	await Promise.all(connections.map(async ({ redis }) => await redis.quit().catch(() => redis.disconnect())));
}
