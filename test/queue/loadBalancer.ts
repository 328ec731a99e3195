/**
 * ActiveCampaign in front of a load balancer: each delivery goes to one of the webhook processes and, while
 * the answer is not a 2xx, is sent again a moment later, to the next process.
 */
import type { N8nProcess } from '../e2e/harness';
import type { ActiveCampaignSimulator, DeliveryResult } from '../simulator/ActiveCampaignSimulator';

/** When an accepted delivery's last attempt was sent and when its 2xx came back (ms since the epoch). */
export interface AcceptedTimes {
	sentAt: number;
	answeredAt: number;
}

export interface Sender {
	simulator: ActiveCampaignSimulator;
	processes: readonly N8nProcess[];
	/** Attempts per delivery before giving up (ActiveCampaign keeps trying longer). */
	retryLimit?: number;
	retryGapMs?: number;
	/** Told of each accepted delivery. */
	onAccepted?: (body: string, times: AcceptedTimes) => void;
}

/** Sends one delivery until a 2xx, starting at process `first`; returns every answer. */
export async function deliverUntilAccepted(sender: Sender, target: string, body: string, first: number): Promise<DeliveryResult[]> {
	const { simulator, processes, retryLimit = 120, retryGapMs = 500 } = sender;
	const answers: DeliveryResult[] = [];
	for (let attempt = 0; attempt < retryLimit; attempt++) {
		const process = processes[(first + attempt) % processes.length];
		const sentAt = Date.now();
		const answer = await simulator.postTo(`${process.baseUrl}${target}`, body);
		answers.push(answer);
		if (answer.status >= 200 && answer.status < 300) {
			sender.onAccepted?.(body, { sentAt, answeredAt: Date.now() });
			return answers;
		}
		await new Promise((resolve) => setTimeout(resolve, retryGapMs));
	}
	return answers;
}

/** Sends every body once through `inFlight` concurrent senders; returns how many were never accepted. */
export async function sendAll(sender: Sender, target: string, bodies: readonly string[], inFlight: number): Promise<number> {
	let next = 0;
	let unaccepted = 0;
	await Promise.all(
		Array.from({ length: inFlight }, async (_, lane) => {
			while (next < bodies.length) {
				const index = next++;
				const answers = await deliverUntilAccepted(sender, target, bodies[index], (lane + index) % 2);
				if (answers.at(-1)!.status !== 200) unaccepted++;
			}
		}),
	);
	return unaccepted;
}
