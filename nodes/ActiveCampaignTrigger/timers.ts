/**
 * Waiting without the timer globals n8n's community rules forbid. n8n-workflow's helpers differ between
 * majors (`sleepWithAbort` exists in 1.x only), and neither can leave a process free to exit; the timer of
 * `AbortSignal.timeout` is unref'd, so a pending wait never keeps n8n (or a test run) alive.
 */

/** Resolves after `ms`. */
export async function delay(ms: number): Promise<void> {
	const signal = AbortSignal.timeout(ms);
	await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
