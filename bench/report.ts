/**
 * The goals from the issue, the results file and the table. A missed goal is reported, never a failure: the
 * timings come from shared, noisy machines.
 */

export type ResultKey =
	| 'p1_ratio_typical'
	| 'p1_ratio_200fields'
	| 'p1_ratio_deal_update'
	| 'p1_ratio_named_fields'
	| 'p2_ratio_100k_vs_100'
	| 'p2_state_bytes'
	| 'p3_ratio_latency'
	| 'p3_ratio_latency_v2'
	| 'p4_heap_growth_mb'
	| 'p5_throughput_ratio'
	| 'p5_extra_executions'
	| 'p5_static_writes_per_event'
	| 'p5_throughput_ratio_v2'
	| 'p5_extra_executions_v2'
	| 'p5_static_writes_per_event_v2';

interface Goal {
	key: ResultKey;
	what: string;
	goal: string;
	/** Undefined: reported without a goal. */
	met?: (value: number) => boolean;
	digits: number;
}

export const GOALS: readonly Goal[] = [
	{ key: 'p1_ratio_typical', what: 'pipeline / qs.parse, typical contact event', goal: '<= 2.0', met: (v) => v <= 2, digits: 2 },
	{ key: 'p1_ratio_200fields', what: 'pipeline / qs.parse, 200 custom fields', goal: '<= 2.0', met: (v) => v <= 2, digits: 2 },
	{ key: 'p1_ratio_deal_update', what: 'pipeline / qs.parse, deal_update, 30 fields', goal: '<= 2.0', met: (v) => v <= 2, digits: 2 },
	{ key: 'p1_ratio_named_fields', what: 'pipeline, fields by title (names cached) / by id, typical', goal: '<= 1.1', met: (v) => v <= 1.1, digits: 3 },
	{ key: 'p2_ratio_100k_vs_100', what: 'dedup decision, 100,000 keys / 100 keys', goal: '<= 1.2', met: (v) => v <= 1.2, digits: 2 },
	{ key: 'p2_state_bytes', what: 'persisted dedup state after 1,000,000 events', goal: '<= 32768', met: (v) => v <= 32768, digits: 0 },
	{ key: 'p3_ratio_latency', what: 'HTTP latency in n8n, ours / built-in (median of runs)', goal: '<= 1.05', met: (v) => v <= 1.05, digits: 3 },
	{ key: 'p3_ratio_latency_v2', what: 'the same in n8n 2.x', goal: '<= 1.05', met: (v) => v <= 1.05, digits: 3 },
	{ key: 'p4_heap_growth_mb', what: 'heap growth over 1,000,000 events (MB)', goal: '< 20', met: (v) => v < 20, digits: 2 },
	{ key: 'p5_throughput_ratio', what: 'queue mode: sustained deliveries/s, ours (Redis) / built-in (median)', goal: '>= 1.0', met: (v) => v >= 1, digits: 3 },
	{ key: 'p5_extra_executions', what: 'queue mode: executions beyond distinct events', goal: '0', met: (v) => v === 0, digits: 0 },
	{ key: 'p5_static_writes_per_event', what: 'queue mode: static-data row writes per event', goal: '0', met: (v) => v === 0, digits: 3 },
	{ key: 'p5_throughput_ratio_v2', what: 'queue mode, n8n 2.x: sustained deliveries/s, ours / built-in', goal: '>= 1.0', met: (v) => v >= 1, digits: 3 },
	{ key: 'p5_extra_executions_v2', what: 'n8n 2.x: executions beyond distinct events', goal: '0', met: (v) => v === 0, digits: 0 },
	{ key: 'p5_static_writes_per_event_v2', what: 'n8n 2.x: static-data row writes per event', goal: '0', met: (v) => v === 0, digits: 3 },
];

export type Results = Record<ResultKey, number | null> & {
	node_version: string;
	n8n_version: string | null;
	/** The n8n 2.x of `p3_ratio_latency_v2`. */
	n8n_version_v2: string | null;
	runs: number;
	/** P3's ratio in each of its runs (a fresh n8n each); `p3_ratio_latency` is their median. */
	p3_runs: number[] | null;
	/** The same in n8n 2.x. */
	p3_runs_v2: number[] | null;
	/** P5's ratio in each of its passes (one queue-mode n8n); `p5_throughput_ratio` is their median. */
	p5_runs: number[] | null;
	/** The same in n8n 2.x. */
	p5_runs_v2: number[] | null;
	mode: 'full' | 'smoke';
	measured_at: string;
	/** Per-event times and the other numbers behind the ratios. */
	details: Record<string, unknown>;
};

export function round(value: number, digits: number): number {
	const factor = 10 ** digits;
	return Math.round(value * factor) / factor;
}

function verdict(goal: Goal, value: number | null): string {
	if (value === null) return 'skipped';
	if (!goal.met) return 'info';
	return goal.met(value) ? 'pass' : 'MISS';
}

/** A Markdown table, readable in a terminal and pasteable into a README. */
export function resultsTable(results: Results): string {
	const rows = GOALS.map((goal) => {
		const value = results[goal.key];
		return [goal.key, goal.what, value === null ? '-' : value.toFixed(goal.digits), goal.goal, verdict(goal, value)];
	});
	const header = ['key', 'measures', 'value', 'goal', 'result'];
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
	const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
	return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

export function missedGoals(results: Results): string[] {
	return GOALS.filter((goal) => verdict(goal, results[goal.key]) === 'MISS').map((goal) => goal.key);
}

/** Horizontal bars, for the README and the terminal. */
export function barChart(rows: ReadonlyArray<{ label: string; value: number }>, unit: string, width = 40): string {
	const largest = Math.max(...rows.map((row) => row.value));
	const labelWidth = Math.max(...rows.map((row) => row.label.length));
	return rows
		.map((row) => {
			const bar = '█'.repeat(Math.max(1, Math.round((row.value / largest) * width)));
			return `${row.label.padEnd(labelWidth)}  ${bar} ${row.value.toFixed(1)} ${unit}`;
		})
		.join('\n');
}
