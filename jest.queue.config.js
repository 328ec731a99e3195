/**
 * The queue-mode suite: the Redis dedup store on a real Redis, and n8n in queue mode (main, two webhook
 * processes, a worker) on real PostgreSQL and Redis. Needs those services; see README, "Queue mode".
 * @type {import('jest').Config}
 */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/queue'],
	testMatch: ['**/*.queue.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
	maxWorkers: 1,
	testTimeout: 600_000,
};
