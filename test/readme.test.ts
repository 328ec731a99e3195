/** README's event table is the catalog's: adding an event to the catalog without the README fails here. */
import { readFileSync } from 'fs';
import * as path from 'path';

import { EVENT_CATALOG } from '../nodes/ActiveCampaignTrigger/catalog';

const readme = readFileSync(path.resolve(__dirname, '../README.md'), 'utf8');

describe('README', () => {
	it('lists every catalog event with its object, label and list scoping, in catalog order', () => {
		const rows = readme.split('\n').filter((line) => /^\| `[a-z_]+` \|.*\| (yes|no) \|$/.test(line));
		expect(rows).toEqual(
			EVENT_CATALOG.map((event) => `| \`${event.id}\` | ${event.object} | ${event.label} | ${event.listScoped ? 'yes' : 'no'} |`),
		);
	});

	it('gives the test command that .ci/run runs', () => {
		expect(readme).toContain('`npm ci && npm test`');
		const ci = readFileSync(path.resolve(__dirname, '../.ci/run'), 'utf8');
		expect(ci).toMatch(/npm ci[^\n]*\nnpm test\n/);
	});
});
