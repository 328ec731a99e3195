/**
 * The Redis dedup store against a real redis-server of the test's own: atomic claims, settling, expiry, and
 * outages (stopped, slow) that never lose a delivery.
 */
import net from 'node:net';

import Redis from 'ioredis';

import {
	COMMAND_TIMEOUT_MS,
	CONNECT_TIMEOUT_MS,
	claimDelivery,
	closeRedisConnections,
	dedupKey,
	forgetSettledHere,
	pooledConnectionCount,
	pooling,
	settledMemory,
	twinWait,
	waitingCopies,
	type Claim,
	type RedisSettings,
} from '../../nodes/ActiveCampaignTrigger/delivery/redisStore';
import { OwnRedis } from './redisServer';
import { withPendingClaims, withTwinWait } from './storeSettings';
import { RecordingLog } from '../support/recordingLog';

let server: OwnRedis;
let settings: RedisSettings;
let admin: Redis;
let keys = 0;
const WINDOW_MS = 60 * 60_000;

const newKey = () => dedupKey('wf-1:node-1:webhook', `fingerprint-${++keys}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Claimed = Extract<Claim, { outcome: 'claimed' }>;
type Unavailable = Extract<Claim, { outcome: 'unavailable' }>;
/** One delivery's claim of `key`, as the node makes it (for the window unless told). */
const claimOf = async (key: string, log = new RecordingLog(), windowMs = WINDOW_MS) => await claimDelivery(settings, key, windowMs, log);
/** A claim the test knows it gets. */
const claimedOf = async (key: string, windowMs = WINDOW_MS) => (await claimOf(key, new RecordingLog(), windowMs)) as Claimed;

beforeAll(async () => {
	server = await OwnRedis.start();
	settings = { host: '127.0.0.1', port: server.port, database: 3, ssl: false, disableTlsVerification: false };
	admin = new Redis({ host: '127.0.0.1', port: server.port, db: 3, lazyConnect: true, maxRetriesPerRequest: 0 });
	admin.on('error', () => undefined);
});

afterAll(async () => {
	await closeRedisConnections();
	admin.disconnect();
	await server.stop();
});

describe('claims', () => {
	it('gives exactly one of 50 concurrent copies the claim; the others wait for it and are duplicates once it succeeded', async () => {
		const key = newKey();
		const copies = Array.from({ length: 50 }, async () => await claimOf(key));
		const first = await Promise.race(copies);
		expect(first.outcome).toBe('claimed');
		// The 49 others are still waiting: the claim is pending.
		expect(await admin.get(key)).toMatch(/^p:/);
		await sleep(150);
		const settled = (first as Claimed).settle(true);
		// The waiting copies learn it from Redis alone, as at another process.
		forgetSettledHere();
		await settled;
		const outcomes = (await Promise.all(copies)).map((claim) => claim.outcome);
		expect(outcomes.sort()).toEqual(['claimed', ...Array.from({ length: 49 }, () => 'duplicate')]);
	});

	it('lets a waiting copy take the claim when its twin failed, and no second one', async () => {
		const key = newKey();
		const twin = await claimedOf(key);
		const copies = [0, 1].map(async () => await claimOf(key));
		await sleep(150);
		await twin.settle(false);
		const settled = await Promise.race(copies);
		expect(settled.outcome).toBe('claimed');
		await (settled as Claimed).settle(true);
		const outcomes = (await Promise.all(copies)).map((claim) => claim.outcome);
		expect(outcomes.sort()).toEqual(['claimed', 'duplicate']);
	});

	it(`answers "pending" only when the twin is still unsettled after the wait, and leaves the twin's claim alone`, async () => {
		await withTwinWait({ maxMs: 1_000 }, async () => {
			const key = newKey();
			await claimOf(key);
			const held = await admin.get(key);
			const started = performance.now();
			expect((await claimOf(key)).outcome).toBe('pending');
			// It did wait (a lower bound, not a timing assert): its last look came at the end of the wait.
			expect(performance.now() - started).toBeGreaterThanOrEqual(twinWait.maxMs);
			expect(await admin.get(key)).toBe(held);
		});
	});

	it('still sees a twin that succeeds just before the wait ends (a last look at the deadline)', async () => {
		// Looks after about 100, 300 and 700 ms (each up to 50 ms later); the next pause would overshoot, so the
		// last look comes at 1,100 ms. The twin succeeds between the two.
		await withTwinWait({ maxMs: 1_100 }, async () => {
			const key = newKey();
			const twin = await claimedOf(key);
			const copy = claimOf(key);
			await sleep(950);
			const settled = twin.settle(true);
			forgetSettledHere(); // from Redis, as at another process
			await settled;
			expect((await copy).outcome).toBe('duplicate');
		});
	});

	it('answers "pending" at once past the copies a process lets wait, and counts a finished wait out', async () => {
		await withTwinWait({ maxWaiting: 1 }, async () => {
			const key = newKey();
			const twin = await claimedOf(key);
			let waited: Claim | undefined;
			const waits = claimOf(key).then((claim) => (waited = claim));
			while (waitingCopies() === 0) await sleep(5);
			expect((await claimOf(key)).outcome).toBe('pending');
			// At once: the copy that waits is still waiting.
			expect(waited).toBeUndefined();
			await twin.settle(false);
			expect((await waits).outcome).toBe('claimed');
			expect(waitingCopies()).toBe(0);
		});
	});

	it('holds a pending claim briefly and a settled success for the whole window', async () => {
		const key = newKey();
		const claim = await claimedOf(key);
		const pendingTtl = await admin.pttl(key);
		expect(pendingTtl).toBeGreaterThan(0);
		expect(pendingTtl).toBeLessThanOrEqual(30_000);
		await claim.settle(true);
		expect(await admin.get(key)).toBe('d');
		expect(await admin.pttl(key)).toBeGreaterThan(30_000);
		forgetSettledHere(); // as another process would see it
		expect((await claimOf(key)).outcome).toBe('duplicate');
	});

	it('answers a copy that comes back to the process that settled it without Redis, for the window only', async () => {
		const key = newKey();
		const windowMs = 400;
		const claim = await claimedOf(key, windowMs);
		await claim.settle(true);
		await admin.del(key); // only this process's memory is left
		const log = new RecordingLog();
		expect((await claimOf(key, log, windowMs)).outcome).toBe('duplicate');
		expect(await admin.exists(key)).toBe(0);
		expect(log.lines).toEqual([]);

		await sleep(windowMs + 100);
		expect((await claimOf(key, log, windowMs)).outcome).toBe('claimed');
	});

	it('remembers only the newest settled keys, up to its limit', async () => {
		const limit = settledMemory.limit;
		settledMemory.limit = 2;
		try {
			const keys = [newKey(), newKey(), newKey()];
			for (const key of keys) {
				const claim = await claimedOf(key);
				await claim.settle(true);
				await admin.del(key);
			}
			const outcomes = [];
			for (const key of keys) outcomes.push((await claimOf(key)).outcome);
			expect(outcomes).toEqual(['claimed', 'duplicate', 'duplicate']);
		} finally {
			settledMemory.limit = limit;
		}
	});

	it('does not remember a claim whose answer was not a success', async () => {
		const key = newKey();
		const claim = await claimedOf(key);
		await claim.settle(false);
		expect((await claimOf(key)).outcome).toBe('claimed');
	});

	it('deletes the claim when the answer was not a success, so the retry runs', async () => {
		const key = newKey();
		const claim = await claimedOf(key);
		await claim.settle(false);
		expect(await admin.exists(key)).toBe(0);
		expect((await claimOf(key)).outcome).toBe('claimed');
	});

	it('lets an unsettled claim expire (a process died mid-request), and never deletes a later claim', async () => {
		const key = newKey();
		const windowMs = 300;
		const first = await claimedOf(key, windowMs);
		await sleep(windowMs + 100);
		const second = await claimOf(key, new RecordingLog(), windowMs);
		expect(second.outcome).toBe('claimed');
		await first.settle(false);
		expect(await admin.exists(key)).toBe(1);
	});

	it('renews a pending claim while its delivery is being answered: a slow answer does not let a copy run', async () => {
		await withPendingClaims({ lifetimeMs: 1_000, renewEveryMs: 200 }, async () => {
			const key = newKey();
			const first = await claimedOf(key);
			const held = await admin.get(key);
			await sleep(2_500);
			expect(await admin.get(key)).toBe(held);
			await withTwinWait({ maxMs: 300 }, async () => expect((await claimOf(key)).outcome).toBe('pending'));
			await first.settle(true);
			forgetSettledHere(); // from Redis, as at another process
			expect((await claimOf(key)).outcome).toBe('duplicate');
		});
	});

	it('stops renewing after renewForMs: a request that never ends leaves a claim that expires', async () => {
		await withPendingClaims({ lifetimeMs: 1_000, renewEveryMs: 200, renewForMs: 600 }, async () => {
			const key = newKey();
			await claimedOf(key);
			await sleep(2_500);
			expect(await admin.exists(key)).toBe(0);
			expect((await claimOf(key)).outcome).toBe('claimed');
		});
	});

	it('keys claims by workflow, node and mode under the documented prefix', () => {
		expect(dedupKey('wf-1:node-1:webhook', 'abc')).toBe('n8n-nodes-activecampaign-trigger:dedup:wf-1:node-1:webhook:abc');
	});
});

describe('outages', () => {
	/** Claims new keys until Redis answers again (the store reconnects on its own): the first outcome that is not "unavailable". */
	async function firstClaimOnceBack(log: RecordingLog): Promise<string> {
		let outcome = 'unavailable';
		for (let attempt = 0; attempt < 100 && outcome === 'unavailable'; attempt++) {
			outcome = (await claimOf(newKey(), log)).outcome;
			if (outcome === 'unavailable') await sleep(100);
		}
		return outcome;
	}

	it('passes deliveries through while Redis is stopped, warns once, and resumes when it is back', async () => {
		const log = new RecordingLog();
		const key = newKey();
		expect((await claimOf(key, log)).outcome).toBe('claimed');
		await server.stop();
		const during = [];
		for (let i = 0; i < 5; i++) during.push((await claimOf(newKey(), log)).outcome);
		expect(during).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable', 'unavailable']);
		// A delivery that went through unclaimed and was answered with a 2xx: its copies to this process are
		// duplicates even while Redis is down.
		const wentThrough = newKey();
		const unclaimed = await claimOf(wentThrough, log);
		expect(unclaimed.outcome).toBe('unavailable');
		await (unclaimed as Unavailable).settle(true);
		expect((await claimOf(wentThrough, log)).outcome).toBe('duplicate');
		expect(log.lines.filter((line) => line.startsWith('warn:'))).toHaveLength(1);
		expect(log.lines[0]).toMatch(/^warn: ActiveCampaign Trigger: the Redis dedup store does not answer/);

		await server.resume();
		expect(await firstClaimOnceBack(log)).toBe('claimed');
		expect(log.lines.filter((line) => line.startsWith('warn:'))).toHaveLength(1);
		expect(log.lines.at(-1)).toBe('info: ActiveCampaign Trigger: the Redis dedup store answers again; deduplication resumed');
	});

	it('emits a copy unclaimed when Redis stops while it waits for its twin (a duplicate at worst, never a lost event)', async () => {
		const key = newKey();
		await claimOf(key);
		const log = new RecordingLog();
		const copy = claimOf(key, log);
		await sleep(150);
		await server.stop();
		try {
			expect((await copy).outcome).toBe('unavailable');
			expect(log.lines).toHaveLength(1);
			expect(log.lines[0]).toMatch(/^warn: ActiveCampaign Trigger: the Redis dedup store does not answer/);
		} finally {
			await server.resume();
		}
		expect(await firstClaimOnceBack(log)).toBe('claimed');
	});

	/** Runs `during` while the test's Redis sleeps for `seconds` (DEBUG SLEEP), then waits for it to wake. */
	async function whileRedisSleeps<T>(seconds: number, during: () => Promise<T>): Promise<T> {
		const blocker = new Redis({ host: '127.0.0.1', port: server.port });
		try {
			const blocked = blocker.call('DEBUG', 'SLEEP', String(seconds));
			await sleep(50);
			const result = await during();
			await blocked;
			return result;
		} finally {
			blocker.disconnect();
		}
	}

	it('keeps waiting through a look Redis answers too late once the twin is known, so the twin\'s success makes it a duplicate', async () => {
		await withTwinWait({ maxMs: 5_000 }, async () => {
			const key = newKey();
			const twin = await claimedOf(key);
			const log = new RecordingLog();
			const copy = claimOf(key, log);
			await sleep(150);
			await whileRedisSleeps(1, async () => await sleep(900));
			// The copy's look during the sleep timed out (one warning), and it kept waiting.
			expect(log.lines.filter((line) => line.startsWith('warn:'))).toHaveLength(1);
			await twin.settle(true);
			expect((await copy).outcome).toBe('duplicate');
		});
	});

	it(`passes a delivery through when Redis is slower than ${COMMAND_TIMEOUT_MS} ms, and settles its claim when it lands late`, async () => {
		const log = new RecordingLog();
		await claimOf(newKey(), log);
		const key = newKey();
		const slow = await whileRedisSleeps(1.5, async () => await claimOf(key, log));
		expect(slow.outcome).toBe('unavailable');
		expect(log.lines.filter((line) => line.startsWith('warn:'))).toHaveLength(1);
		// The SET sent before the timeout ran once Redis woke: the delivery that went through holds a pending claim.
		expect(await admin.get(key)).toMatch(/^p:/);
		await (slow as Unavailable).settle(true);
		expect(await admin.get(key)).toBe('d');
		expect(await admin.pttl(key)).toBeGreaterThan(30_000);
		expect((await claimOf(key, log)).outcome).toBe('duplicate');
	});

	it('takes an answer that arrived while the event loop was blocked past the deadline, not a timeout', async () => {
		const log = new RecordingLog();
		await claimOf(newKey(), log);
		const key = newKey();
		// Redis answers 300 ms after the claim is sent; the process is busy from 250 ms to past the 550 ms deadline.
		const outcome = await whileRedisSleeps(0.3, async () => {
			const claim = claimOf(key, log);
			await sleep(200);
			// Blocked in the loop's check phase, as n8n's work after reading a request is: its next turn runs due
			// timers before it reads the sockets.
			await new Promise((resolve) => setImmediate(resolve));
			const busyUntil = performance.now() + COMMAND_TIMEOUT_MS;
			while (performance.now() < busyUntil) {
				// the event loop blocked, as by n8n building an expression isolate
			}
			return (await claim).outcome;
		});
		expect(outcome).toBe('claimed');
		expect(log.lines.filter((line) => line.startsWith('warn:'))).toEqual([]);
	});

	it('warns once while Redis stays slow, and says deduplication resumed only when a claim is answered in time', async () => {
		// A claim answered in time first, so that no earlier test's outage is still open.
		await claimOf(newKey());
		const log = new RecordingLog();
		for (let delivery = 0; delivery < 3; delivery++) {
			const slow = await whileRedisSleeps(1, async () => await claimOf(newKey(), log));
			expect(slow.outcome).toBe('unavailable');
			// The late claim is settled once Redis woke: an answer, but not one in time.
			await (slow as Unavailable).settle(true);
		}
		expect(log.lines).toEqual([
			`warn: ActiveCampaign Trigger: the Redis dedup store does not answer (no answer within ${COMMAND_TIMEOUT_MS} ms); deliveries are emitted without deduplication until it does`,
		]);
		expect((await claimOf(newKey(), log)).outcome).toBe('claimed');
		expect(log.lines.at(-1)).toBe('info: ActiveCampaign Trigger: the Redis dedup store answers again; deduplication resumed');
	});

	it('passes the first delivery through within the claim deadline when Redis accepts connections but never answers', async () => {
		const accepted: net.Socket[] = [];
		const silent = net.createServer((socket) => accepted.push(socket));
		await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
		try {
			const port = (silent.address() as net.AddressInfo).port;
			const log = new RecordingLog();
			const started = performance.now();
			const claim = await claimDelivery({ ...settings, port }, newKey(), WINDOW_MS, log);
			const waitedMs = performance.now() - started;
			expect(claim.outcome).toBe('unavailable');
			// Not the 2 s the connection itself may take: the deadline of a claim is COMMAND_TIMEOUT_MS (+50 ms).
			expect(waitedMs).toBeLessThan(CONNECT_TIMEOUT_MS - 500);
			expect(log.lines).toEqual([`warn: ActiveCampaign Trigger: the Redis dedup store does not answer (no answer within ${COMMAND_TIMEOUT_MS} ms); deliveries are emitted without deduplication until it does`]);
		} finally {
			await closeRedisConnections();
			for (const socket of accepted) socket.destroy();
			await new Promise((resolve) => silent.close(resolve));
		}
	});

	it('names the cause in its warning when Redis refuses the credential', async () => {
		await admin.call('ACL', 'SETUSER', 'dedup-test', 'on', '>right-password', '~*', '+@all');
		const log = new RecordingLog();
		try {
			const claim = await claimDelivery({ ...settings, user: 'dedup-test', password: 'wrong-password' }, newKey(), WINDOW_MS, log);
			expect(claim.outcome).toBe('unavailable');
			expect(log.lines).toEqual([
				"warn: ActiveCampaign Trigger: the Redis dedup store does not answer (Stream isn't writeable and enableOfflineQueue options is false; the connection failed with: WRONGPASS invalid username-password pair or user is disabled.); deliveries are emitted without deduplication until it does",
			]);
			expect(JSON.stringify(log.lines)).not.toContain('wrong-password');
		} finally {
			await closeRedisConnections();
		}
	});

	it('gives up a late-landing claim when the delivery that went through was not answered with a 2xx', async () => {
		const key = newKey();
		const slow = await whileRedisSleeps(1, async () => await claimOf(key));
		expect(slow.outcome).toBe('unavailable');
		await (slow as Unavailable).settle(false);
		expect(await admin.exists(key)).toBe(0);
		expect((await claimOf(key)).outcome).toBe('claimed');
	});

	it('never turns a later copy\'s pending claim into a settled one when its own claim had expired', async () => {
		const key = newKey();
		const windowMs = 300;
		const first = await claimedOf(key, windowMs);
		await sleep(windowMs + 100);
		expect((await claimOf(key)).outcome).toBe('claimed');
		await first.settle(true);
		expect(await admin.get(key)).toMatch(/^p:/);
	});
});

describe('pooled connections', () => {
	/** The store's own connections, as the Redis server lists them. */
	async function storeConnectionsOnServer(): Promise<number> {
		const clients = String(await admin.call('CLIENT', 'LIST'));
		return clients.split('\n').filter((line) => line.includes('name=n8n-nodes-activecampaign-trigger')).length;
	}

	it('shares one connection per credential, closes it once idle, and opens it again for the next delivery', async () => {
		await closeRedisConnections();
		const idleCloseMs = pooling.idleCloseMs;
		pooling.idleCloseMs = 300;
		try {
			const claims = await Promise.all(Array.from({ length: 20 }, async () => await claimOf(newKey())));
			expect(claims.every((claim) => claim.outcome === 'claimed')).toBe(true);
			expect(pooledConnectionCount()).toBe(1);
			expect(await storeConnectionsOnServer()).toBe(1);

			await sleep(600);
			expect(pooledConnectionCount()).toBe(0);
			expect(await storeConnectionsOnServer()).toBe(0);

			const key = newKey();
			const claim = await claimedOf(key);
			expect(claim.outcome).toBe('claimed');
			await sleep(600);
			// An answer that comes after an idle close still settles its claim, through a new connection.
			await claim.settle(true);
			expect(await admin.get(key)).toBe('d');
		} finally {
			pooling.idleCloseMs = idleCloseMs;
			await closeRedisConnections();
		}
	});
});
