import { NodeApiError, NodeOperationError, type INode } from 'n8n-workflow';

import { ActiveCampaignApiError } from '../../nodes/ActiveCampaignTrigger/apiClient';
import { toNodeError } from '../../nodes/ActiveCampaignTrigger/subscription';

const node: INode = {
	id: 'node-1',
	name: 'ActiveCampaign Trigger',
	type: 'n8n-nodes-activecampaign-trigger.activeCampaignTrigger',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
const SECRET = 'sEcReT-0123456789abcdef';

describe('toNodeError: every failure leaves for n8n as one of its own errors, secrets removed', () => {
	it('maps an API failure to NodeApiError with its hint and HTTP code', () => {
		const error = toNodeError(node, new ActiveCampaignApiError(`refused https://x/?secret=${SECRET}`, 422, false, 'Fix it.'), [SECRET]);
		expect(error).toBeInstanceOf(NodeApiError);
		expect({ message: error.message, description: (error as NodeApiError).description, httpCode: (error as NodeApiError).httpCode }).toEqual({
			message: 'refused https://x/?secret=***',
			description: 'Fix it.',
			httpCode: '422',
		});
	});

	it("passes n8n's own errors through unchanged", () => {
		const original = new NodeOperationError(node, 'Credentials not found', { description: 'Pick one' });
		expect(toNodeError(node, original, [SECRET])).toBe(original);
		expect({ message: original.message, description: original.description }).toEqual({ message: 'Credentials not found', description: 'Pick one' });
	});

	it("takes a secret out of n8n's own errors, message and description", () => {
		const original = new NodeApiError(node, { message: 'x' }, { message: `GET https://h/?secret=${SECRET} failed`, description: `sent ${SECRET}` });
		const error = toNodeError(node, original, [SECRET]) as NodeApiError;
		expect(error).toBe(original);
		expect({ message: error.message, description: error.description }).toEqual({ message: 'GET https://h/?secret=*** failed', description: 'sent ***' });
	});

	it('wraps an unexpected error in NodeOperationError, without the secret', () => {
		const error = toNodeError(node, new TypeError(`cannot read ${SECRET}`), [SECRET]);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('cannot read ***');
	});
});
