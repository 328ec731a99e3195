import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

const URL_TEXT = '$credentials.apiUrl.trim()';
const PLAIN_HTTP = `/^http:\\/\\//i.test(${URL_TEXT}) && !/^http:\\/\\/(localhost|127(\\.\\d{1,3}){3}|\\[::1\\])(:\\d+)?(\\/|$)/i.test(${URL_TEXT})`;
const WITH_SCHEME = `(/^[a-z][a-z0-9+.-]*:\\/\\//i.test(${URL_TEXT}) ? "" : "https://") + ${URL_TEXT}`;
/** The body of the credential test's base URL expression, exported for the test that compares it with the node. */
export const API_BASE_EXPRESSION = `${PLAIN_HTTP} ? "https://use-https-not-http.invalid" : (${WITH_SCHEME}).replace(/\\/+$/, "").replace(/\\/api\\/3$/i, "").replace(/\\/+$/, "")`;

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

	// The same normalisation as the node's normaliseApiUrl (a missing https://, trailing slashes, a pasted
	// /api/3), so "Test" and activation agree about every URL README says is fine. A plain http:// URL (other
	// than a loopback simulator) is refused by the node; here it is sent nowhere: an .invalid host never
	// resolves, so the test fails without the API key crossing a network unencrypted.
	test: ICredentialTestRequest = {
		request: {
			baseURL: `={{${API_BASE_EXPRESSION}}}/api/3`,
			url: '/users/me',
			method: 'GET',
		},
	};
}
