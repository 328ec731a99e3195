import {
	assertDeliverable,
	redactUrl,
	UndeliverableUrlError,
	deliveryUrl,
	ownerOf,
} from '../../nodes/ActiveCampaignTrigger/lifecycle/deliveryUrl';
import { nextSecret, redact, secretHash, secretsMatch } from '../../nodes/ActiveCampaignTrigger/lifecycle/secret';

describe('assertDeliverable', () => {
	it('accepts an https URL on the default port', () => {
		expect(() => assertDeliverable('https://n8n.example.com/webhook/5b1c2f0e-8d7a/webhook')).not.toThrow();
	});

	it.each([
		['http://n8n.example.com/webhook/a/webhook', 'ActiveCampaign only delivers to https URLs'],
		['https://n8n.example.com:5678/webhook/a/webhook', 'ActiveCampaign only delivers to port 443, not 5678'],
		['https://n8n.example.com/webhook/a/web%20hook', 'it contains characters ActiveCampaign does not allow: %'],
		['https://n8n.example.com/webhook/a/we~b', 'it contains characters ActiveCampaign does not allow: ~'],
		['localhost:5678', 'ActiveCampaign only delivers to https URLs'],
		['', 'it is not a valid URL'],
	])('refuses %s', (url, reason) => {
		let caught: unknown;
		try {
			assertDeliverable(url);
		} catch (error) {
			caught = error;
		}
		expect(caught).toBeInstanceOf(UndeliverableUrlError);
		expect((caught as UndeliverableUrlError).reason).toBe(reason);
		expect((caught as UndeliverableUrlError).message).toContain(url);
		expect((caught as UndeliverableUrlError).hint).toContain('WEBHOOK_URL');
	});

	it('accepts https on an explicit port 443 (URL drops it)', () => {
		expect(() => assertDeliverable('https://n8n.example.com:443/webhook/a/webhook')).not.toThrow();
	});
});

describe('secrets in URLs', () => {
	it('adds the secret and the owning workflow as query parameters', () => {
		const url = deliveryUrl('https://h.test/webhook/a/webhook', 'abc_-1', 'Wf7xQ2');
		expect(url).toBe('https://h.test/webhook/a/webhook?secret=abc_-1&workflow=Wf7xQ2');
		expect(ownerOf(url)).toBe('Wf7xQ2');
		expect(ownerOf('https://h.test/webhook/a/webhook?secret=abc_-1')).toBeUndefined();
		expect(deliveryUrl('https://h.test/w', 'abc_-1')).toBe('https://h.test/w?secret=abc_-1');
	});


	it('redacts the secret of a URL', () => {
		expect(redactUrl('https://h.test/w?x=1&secret=abc&y=2')).toBe('https://h.test/w?x=1&secret=***&y=2');
		expect(redactUrl(`"https://h.test/w?secret=abc", <https://h.test/w?secret=abc>, ?secret=a'b`)).toBe(
			`"https://h.test/w?secret=***", <https://h.test/w?secret=***>, ?secret=***`,
		);
	});

	it('derives deliverable secrets of 192 bits, one per API key, node and previous secret', () => {
		const owner = { workflowId: 'Wf7xQ2', nodeId: '5a0f0c1e-3b7d-4f55-9d2b-0c1c8a9b7e21', webhookPath: '0d9c7a52/webhook' };
		const secret = nextSecret('key-1', owner, undefined);
		expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
		expect(() => assertDeliverable(deliveryUrl('https://h.test/w', secret, 'Wf7xQ2'))).not.toThrow();
		expect(nextSecret('key-1', { ...owner }, undefined)).toBe(secret);
		const others = [
			nextSecret('key-2', owner, undefined),
			nextSecret('key-1', { ...owner, workflowId: 'Wf7xQ3' }, undefined),
			nextSecret('key-1', { ...owner, nodeId: 'other-node' }, undefined),
			nextSecret('key-1', { ...owner, webhookPath: 'other/webhook' }, undefined),
			nextSecret('key-1', owner, secretHash(secret)),
			nextSecret('key-1', owner, ''),
		];
		// No previous secret and an empty hash derive alike; every other change gives another secret.
		expect(new Set([secret, ...others]).size).toBe(6);
		expect(others[5]).toBe(secret);
		// Fields are separated: moving a character from one to the next changes the secret.
		const split = (workflowId: string, nodeId: string) => nextSecret('key-1', { workflowId, nodeId, webhookPath: 'p/webhook' }, undefined);
		expect(split('ab', 'c')).not.toBe(split('a', 'bc'));
	});

	it('matches only the exact secret', () => {
		expect(secretsMatch('abcdefgh', 'abcdefgh')).toBe(true);
		expect(secretsMatch('abcdefgh', 'abcdefgx')).toBe(false);
		expect(secretsMatch('abcdefgh', 'abc')).toBe(false);
		expect(secretsMatch('abcdefgh', undefined)).toBe(false);
		expect(secretsMatch('abcdefgh', ['abcdefgh'])).toBe(false);
		expect(secretsMatch('', '')).toBe(false);
	});

	it('matches a secret against its hash', () => {
		expect(secretsMatch({ sha256: secretHash('abcdefgh') }, 'abcdefgh')).toBe(true);
		expect(secretsMatch({ sha256: secretHash('abcdefgh') }, 'abcdefgx')).toBe(false);
		expect(secretsMatch({ sha256: secretHash('abcdefgh') }, secretHash('abcdefgh'))).toBe(false);
		expect(secretsMatch({ sha256: '' }, '')).toBe(false);
	});

	it('redacts secrets from texts, and any URL secret it does not know', () => {
		expect(redact('url https://h?secret=abcdefgh1 failed', ['abcdefgh1', undefined])).toBe('url https://h?secret=*** failed');
		expect(redact('stored "https://h.test/w?x=1&secret=unknown_-9&workflow=7" twice', [])).toBe('stored "https://h.test/w?x=1&secret=***&workflow=7" twice');
		expect(redact('keep abcdefgh1 as key', ['abcdefgh1'])).toBe('keep *** as key');
		// A pasted secret with a double quote in it: the known secret goes whole, before the URL pattern stops at the quote.
		expect(redact('sent https://h?secret=ab"cdefgh9 back', ['ab"cdefgh9'])).toBe('sent https://h?secret=*** back');
	});
});
