/**
 * The URL ActiveCampaign delivers to: n8n's webhook URL plus, as query parameters, the subscription's secret
 * and the id of the workflow that registered it.
 */

export const SECRET_PARAMETER = 'secret';

/**
 * Names the workflow a webhook belongs to. A copy of a workflow can keep its node's webhook id, and so its
 * URL path (n8n's Duplicate and imports do); the workflow id tells the original's webhooks from the copy's.
 */
export const OWNER_PARAMETER = 'workflow';

/**
 * ActiveCampaign accepts webhook URLs only on https port 443, made of letters, digits, `$-_.+!*'(),` and the
 * characters that give a URL its structure. Anything else is refused by its API (or, worse, accepted and never
 * delivered to), so it is caught before any call with the reason and the fix.
 */
const URL_CHARACTER = /[A-Za-z0-9$\-_.+!*'(),:/?#&=]/g;

export class UndeliverableUrlError extends Error {
	constructor(
		readonly url: string,
		readonly reason: string,
		readonly hint = 'Set the environment variable WEBHOOK_URL of n8n to its public https address on port 443 (e.g. https://n8n.example.com/), then activate again.',
	) {
		super(`ActiveCampaign cannot deliver to the webhook URL n8n produced (${url}): ${reason}`);
		this.name = 'UndeliverableUrlError';
	}
}

/** Throws UndeliverableUrlError when ActiveCampaign could not deliver to `url`. */
export function assertDeliverable(url: string): void {
	const parsed = parseUrl(url);
	if (parsed === undefined) throw new UndeliverableUrlError(url, 'it is not a valid URL');
	if (parsed.protocol !== 'https:') {
		throw new UndeliverableUrlError(url, 'ActiveCampaign only delivers to https URLs');
	}
	if (parsed.port !== '' && parsed.port !== '443') {
		throw new UndeliverableUrlError(url, `ActiveCampaign only delivers to port 443, not ${parsed.port}`);
	}
	const disallowed = url.replace(URL_CHARACTER, '');
	if (disallowed !== '') {
		const bad = [...new Set(disallowed)].join(' ');
		throw new UndeliverableUrlError(url, `it contains characters ActiveCampaign does not allow: ${bad}`);
	}
}

/** n8n's webhook URL with the secret and, when known, the owning workflow's id. */
export function deliveryUrl(url: string, secret: string, workflowId?: string): string {
	const parsed = new URL(url);
	parsed.searchParams.set(SECRET_PARAMETER, secret);
	if (workflowId !== undefined) parsed.searchParams.set(OWNER_PARAMETER, workflowId);
	return parsed.toString();
}

/** The workflow id a delivery URL names; undefined for URLs registered before it was recorded. */
export function ownerOf(url: string): string | undefined {
	return parseUrl(url)?.searchParams.get(OWNER_PARAMETER) ?? undefined;
}

/** The parsed URL, or undefined when the text is not one. */
export function parseUrl(text: string): URL | undefined {
	return URL.canParse(text) ? new URL(text) : undefined;
}

/** Replaces the secret of every delivery URL in a text (a URL, a log line, an error) with `***`. */
export function redactUrl(url: string): string {
	// Up to the parameter's end, or a character a URL cannot hold unencoded (RFC 3986): a double quote or an
	// angle bracket around a URL quoted in a message stays. (A single quote may be part of a value.)
	return url.replace(new RegExp(`([?&]${SECRET_PARAMETER}=)[^&#\\s"<>\`]*`, 'g'), '$1***');
}
