import { delay, slottedDelay } from '../../nodes/ActiveCampaignTrigger/timers';

describe('slottedDelay', () => {
	it('waits at least the time asked', async () => {
		const started = performance.now();
		await slottedDelay(120);
		expect(performance.now() - started).toBeGreaterThanOrEqual(119);
	});

	it('gives calls of one slot one timer: they end together, a call of the next slot later', async () => {
		// Start near the beginning of a slot, so both first calls fall in it.
		await delay(50 - (performance.now() % 50) + 2);
		const ended: string[] = [];
		const track = async (name: string) => {
			await slottedDelay(80);
			ended.push(name);
		};
		const sameSlot = [track('first'), track('second')];
		await delay(60);
		const nextSlot = track('next slot');
		await sameSlot[0];
		// The second call's continuation runs in the same turn as the first's: one timer resolved both.
		await Promise.resolve();
		expect(ended).toEqual(['first', 'second']);
		await Promise.all([...sameSlot, nextSlot]);
		expect(ended).toEqual(['first', 'second', 'next slot']);
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
