/**
 * The Redis dedup store, for queue mode and any n8n with several processes: one atomic claim per delivery,
 * shared by every process, and nothing written to static data per event.
 *
 * A claim is `SET <key> p:<token> NX PX <pending>` (in a script that answers, in the same round trip, what holds
 * the key when the SET finds it taken): the first copy of an event gets it. The claim starts
 * *pending* (a short lifetime) and is settled when n8n's answer leaves: a 2xx turns it into `d` for the whole
 * window, any other answer deletes it; until then it is renewed, so a slow n8n (waiting for a free slot
 * under a concurrency limit, say) does not outlive it. Another copy that finds a settled claim is a duplicate (200, no
 * execution); one that finds a pending claim waits up to two seconds for it to settle (`twinWait`): a duplicate
 * if the twin succeeded, the new claim if it failed, and only while it is still unsettled after that a 409, a
 * failure the sender may retry, never a 2xx, because the twin may still fail: a claim must never swallow the
 * retry of a delivery that did not succeed. A process that dies mid-request leaves only a pending claim, which
 * expires on its own. A process also remembers the keys it settled as a success for their window, so a copy
 * that comes back to it needs no round trip.
 *
 * Redis unreachable or slow: the delivery is emitted unclaimed (a duplicate at worst, never a lost event),
 * a warning is logged once per outage, and claims resume when Redis answers again. A claim that was only slow
 * and lands after the delivery went through is settled by that delivery's answer all the same, so it neither
 * holds the event's copies off with 409s for the pending lifetime nor lets a copy run a second time.
 *
 * Keys: `n8n-nodes-activecampaign-trigger:dedup:<workflow id>:<node id>:<mode>:<fingerprint>`. They expire
 * with the window, so memory is bounded by traffic.
 */
import { randomBytes } from 'node:crypto';

// A declared runtime dependency (package.json): n8n offers nodes no Redis client in the webhook context, and
// the atomic claim needs one. ioredis is the client n8n itself runs its queue mode on.
// eslint-disable-next-line @n8n/community-nodes/no-restricted-imports
import Redis from 'ioredis';

import { Outage, type NodeLog } from '../outage';
import { RecentKeys } from './recentKeys';
import { delay, slottedDelay } from '../timers';

export const KEY_PREFIX = 'n8n-nodes-activecampaign-trigger:dedup:';

/**
 * How long an unsettled claim lives: short, so that a process that died holding it lets the next copy run
 * soon. While its delivery is still being answered it is renewed every `renewEveryMs`, for at most
 * `renewForMs` (bounds a request that never ends). Tests shorten them.
 */
export const pendingClaims = { lifetimeMs: 30_000, renewEveryMs: 10_000, renewForMs: 15 * 60_000 };

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
	| { outcome: 'claimed'; settle: Settle }
	/** A copy of this event already succeeded. */
	| { outcome: 'duplicate' }
	/** A copy of this event is still in flight after `twinWait`, and may still fail. */
	| { outcome: 'pending' }
	/** Redis did not answer in time: the delivery goes through unclaimed; a claim landing late is settled. */
	| { outcome: 'unavailable'; settle: Settle };

/** Called once n8n's answer has left: a 2xx keeps the claim for the window, anything else gives it up. */
export type Settle = (succeeded: boolean) => Promise<void>;

const PENDING = 'p:';
const SETTLED = 'd';

/**
 * `claim` takes the claim, or answers what holds it, in one round trip: this delivery's own token when the
 * claim is its own, `d` for a settled copy, another token for a copy in flight. (The key cannot expire between
 * the two commands: a script runs atomically and sees one moment in time; a server that let it would answer
 * nothing, read as a copy in flight: a look again, never a claim from that answer.)
 *
 * The others renew or settle only a claim that is still this delivery's: one that expired and was taken by a
 * later copy is left to that copy. A success with no claim left (it outlived its pending lifetime) is still recorded.
 */
const SCRIPTS = {
	claim: "if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return ARGV[1] end return redis.call('get', KEYS[1])",
	releaseClaim: "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
	renewClaim: "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
	keepClaim:
		`local held = redis.call('get', KEYS[1]) if held == ARGV[1] or not held then redis.call('set', KEYS[1], '${SETTLED}', 'PX', ARGV[2]) return 1 end return 0`,
};

/** The connection with the scripts defined on it (ioredis sends them by SHA, and the text only once). */
type StoreRedis = Redis & {
	claim(key: string, token: string, pendingMs: number): Promise<string | null>;
	releaseClaim(key: string, token: string): Promise<number>;
	renewClaim(key: string, token: string, lifetimeMs: number): Promise<number>;
	keepClaim(key: string, token: string, windowMs: number): Promise<number>;
};

/** Unique per claim across processes: a random part per process and a counter, no entropy drawn per event. */
const TOKEN_PREFIX = `${PENDING}${randomBytes(9).toString('base64url')}.`;
let claims = 0;

interface PooledConnection {
	redis: StoreRedis;
	/**
	 * Settles when the first connection is ready or has failed, and is then cleared; later outages do not
	 * wait for it.
	 */
	firstConnect?: Promise<unknown>;
	/** From the first failed command until the next claim that succeeds. */
	outage: Outage;
	/** What the connection last failed with (a refused password, say), until it is ready again. */
	connectionError?: string;
	lastUsed: number;
}

/**
 * n8n gives a webhook node no call when it shuts down or when its workflow is deactivated, so a connection
 * that no delivery has used for this long is closed (a process exiting closes the rest); the next delivery
 * opens it again. Tests shorten it.
 */
export const pooling = { idleCloseMs: 5 * 60_000 };

export const CONNECT_TIMEOUT_MS = 2_000;

/** One connection per process and credential; ioredis reconnects on its own; idle ones are closed. */
const pool = new Map<string, PooledConnection>();

/** The settings themselves are the key: the same credential gives the same text, nothing to hash per event. */
const poolKey = (settings: RedisSettings) => JSON.stringify(settings);

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
			// Only drops a command lost on a dead connection: a delivery waits about COMMAND_TIMEOUT_MS (below).
			commandTimeout: 30_000,
			// Fail at once while disconnected instead of queueing: the delivery must not wait for Redis.
			enableOfflineQueue: false,
			maxRetriesPerRequest: 0,
			// Reconnect soon after an outage ends: every half second at most, a cheap attempt while Redis is down.
			retryStrategy: (attempt) => Math.min(attempt * 100, 500),
			// No auto-pipelining: a webhook process's deliveries rarely issue commands in the same turn of the
			// event loop, so it built a pipeline per command (P5: more CPU per delivery with it than without).
			enableAutoPipelining: false,
		}) as StoreRedis;
		for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua });
		// Connected, failed or timed out: either way the first command may go.
		const firstConnect = Promise.race([
			new Promise<void>((resolve) => {
				redis.once('ready', () => resolve());
				redis.once('error', () => resolve());
			}),
			delay(CONNECT_TIMEOUT_MS),
		]);
		const entry: PooledConnection = { redis, firstConnect, outage: new Outage(), lastUsed: Date.now() };
		void firstConnect.then(() => {
			entry.firstConnect = undefined;
		});
		// A failed command only says the connection is not ready; the warning names why, from here. (Without
		// a listener ioredis would also print each error.)
		redis.on('error', (error: Error) => {
			entry.connectionError = error.message;
		});
		redis.on('ready', () => {
			entry.connectionError = undefined;
		});
		void closeWhenIdle(key, entry);
		pooled = entry;
		pool.set(key, pooled);
	}
	pooled.lastUsed = Date.now();
	return pooled;
}

/** Looks now and then whether the connection is idle, and closes it then; ends once it left the pool. */
async function closeWhenIdle(key: string, entry: PooledConnection): Promise<void> {
	do await delay(Math.max(50, pooling.idleCloseMs / 4));
	while (pool.get(key) === entry && Date.now() - entry.lastUsed < pooling.idleCloseMs);
	if (pool.get(key) !== entry) return;
	pool.delete(key);
	await close(entry.redis);
}

/** QUIT when Redis answers; a connection that is not ready (a Redis that never answers) is just dropped. */
async function close(redis: Redis): Promise<void> {
	if (redis.status !== 'ready') return redis.disconnect();
	await redis.quit().catch(() => redis.disconnect());
}

/** How many pooled connections this process holds (tests). */
export function pooledConnectionCount(): number {
	return pool.size;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Runs one command; a failure or TIMED_OUT marks the store down (one warning). Only a claim answered in time
 * marks it back up: a settle waits as long as it takes, so its success says nothing about a slow Redis.
 */
async function attempt<T>(
	pooled: PooledConnection,
	log: NodeLog,
	kind: 'claim' | 'settle',
	command: () => Promise<T | typeof TIMED_OUT>,
): Promise<{ ok: true; value: T } | { ok: false }> {
	let failure: string;
	try {
		const value = await command();
		if (value !== TIMED_OUT) {
			if (kind === 'claim') pooled.outage.recovered(log, 'ActiveCampaign Trigger: the Redis dedup store answers again; deduplication resumed');
			return { ok: true, value: value as T };
		}
		failure = `no answer within ${COMMAND_TIMEOUT_MS} ms`;
	} catch (error) {
		failure = (error as Error).message;
	}
	if (pooled.connectionError !== undefined) failure += `; the connection failed with: ${pooled.connectionError}`;
	pooled.outage.failed(
		log,
		`ActiveCampaign Trigger: the Redis dedup store does not answer (${failure}); deliveries are emitted without deduplication until it does`,
	);
	return { ok: false };
}

export function dedupKey(scope: string, fingerprint: string): string {
	return `${KEY_PREFIX}${scope}:${fingerprint}`;
}

/**
 * The command's answer, or TIMED_OUT once its deadline passed; the command carries on and may land. The deadline
 * gives pending I/O one turn first: after the event loop was blocked past it (n8n 2.x building an expression
 * isolate, say), Node runs due timers before it reads the sockets, and an answer that came in meanwhile would
 * lose to the timer (a copy emitted unclaimed: a second run, seen once in the queue suite).
 */
async function withinTimeout<T>(command: Promise<T>): Promise<T | typeof TIMED_OUT> {
	return await Promise.race([command, slottedDelay(COMMAND_TIMEOUT_MS, { thenPendingIo: true }).then((): typeof TIMED_OUT => TIMED_OUT)]);
}

/**
 * How long a copy that finds its twin in flight waits for the twin to settle, and how often it looks. The twin
 * settles half a second after its 2xx (receive.ts, `settling`), or at once when it failed, so most copies learn
 * within the wait whether they are a duplicate (200) or must run (the twin failed: this copy takes the claim).
 * Only a twin still unsettled after it (a slow n8n, or a process that died holding the claim) gets this copy a
 * 409. Answering 409 at once instead lost the event whenever the twin then failed and the sender did not retry,
 * as ActiveCampaign, by the public sources, does not. The looks come 100, 200, then every 400 ms (a twin
 * cannot succeed sooner than half a second after its answer), and a last one at the end of the wait. Once the
 * twin was seen, a look Redis does not answer in time changes nothing, unless it is the last: then the copy is
 * emitted unclaimed, as in any outage (a second run if the twin succeeds, never a lost event). A waiting copy
 * holds its request open (and, in n8n 2.x without lazy isolates, an expression isolate): past `maxWaiting`
 * copies waiting in one process, a copy is answered 409 at once, as before the wait existed. Tests shorten it.
 */
export const twinWait = { maxMs: 2_000, firstPollMs: 100, maxPollMs: 400, maxWaiting: 50 };

/** Copies of events waiting for their twin in this process. */
let waiting = 0;

/** How many copies wait for their twin in this process now (tests). */
export function waitingCopies(): number {
	return waiting;
}

/** Claims one delivery's fingerprint for `windowMs` once settled as a success. */
export async function claimDelivery(settings: RedisSettings, key: string, windowMs: number, log: NodeLog): Promise<Claim> {
	if (settledByThisProcess(key)) return { outcome: 'duplicate' };
	const token = `${TOKEN_PREFIX}${(++claims).toString(36)}`;
	const lifetimeMs = Math.min(pendingClaims.lifetimeMs, windowMs);
	const claimed = { settled: false };
	const rememberSuccess = (succeeded: boolean) => {
		claimed.settled = true;
		if (succeeded) settledHere.set(key, performance.now() + windowMs);
	};
	const settle: Settle = async (succeeded) => {
		rememberSuccess(succeeded);
		// Through the pool again: a slow answer may come after an idle close. A failed settle leaves the pending
		// claim to expire: a delayed retry at worst.
		const current = connect(settings);
		await attempt(current, log, 'settle', async () => {
			await current.firstConnect;
			return succeeded ? await current.redis.keepClaim(key, token, windowMs) : await current.redis.releaseClaim(key, token);
		});
	};
	// Every look carries this delivery's token, so one answered late may still have taken the claim for it.
	const looks: Array<Promise<boolean>> = [];
	const unavailable = (): Claim => ({
		outcome: 'unavailable',
		settle: async (succeeded) => ((await Promise.all(looks)).includes(true) ? await settle(succeeded) : rememberSuccess(succeeded)),
	});
	const deadline = performance.now() + twinWait.maxMs;
	let pause = twinWait.firstPollMs;
	let waits = false;
	try {
		for (;;) {
			const pooled = connect(settings);
			const claim = await attempt(pooled, log, 'claim', async () => {
				// A new connection's first claim waits for it within the same deadline: a Redis that accepts the
				// connection but never answers holds a delivery up no longer than a slow one.
				const send = async () => await pooled.redis.claim(key, token, lifetimeMs);
				const command = pooled.firstConnect ? pooled.firstConnect.then(send) : send();
				looks.push(command.then((holder) => holder === token, () => false));
				return await withinTimeout(command);
			});
			if (claim.ok && claim.value === token) {
				void renewUntilSettled(settings, key, token, lifetimeMs, claimed);
				return { outcome: 'claimed', settle };
			}
			if (claim.ok && claim.value === SETTLED) return { outcome: 'duplicate' };
			// Redis failing before any twin was seen is an outage: emitted unclaimed. Once the twin is known to be in
			// flight, a failed look only says nothing new: the copy looks again until the wait is over.
			if (!claim.ok && !waits) return unavailable();
			if (!waits) {
				if (waiting >= twinWait.maxWaiting) return { outcome: 'pending' };
				waits = true;
				waiting++;
			}
			// The last look comes at the deadline: a twin that settles just before it is still seen.
			const left = deadline - performance.now();
			if (left <= 0) return claim.ok ? { outcome: 'pending' } : unavailable();
			// (A shared timer for the usual pauses; the last, shorter one has a timer of its own.)
			await (left < pause ? delay(left) : slottedDelay(pause));
			pause = Math.min(pause * 2, twinWait.maxPollMs);
			if (settledByThisProcess(key)) return { outcome: 'duplicate' };
		}
	} finally {
		if (waits) waiting--;
	}
}

/**
 * Keeps a pending claim alive while its delivery is answered: renewed every `renewEveryMs` until it is
 * settled, is no longer this delivery's (it expired and a copy took it), or `renewForMs` have passed. A
 * renewal Redis does not answer is tried again next time; the claim may expire meanwhile, as in any outage.
 */
async function renewUntilSettled(settings: RedisSettings, key: string, token: string, lifetimeMs: number, claimed: { settled: boolean }): Promise<void> {
	const until = performance.now() + pendingClaims.renewForMs;
	for (;;) {
		// Shared timers: most deliveries are settled long before the first renewal, which is then all they cost.
		await slottedDelay(pendingClaims.renewEveryMs);
		if (claimed.settled || performance.now() >= until) return;
		// Never opens a connection: one closed meanwhile (tests; a process shutting down) ends the renewals.
		const pooled = pool.get(poolKey(settings));
		if (pooled === undefined) return;
		pooled.lastUsed = Date.now();
		const renewed = await pooled.redis.renewClaim(key, token, lifetimeMs).catch(() => undefined);
		if (renewed === 0) return;
	}
}

/** Settled keys a process remembers before it forgets the oldest (~150 bytes each). Tests lower it. */
export const settledMemory = { limit: 10_000 };

/**
 * The keys this process settled as a success, and until when (their window): a copy that comes back to the
 * same process is a duplicate without a round trip to Redis, and still is while Redis is down.
 */
const settledHere = new RecentKeys(() => settledMemory.limit);

function settledByThisProcess(key: string): boolean {
	const until = settledHere.get(key);
	if (until === undefined) return false;
	// A monotonic clock: a wall clock set back must not stretch the window.
	if (performance.now() < until) return true;
	settledHere.delete(key);
	return false;
}

/** Forgets what this process settled (tests: a copy that goes to "another process"). */
export function forgetSettledHere(): void {
	settledHere.clear();
}

/** Closes every pooled connection (tests: n8n gives a webhook node no shutdown hook, so a process closes idle ones after five minutes). */
export async function closeRedisConnections(): Promise<void> {
	const connections = [...pool.values()];
	pool.clear();
	await Promise.all(connections.map(async ({ redis }) => await close(redis)));
}
