/**
 * The webhook edge: authenticates a delivery and turns it into the workflow's item.
 */
import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { SECRET_PARAMETER } from './deliveryUrl';
import { secretsMatch } from './secret';
import { nodeState } from './subscription';

/** Answers without starting an execution. */
function reject(context: IWebhookFunctions, status: number, message: string): IWebhookResponseData {
	context.getResponseObject().status(status).json({ message });
	return { noWebhookResponse: true };
}

export async function receiveDelivery(context: IWebhookFunctions): Promise<IWebhookResponseData> {
	const state = nodeState(context.getWorkflowStaticData('node'));
	const query = context.getQueryData() as Record<string, unknown>;
	if (!secretsMatch(state.secret ?? '', query[SECRET_PARAMETER])) {
		context.logger.warn('ActiveCampaign Trigger: refused a delivery without the right secret (HTTP 401)');
		return reject(context, 401, 'Unauthorized: this URL needs the secret ActiveCampaign was registered with');
	}
	return { workflowData: [[{ json: context.getBodyData() as IDataObject }]] };
}
