/**
 * How n8n names this package's trigger, read from the node itself: its node type as a community package's
 * node (`<package>.<node name>`), the name a new node gets on the canvas, and the key of its static data.
 * Shared by the tests, the end-to-end suite, the demo and the bench.
 */
import { ActiveCampaignTrigger } from '../../nodes/ActiveCampaignTrigger/ActiveCampaignTrigger.node';
import { secretHash } from '../../nodes/ActiveCampaignTrigger/lifecycle/secret';

/** package.json's `name` (test/package.test.ts checks the manifest). */
const PACKAGE_NAME = 'n8n-nodes-activecampaign-trigger';

const { description } = new ActiveCampaignTrigger();

export const TRIGGER_TYPE = `${PACKAGE_NAME}.${description.name}`;
export const TRIGGER_NAME = String(description.defaults.name);
/** n8n keeps a node's static data under `node:<node name>`. */
export const TRIGGER_STATE_KEY = `node:${TRIGGER_NAME}`;
/** The version a node dropped on the canvas gets (n8n takes `defaultVersion`). */
export const TRIGGER_VERSION = description.defaultVersion ?? Math.max(...[description.version].flat());

/**
 * The secret in the node's delivery URL, among the URLs given (the webhooks ActiveCampaign holds): static data
 * keeps only its hash. Undefined when none carries it.
 */
export function deliverySecretOf(state: { secretHash?: string } | undefined, urls: readonly string[]): string | undefined {
	return urls.map((url) => new URL(url).searchParams.get('secret') ?? '').find((secret) => state?.secretHash !== undefined && secretHash(secret) === state.secretHash);
}
