import { randomBytes, timingSafeEqual } from 'crypto';

/** 192 random bits, base64url: only characters ActiveCampaign allows in webhook URLs. */
export function newSecret(): string {
	return randomBytes(24).toString('base64url');
}

/** Constant-time comparison; different lengths are rejected without comparing contents. */
export function secretsMatch(expected: string, given: unknown): boolean {
	if (typeof given !== 'string' || expected === '') return false;
	const a = Buffer.from(expected);
	const b = Buffer.from(given);
	return a.length === b.length && timingSafeEqual(a, b);
}

/** Removes every occurrence of the given secrets from a text meant for a log or an error. */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
	let result = text;
	for (const secret of secrets) {
		if (secret && secret.length >= 8) result = result.split(secret).join('***');
	}
	return result;
}
