/**
 * A plain-HTTP transport for the API client (Node's fetch), for tests that drive the lifecycle functions
 * directly with short timeouts and no real waiting.
 */
import { stringify } from 'qs';

import { ActiveCampaignClient, type RetryPolicy, type SendRequest } from '../../nodes/ActiveCampaignTrigger/lifecycle/apiClient';

export function fetchTransport(apiUrl: string, apiKey: string): SendRequest {
	return async (request) => {
		const query = request.query ? `?${stringify(request.query)}` : '';
		const response = await fetch(`${apiUrl}/api/3${request.path}${query}`, {
			method: request.method,
			headers: { 'Api-Token': apiKey, 'Content-Type': 'application/json', Accept: 'application/json' },
			body: request.body === undefined ? undefined : JSON.stringify(request.body),
			signal: AbortSignal.timeout(request.timeoutMs),
		});
		const text = await response.text();
		let body: unknown = text;
		try {
			body = text === '' ? undefined : JSON.parse(text);
		} catch {
			// Not JSON: keep the text, as n8n's helper does.
		}
		return { status: response.status, headers: Object.fromEntries(response.headers), body };
	};
}

/** A client that never really waits: retries are immediate, hangs time out after `timeoutMs`. */
export function fastClient(apiUrl: string, apiKey: string, retry: Partial<RetryPolicy> = {}): ActiveCampaignClient {
	return new ActiveCampaignClient({
		apiUrl,
		send: fetchTransport(apiUrl, apiKey),
		sleep: async () => undefined,
		retry: { timeoutMs: 200, ...retry },
	});
}
