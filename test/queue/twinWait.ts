/** The Redis store's twin wait, changed for one test. */
import { twinWait } from '../../nodes/ActiveCampaignTrigger/delivery/redisStore';

/** Runs `body` with some of the twin wait's settings changed, then puts them back. */
export async function withTwinWait(changes: Partial<typeof twinWait>, body: () => Promise<void>): Promise<void> {
	const saved = { ...twinWait };
	Object.assign(twinWait, changes);
	try {
		await body();
	} finally {
		Object.assign(twinWait, saved);
	}
}
