import { delay, slottedDelay } from '../../nodes/ActiveCampaignTrigger/timers';

describe('slottedDelay', () => {
	it('waits at least the time asked, and at most one slot (50 ms) more', async () => {
		const started = performance.now();
		await slottedDelay(120);
		const waited = performance.now() - started;
		expect(waited).toBeGreaterThanOrEqual(119);
		// Not a performance assert: the bound is the helper's contract, with room for a busy machine.
		expect(waited).toBeLessThan(120 + 50 + 1000);
	});

	it('makes a call that joins a slot\'s timer late still wait the whole time from its own start', async () => {
		// Slots are 50 ms of performance.now(): start near the beginning of one, join it 30 ms later.
		await delay(50 - (performance.now() % 50) + 2);
		const timed = async (ms: number) => {
			const started = performance.now();
			await slottedDelay(ms);
			return performance.now() - started;
		};
		const first = timed(100);
		await delay(30);
		const [firstWaited, laterWaited, longerWaited] = await Promise.all([first, timed(100), timed(300)]);
		expect(firstWaited).toBeGreaterThanOrEqual(99);
		expect(laterWaited).toBeGreaterThanOrEqual(99);
		expect(longerWaited).toBeGreaterThanOrEqual(299);
	});
});
