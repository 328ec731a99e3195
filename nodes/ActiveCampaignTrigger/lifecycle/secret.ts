import { createHash, randomBytes, timingSafeEqual } from 'crypto';

import { redactUrl } from './deliveryUrl';

/** 192 random bits, base64url: only characters ActiveCampaign allows in webhook URLs. */
export function newSecret(): string {
	return randomBytes(24).toString('base64url');
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
