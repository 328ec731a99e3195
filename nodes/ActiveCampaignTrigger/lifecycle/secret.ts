import { createHash, createHmac, timingSafeEqual } from 'crypto';

import { redactUrl } from './deliveryUrl';

/** Which node a secret is for: the same in the hook and the webhook context. */
export interface SecretOwner {
	workflowId: string;
	nodeId: string;
	/** n8n's name for the node's webhook path (`<webhook id>/webhook`), unique per node. */
	webhookPath: string;
}

/**
 * The node's next secret, made when no webhook carries its current one: an HMAC-SHA-256, keyed with the
 * account's API key, of the node and the hash of the secret before it (none for the first), cut to 192 bits
 * of base64url, characters ActiveCampaign allows in webhook URLs.
 *
 * ActiveCampaign may deliver to the new URL before n8n has saved the new hash (it saves static data only after
 * the activation); a process that still reads the old hash derives the same secret from it and accepts the
 * delivery. Without the API key the secret cannot be derived, so static data (exported with the workflow)
 * still does not suffice to forge deliveries.
 */
export function nextSecret(apiKey: string, owner: SecretOwner, previousHash: string | undefined): string {
	return createHmac('sha256', apiKey)
		.update(['n8n-nodes-activecampaign-trigger:secret', owner.workflowId, owner.nodeId, owner.webhookPath, previousHash ?? ''].join('\u0000'))
		.digest()
		.subarray(0, 24)
		.toString('base64url');
}

/**
 * What static data keeps of the node's own secret: its SHA-256 (base64url). n8n exports static data with a
 * workflow (its CLI and public API), so the secret itself lives only in the URL ActiveCampaign holds.
 */
export function secretHash(secret: string): string {
	return createHash('sha256').update(secret).digest('base64url');
}

/** A secret as a delivery is checked against: the secret itself (a Query Auth value), or its `secretHash`. */
export type ExpectedSecret = string | { sha256: string };

/** Constant-time comparison; different lengths are rejected without comparing contents. */
export function secretsMatch(expected: ExpectedSecret, given: unknown): boolean {
	if (typeof given !== 'string') return false;
	if (typeof expected !== 'string') return expected.sha256 !== '' && given !== '' && equalStrings(expected.sha256, secretHash(given));
	return expected !== '' && equalStrings(expected, given);
}

function equalStrings(expected: string, given: string): boolean {
	const a = Buffer.from(expected);
	const b = Buffer.from(given);
	return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Removes every occurrence of the given secrets, and the value of any `secret=` URL parameter, from a text
 * meant for a log or an error.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
	// The known secrets first: a URL's parameter ends at a quote, which a pasted secret might contain.
	let result = text;
	for (const secret of secrets) {
		if (secret && secret.length >= 8) result = result.split(secret).join('***');
	}
	return redactUrl(result);
}
