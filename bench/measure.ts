/**
 * Side-by-side timing for a shared, noisy machine: contenders run in the same process, round after round,
 * in alternating order, and only ratios taken within one round and medians over rounds are reported.
 */

export function median(values: readonly number[]): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const middle = sorted.length >> 1;
	return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nanoseconds `work` takes. */
export function timeNs(work: () => void): number {
	const start = process.hrtime.bigint();
	work();
	return Number(process.hrtime.bigint() - start);
}

export interface Contender {
	name: string;
	/** Runs one round (the same amount of work as the other contenders) and returns its nanoseconds. */
	runRound(round: number): number;
}

export interface Comparison {
	/** Median nanoseconds per round, by contender name. */
	medianNs: Record<string, number>;
	/** Median over rounds of `first / second` from the same round. */
	ratio: number;
	/** Each round's `first / second`, for results.raw.json. */
	roundRatios: number[];
}

/**
 * Runs two contenders `rounds` times (after `warmupRounds` that are thrown away), first in one order, then in
 * the other, so neither always benefits from a warm cache or a quiet moment.
 */
export function compareInterleaved(
	first: Contender,
	second: Contender,
	options: { rounds: number; warmupRounds: number },
): Comparison {
	const times: Record<string, number[]> = { [first.name]: [], [second.name]: [] };
	const roundRatios: number[] = [];
	for (let round = 0; round < options.warmupRounds + options.rounds; round++) {
		const order = round % 2 === 0 ? [first, second] : [second, first];
		const taken: Record<string, number> = {};
		for (const contender of order) taken[contender.name] = contender.runRound(round);
		if (round < options.warmupRounds) continue;
		times[first.name].push(taken[first.name]);
		times[second.name].push(taken[second.name]);
		roundRatios.push(taken[first.name] / taken[second.name]);
	}
	return {
		medianNs: { [first.name]: median(times[first.name]), [second.name]: median(times[second.name]) },
		ratio: median(roundRatios),
		roundRatios,
	};
}
