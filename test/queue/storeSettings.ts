/** The Redis store's tunable settings, changed for one test. */
import { pendingClaims, twinWait } from '../../nodes/ActiveCampaignTrigger/delivery/redisStore';

/** Runs `body` with some of `settings` changed, then puts them back. */
async function withChanged<T extends object>(settings: T, changes: Partial<T>, body: () => Promise<void>): Promise<void> {
	const saved = { ...settings };
	Object.assign(settings, changes);
	try {
		await body();
	} finally {
		Object.assign(settings, saved);
	}
}

/** Runs `body` with some of the twin wait's settings changed. */
export async function withTwinWait(changes: Partial<typeof twinWait>, body: () => Promise<void>): Promise<void> {
	await withChanged(twinWait, changes, body);
}

/** Runs `body` with the pending claims' lifetime or renewals changed. */
export async function withPendingClaims(changes: Partial<typeof pendingClaims>, body: () => Promise<void>): Promise<void> {
	await withChanged(pendingClaims, changes, body);
}
