import { RecentKeys } from '../../nodes/ActiveCampaignTrigger/delivery/recentKeys';

describe('RecentKeys', () => {
	it('forgets the oldest keys beyond its limit; setting a key again makes it the newest', () => {
		const keys = new RecentKeys(() => 3);
		for (const [key, time] of [['a', 1], ['b', 2], ['c', 3]] as const) keys.set(key, time);
		keys.set('a', 4);
		keys.set('d', 5);
		expect(['a', 'b', 'c', 'd'].map((key) => keys.get(key))).toEqual([4, undefined, 3, 5]);
		expect(keys.size).toBe(3);
	});

	it('keeps yielding the oldest key across deletes, clears and later inserts', () => {
		let limit = 2;
		const keys = new RecentKeys(() => limit);
		keys.set('a', 1);
		keys.set('b', 2);
		keys.set('c', 3); // forgets a
		keys.delete('b');
		keys.clear();
		keys.set('x', 4);
		keys.set('y', 5);
		keys.set('z', 6); // forgets x
		expect(['x', 'y', 'z'].map((key) => keys.get(key))).toEqual([undefined, 5, 6]);
		limit = 1;
		keys.set('w', 7);
		expect(['y', 'z', 'w'].map((key) => keys.get(key))).toEqual([undefined, undefined, 7]);
	});

	it('holds nothing with a limit of zero or below, and returns', () => {
		for (const limit of [0, -1]) {
			const keys = new RecentKeys(() => limit);
			keys.set('a', 1);
			expect(keys.size).toBe(0);
			expect(keys.get('a')).toBeUndefined();
		}
	});
});
