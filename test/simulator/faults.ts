/**
 * Injected faults: what the simulator answers instead of (or after) handling a request.
 */

export interface Fault {
	/** e.g. 'POST'; undefined = any method. */
	method?: string;
	/** Matched against the pathname, e.g. '/api/3/webhooks' or /^\/api\/3\/webhooks\/\d+$/; undefined = any. */
	path?: string | RegExp;
	/** How many matching requests it applies to (default 1). */
	count?: number;
	/** How many matching requests it lets through first (default 0). */
	after?: number;
	/** Answer this status, with an ActiveCampaign-shaped error body, instead of handling. */
	status?: number;
	/** Seconds, sent as Retry-After (use with 429). */
	retryAfter?: number;
	/** Never answer, until the client aborts or the simulator closes. */
	hang?: boolean;
	/** Perform the real operation first, then answer `status` or hang: "created, but the answer was lost". */
	applyFirst?: boolean;
}

interface PendingFault {
	fault: Fault;
	remaining: number;
	toLetThrough: number;
}

/** Faults in order of injection; the first one matching a request is used up by it. */
export class FaultQueue {
	private pending: PendingFault[] = [];

	add(fault: Fault): void {
		if (fault.status === undefined && !fault.hang) {
			throw new Error('A fault needs a `status` to answer or `hang: true`');
		}
		const remaining = fault.count ?? 1;
		if (!Number.isInteger(remaining) || remaining < 1) {
			throw new Error(`A fault's count must be a positive integer, got ${String(fault.count)}`);
		}
		const toLetThrough = fault.after ?? 0;
		if (!Number.isInteger(toLetThrough) || toLetThrough < 0) {
			throw new Error(`A fault's after must be a non-negative integer, got ${String(fault.after)}`);
		}
		this.pending.push({ fault: { ...fault }, remaining, toLetThrough });
	}

	clear(): void {
		this.pending = [];
	}

	/** The fault for this request, if any, counting it as used once. */
	take(method: string, pathname: string): Fault | undefined {
		const entry = this.pending.find(({ fault }) => matchesRequest(fault, method, pathname));
		if (!entry) return undefined;
		if (entry.toLetThrough > 0) {
			entry.toLetThrough--;
			return undefined;
		}
		entry.remaining--;
		if (entry.remaining === 0) this.pending = this.pending.filter((other) => other !== entry);
		return entry.fault;
	}
}

/** Whether a request matches a fault's (or a hook's) method and path; a missing one matches any. */
export function matchesRequest(fault: Pick<Fault, 'method' | 'path'>, method: string, pathname: string): boolean {
	if (fault.method !== undefined && fault.method.toUpperCase() !== method.toUpperCase()) return false;
	if (fault.path === undefined) return true;
	if (typeof fault.path === 'string') return fault.path === pathname;
	// A /g or /y RegExp keeps `lastIndex` between test() calls; start from 0 so every request is matched alike.
	fault.path.lastIndex = 0;
	return fault.path.test(pathname);
}
