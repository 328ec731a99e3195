import { NodeApiError, NodeOperationError, type INode } from 'n8n-workflow';

import { ActiveCampaignApiError } from '../../nodes/ActiveCampaignTrigger/lifecycle/apiClient';
import { toNodeError } from '../../nodes/ActiveCampaignTrigger/lifecycle/subscription';

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

	it("keeps the words and level of n8n's own errors, in a new error", () => {
		const original = new NodeOperationError(node, 'Credentials not found', { description: 'Pick one', level: 'error' });
		const error = toNodeError(node, original, [SECRET]) as NodeOperationError;
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error).not.toBe(original);
		expect({ message: error.message, description: error.description, level: error.level }).toEqual({
			message: 'Credentials not found',
			description: 'Pick one',
			level: 'error',
		});
	});

	it("takes a secret out of n8n's own errors: their words, and nothing else of theirs (a request's body, a stack)", () => {
		const apiError = new NodeApiError(
			node,
			{ message: 'x', config: { data: `{"url":"https://h/?secret=${SECRET}"}` } },
			{ message: `GET https://h/?secret=${SECRET} failed`, description: `sent ${SECRET}`, httpCode: '502' },
		);
		const error = toNodeError(node, apiError, [SECRET]) as NodeApiError;
		expect(error).toBeInstanceOf(NodeApiError);
		expect({ message: error.message, description: error.description, httpCode: error.httpCode }).toEqual({
			message: 'GET https://h/?secret=*** failed',
			description: 'sent ***',
			httpCode: '502',
		});
		expect(JSON.stringify({ ...error, stack: error.stack })).not.toContain(SECRET);

		const operationError = new NodeOperationError(node, new Error(`refused https://h/?secret=${SECRET}`));
		expect(operationError.stack).toContain(SECRET);
		const rebuilt = toNodeError(node, operationError, [SECRET]);
		expect(rebuilt.message).toBe('refused https://h/?secret=***');
		expect(JSON.stringify({ ...rebuilt, stack: rebuilt.stack })).not.toContain(SECRET);
	});

	it('wraps an unexpected error in NodeOperationError, without the secret', () => {
		const error = toNodeError(node, new TypeError(`cannot read ${SECRET}`), [SECRET]);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.message).toBe('cannot read ***');
	});
});
