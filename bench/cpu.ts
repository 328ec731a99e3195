/**
 * CPU time by role over a stretch of a benchmark, read from Linux's /proc: which of n8n's processes (main,
 * webhook, worker), PostgreSQL, Redis and the bench itself spent the time of a measured stream. Every process
 * on the machine is counted, so the bench should have the machine to itself ('other' shows what else ran).
 * Elsewhere (no /proc) every reading is empty and the split is simply not reported.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export type Role = 'n8n main' | 'n8n webhook' | 'n8n worker' | 'postgres' | 'redis' | 'bench' | 'other';

/** CPU time per role, summed over the processes of that role (in seconds, or as a caller's field names it). */
export type CpuByRole = Partial<Record<Role, number>>;

/** The kernel's clock ticks per second, in which /proc reports CPU time (100 nearly everywhere). */
const TICKS_PER_SECOND = (() => {
	try {
		return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
	} catch {
		return 100;
	}
})();

function roleOf(pid: number, cmdline: string): Role {
	if (pid === process.pid) return 'bench';
	if (cmdline.includes('postgres')) return 'postgres';
	if (cmdline.includes('redis-server')) return 'redis';
	if (cmdline.includes('/n8n/bin/n8n')) {
		if (cmdline.endsWith(' webhook')) return 'n8n webhook';
		if (cmdline.endsWith(' worker')) return 'n8n worker';
		if (cmdline.endsWith(' start')) return 'n8n main';
	}
	return 'other';
}

/**
 * utime + stime of every process now, with its role, by pid and start time (a pid reused within a reading is
 * another process). A process that ends within a reading loses that reading's CPU: n8n's processes, PostgreSQL's
 * connections and Redis live through a whole run.
 */
function snapshot(): Map<string, { role: Role; seconds: number }> {
	const result = new Map<string, { role: Role; seconds: number }>();
	let entries: string[];
	try {
		entries = fs.readdirSync('/proc');
	} catch {
		return result;
	}
	for (const entry of entries) {
		const pid = Number(entry);
		if (!Number.isInteger(pid)) continue;
		try {
			const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
			// Fields after the command name, which is in parentheses and may contain spaces.
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
			const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
			result.set(`${pid}@${fields[19]}`, { role: roleOf(pid, cmdline), seconds });
		} catch {
			// The process ended between listing and reading.
		}
	}
	return result;
}

/** Starts a reading; the returned function gives the CPU seconds each role spent since. */
export function cpuSince(): () => CpuByRole {
	const before = snapshot();
	return () => {
		const spent: CpuByRole = {};
		for (const [id, now] of snapshot()) {
			const delta = now.seconds - (before.get(id)?.seconds ?? 0);
			if (delta > 0) spent[now.role] = (spent[now.role] ?? 0) + delta;
		}
		return spent;
	};
}

export function addCpu(total: CpuByRole, more: CpuByRole): void {
	for (const [role, seconds] of Object.entries(more) as Array<[Role, number]>) total[role] = (total[role] ?? 0) + seconds;
}
