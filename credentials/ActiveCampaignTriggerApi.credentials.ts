import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

/**
 * ActiveCampaign API credentials for this package. The type name differs from n8n's built-in
 * `activeCampaignApi` so both can be installed side by side; the trigger also accepts the built-in one.
 */
export class ActiveCampaignTriggerApi implements ICredentialType {
	name = 'activeCampaignTriggerApi';

	displayName = 'ActiveCampaign Trigger API';

	icon: Icon = { light: 'file:activeCampaign.svg', dark: 'file:activeCampaign.dark.svg' };

	documentationUrl = 'https://developers.activecampaign.com/reference/authentication';

	properties: INodeProperties[] = [
		{
			displayName: 'API URL',
			name: 'apiUrl',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'https://youraccount.api-us1.com',
			description:
				'Your account\'s API URL, from ActiveCampaign Settings → Developer. A pasted "/api/3" or trailing slash is fine.',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'Your API key, from ActiveCampaign Settings → Developer',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				'Api-Token': '={{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.apiUrl.trim().replace(/\\/+$/, "").replace(/\\/api\\/3$/, "")}}/api/3',
			url: '/users/me',
			method: 'GET',
		},
	};
}
