/**
 * The node's log helpers: one warning per outage, and warnings a sender can cause at will throttled.
 */
import { Outage, ThrottledWarnings } from '../../nodes/ActiveCampaignTrigger/outage';
import { RecordingLog } from '../support/recordingLog';

describe('Outage', () => {
	it('warns once when it starts and notes once when it ends', () => {
		const log = new RecordingLog();
		const outage = new Outage();
		outage.recovered(log, 'back');
		outage.failed(log, 'down');
		outage.failed(log, 'down again');
		outage.recovered(log, 'back');
		outage.recovered(log, 'back again');
		expect(log.lines).toEqual(['warn: down', 'info: back']);
	});
});

describe('ThrottledWarnings', () => {
	it('logs the first of a kind at once, then once a minute with how many were left out', () => {
		const log = new RecordingLog();
		const warnings = new ThrottledWarnings(60_000);
		for (const now of [0, 1_000, 59_999]) warnings.warn(log, 'wf:node:401', `refused at ${now}`, now);
		warnings.warn(log, 'wf:node:400', 'another kind', 2_000);
		warnings.warn(log, 'wf:node:401', 'refused at 60000', 60_000);
		warnings.warn(log, 'wf:node:401', 'refused at 130000', 130_000);
		expect(log.lines).toEqual([
			'warn: refused at 0',
			'warn: another kind',
			'warn: refused at 60000 (and 2 more like it since the last such line, not logged)',
			'warn: refused at 130000',
		]);
	});

	it('forgets the oldest kind beyond its limit, which then logs at once again', () => {
		const log = new RecordingLog();
		const warnings = new ThrottledWarnings(60_000, 2);
		for (const kind of ['a', 'b', 'c', 'a']) warnings.warn(log, kind, kind, 0);
		warnings.warn(log, 'c', 'c again', 0);
		expect(log.lines).toEqual(['warn: a', 'warn: b', 'warn: c', 'warn: a']);
	});
});
