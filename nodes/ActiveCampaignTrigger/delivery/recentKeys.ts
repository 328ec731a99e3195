/**
 * Keys with a time each, newest last, that forget the oldest beyond a limit: the in-process memory of both
 * dedup stores (claims of the static-data store, settled keys of the Redis store).
 */
export class RecentKeys {
	private readonly times = new Map<string, number>();
	/**
	 * One live iterator, kept across calls: a Map keeps the slots of deleted keys until it rehashes, and every
	 * fresh `keys()` iterator walks past all of them (5-9 µs per event at the limit). A live iterator skips
	 * deleted keys and reaches keys added later, so it still yields the oldest key.
	 */
	private oldestFirst = this.times.keys();

	constructor(private readonly limit: () => number) {}

	get(key: string): number | undefined {
		return this.times.get(key);
	}

	/** Sets the key's time and makes it the newest (re-inserting moves it last), then forgets beyond the limit. */
	set(key: string, time: number): void {
		this.times.delete(key);
		this.times.set(key, time);
		const limit = Math.max(0, this.limit());
		while (this.times.size > limit) this.forgetOldest();
	}

	delete(key: string): void {
		this.times.delete(key);
	}

	clear(): void {
		this.times.clear();
	}

	get size(): number {
		return this.times.size;
	}

	private forgetOldest(): void {
		let oldest = this.oldestFirst.next();
		if (oldest.done) {
			// A finished iterator stays finished even when keys are added; start again from the oldest.
			this.oldestFirst = this.times.keys();
			oldest = this.oldestFirst.next();
		}
		if (!oldest.done) this.times.delete(oldest.value);
	}
}
