import type { RemoteWebhook, WebhookFields } from '../../nodes/ActiveCampaignTrigger/apiClient';
import { desiredWebhooks, planReconcile } from '../../nodes/ActiveCampaignTrigger/reconcile';

const ENDPOINT = 'https://n8n.example.test/webhook/abc/webhook';
const URL_WITH_SECRET = `${ENDPOINT}?secret=s3cret`;

const wanted = (listid = '0', events = ['subscribe', 'update']): WebhookFields => ({
	name: 'n8n: wf / Trigger',
	url: URL_WITH_SECRET,
	events,
	sources: ['admin', 'public'],
	listid,
});
const remote = (id: string, fields: Partial<WebhookFields> = {}): RemoteWebhook => ({ id, ...wanted(), ...fields });

describe('desiredWebhooks', () => {
	it('makes one webhook for all lists when no list is chosen, with sorted unique events and sources', () => {
		expect(
			desiredWebhooks({
				name: 'n',
				url: 'https://x.test/h',
				events: ['update', 'subscribe', 'update'],
				sources: ['public', 'admin'],
				listIds: [],
			}),
		).toEqual([{ name: 'n', url: 'https://x.test/h', events: ['subscribe', 'update'], sources: ['admin', 'public'], listid: '0' }]);
	});

	it('makes one webhook per chosen list', () => {
		const result = desiredWebhooks({ name: 'n', url: 'u', events: ['open'], sources: ['public'], listIds: ['3', '1', '3'] });
		expect(result.map((webhook) => webhook.listid)).toEqual(['1', '3']);
	});
});

describe('planReconcile', () => {
	it('keeps an exact match and plans nothing else', () => {
		const plan = planReconcile([wanted()], [remote('7', { events: ['update', 'subscribe'] })], ENDPOINT, new Set(['7']));
		expect(plan).toEqual({ keep: [remote('7', { events: ['update', 'subscribe'] })], update: [], create: [], remove: [] });
	});

	it('creates when nothing is owned', () => {
		const plan = planReconcile([wanted()], [], ENDPOINT, new Set());
		expect(plan).toEqual({ keep: [], update: [], create: [wanted()], remove: [] });
	});

	it('updates a remembered webhook whose events drifted instead of creating another', () => {
		const plan = planReconcile([wanted()], [remote('7', { events: ['subscribe'] })], ENDPOINT, new Set(['7']));
		expect(plan).toEqual({ keep: [], update: [{ id: '7', fields: wanted() }], create: [], remove: [] });
	});

	it('adopts a webhook for this endpoint when static data was lost, whatever secret it carries', () => {
		const orphan = remote('9', { url: `${ENDPOINT}?secret=old` });
		const plan = planReconcile([wanted()], [orphan], ENDPOINT, new Set());
		expect(plan).toEqual({ keep: [], update: [{ id: '9', fields: wanted() }], create: [], remove: [] });
	});

	it('removes duplicates pointing at this endpoint', () => {
		const plan = planReconcile([wanted()], [remote('1'), remote('2'), remote('3')], ENDPOINT, new Set(['1']));
		expect(plan.keep.map((webhook) => webhook.id)).toEqual(['1']);
		expect(plan.remove.map((webhook) => webhook.id)).toEqual(['2', '3']);
	});

	it('never touches webhooks of other endpoints it does not remember', () => {
		const foreign = remote('5', { url: 'https://other.example/hook' });
		const plan = planReconcile([wanted()], [foreign], ENDPOINT, new Set());
		expect(plan).toEqual({ keep: [], update: [], create: [wanted()], remove: [] });
	});

	it('repairs a remembered webhook whose URL was changed elsewhere', () => {
		const moved = remote('5', { url: 'https://old-host.example/webhook/abc/webhook?secret=x' });
		const plan = planReconcile([wanted()], [moved], ENDPOINT, new Set(['5']));
		expect(plan.update).toEqual([{ id: '5', fields: wanted() }]);
	});

	it('reuses the webhook of the same list before any other when lists change', () => {
		const plan = planReconcile(
			[wanted('1'), wanted('2')],
			[remote('10', { listid: '2', events: ['subscribe'] }), remote('11', { listid: '4' })],
			ENDPOINT,
			new Set(['10', '11']),
		);
		expect(plan.update).toEqual([
			{ id: '11', fields: wanted('1') },
			{ id: '10', fields: wanted('2') },
		]);
		expect(plan.create).toEqual([]);
		expect(plan.remove).toEqual([]);
	});
});
