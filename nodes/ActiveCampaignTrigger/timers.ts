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
type Slots = Map<number, { slot: number; passed: Promise<void> }>;
const slots: Slots = new Map();
const slotsThenPendingIo: Slots = new Map();

/**
 * Resolves `ms` to `ms` + 50 from now, with one timer for every call in the same 50 ms: a timer per
 * delivery cost a fifth of the node's time in a busy webhook process (P5's profile). `thenPendingIo`: only
 * after the event loop has also read what arrived meanwhile (a 0 ms timer runs in the loop's next turn, after
 * its poll for I/O), one more timer per slot.
 */
export async function slottedDelay(ms: number, options: { thenPendingIo?: boolean } = {}): Promise<void> {
	const slot = Math.floor(performance.now() / SLOT_MS);
	const thenPendingIo = options.thenPendingIo === true;
	const shared = thenPendingIo ? slotsThenPendingIo : slots;
	let current = shared.get(ms);
	if (current?.slot !== slot) {
		const passed = delay(ms + SLOT_MS);
		current = { slot, passed: thenPendingIo ? passed.then(async () => await delay(0)) : passed };
		shared.set(ms, current);
	}
	await current.passed;
}
