/**
 * ActiveCampaign allows an account 5 API requests a second, shared by every app that uses the account, and
 * answers more with 429 and a `Retry-After` of up to 30 s. This process's requests to one account (its API
 * URL) are spaced to stay within that: n8n 1.x activating many workflows at its start, say, or field names
 * loaded while a workflow is activated. A 429 holds every request of the process to that account back for as
 * long as it asks, not only the one that got it.
 */
import { delay } from '../timers';

/** The spacing of requests to one account. Tests shorten it. */
export const accountPacing = { intervalMs: 200 };

/** When each account's next request may start, and until when a 429 holds its requests back (performance.now() times). */
const nextTurn = new Map<string, number>();
const heldUntil = new Map<string, number>();

/** Waits for a request's turn at the account; one that a 429 caught while it waited takes a new turn after the hold. */
export async function turnAt(account: string): Promise<void> {
	for (;;) {
		const now = performance.now();
		const turn = Math.max(now, nextTurn.get(account) ?? 0);
		nextTurn.set(account, turn + accountPacing.intervalMs);
		if (turn > now) await delay(turn - now);
		// (A timer may fire a fraction of a millisecond early by this clock: not a reason to queue again.)
		if (performance.now() + 1 >= (heldUntil.get(account) ?? 0)) return;
	}
}

/** After a 429: no request to the account starts within `ms` from now. */
export function holdBack(account: string, ms: number): void {
	const until = performance.now() + ms;
	heldUntil.set(account, Math.max(heldUntil.get(account) ?? 0, until));
	nextTurn.set(account, Math.max(nextTurn.get(account) ?? 0, until));
}
