/**
 * A redis-server of the test's own, on a free port, that a test may stop and start again (an outage of the
 * dedup store without touching the Redis that n8n's queue runs on). Needs the `redis-server` binary
 * (Debian: `apt-get install redis-server`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export async function freePort(): Promise<number> {
	return await new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

async function answers(port: number): Promise<boolean> {
	return await new Promise((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		socket.once('connect', () => {
			socket.end();
			resolve(true);
		});
		socket.once('error', () => resolve(false));
	});
}

export class OwnRedis {
	private child: ChildProcess | undefined;

	private constructor(readonly port: number) {}

	static async start(): Promise<OwnRedis> {
		const redis = new OwnRedis(await freePort());
		await redis.resume();
		return redis;
	}

	/** Starts the server (again) on the same port, with nothing kept from before. */
	async resume(): Promise<void> {
		const child = spawn('redis-server', [
				...['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
				// DEBUG SLEEP makes a slow Redis for the timeout test.
				...['--enable-debug-command', 'yes'],
			], {
			stdio: 'ignore',
		});
		this.child = child;
		const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
		for (let attempt = 0; attempt < 100; attempt++) {
			if (await Promise.race([answers(this.port), spawnError])) return;
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		throw new Error(`redis-server did not start on port ${this.port}`);
	}

	/** Kills the server at once, as a crash or a network cut would end it. */
	async stop(): Promise<void> {
		const child = this.child;
		if (!child || child.exitCode !== null) return;
		const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
		child.kill('SIGKILL');
		await exited;
		this.child = undefined;
	}
}
