/**
 * End-to-end tests against a real n8n (both majors), one test file at a time: each starts n8n processes.
 * Needs `scripts/install-n8n.sh v1` and `v2` first; see the `test:e2e` script.
 * @type {import('jest').Config}
 */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.test.ts'],
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
	maxWorkers: 1,
	// Starting n8n takes 15-60 s on two cores; single steps (activation, executions) have their own limits.
	testTimeout: 300_000,
};
