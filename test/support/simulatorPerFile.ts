import { ActiveCampaignSimulator } from '../simulator/ActiveCampaignSimulator';

/**
 * One simulator for a test file, started before its tests and closed after them; every test starts with an
 * account without webhooks, faults or recorded requests. Returns a getter, as the simulator starts later.
 */
export function simulatorPerFile(apiToken: string): () => ActiveCampaignSimulator {
	let simulator: ActiveCampaignSimulator | undefined;

	beforeAll(async () => {
		simulator = await ActiveCampaignSimulator.start({ apiToken });
	});

	afterAll(async () => {
		await simulator?.close();
	});

	beforeEach(() => {
		for (const webhook of simulator!.webhooks()) simulator!.removeWebhook(webhook.id);
		simulator!.clearFaults();
		simulator!.resetRequests();
	});

	return () => simulator!;
}
