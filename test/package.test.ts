/**
 * What users install: the packed tarball holds the built node, credential, icons and codex, nothing from
 * test/, and n8n's community-package rules hold for the shipped code. Runs after `npm run build`.
 */
import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';

const root = path.resolve(__dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const packed = JSON.parse(
	execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }),
)[0] as { files: Array<{ path: string }> };
const files = packed.files.map((file) => file.path).sort();

describe('the packed package', () => {
	it('contains the node, the credential, both icons and the codex file', () => {
		expect(files).toEqual(
			expect.arrayContaining([
				'dist/credentials/ActiveCampaignTriggerApi.credentials.js',
				'dist/nodes/ActiveCampaignTrigger/ActiveCampaignTrigger.node.js',
				'dist/nodes/ActiveCampaignTrigger/ActiveCampaignTrigger.node.json',
				'dist/nodes/ActiveCampaignTrigger/activeCampaign.svg',
				'dist/nodes/ActiveCampaignTrigger/activeCampaign.dark.svg',
				'package.json',
				'README.md',
				'LICENSE',
			]),
		);
	});

	it('contains nothing but dist/ and the package files', () => {
		expect(files.filter((file) => !file.startsWith('dist/'))).toEqual(['LICENSE', 'README.md', 'package.json']);
		expect(files.filter((file) => /test|simulator|fixture/i.test(file))).toEqual([]);
	});

	it("points n8n's package block at files that are packed", () => {
		const listed = [...manifest.n8n.nodes, ...manifest.n8n.credentials] as string[];
		expect(listed.filter((file) => !files.includes(file))).toEqual([]);
		expect(manifest.n8n.n8nNodesApiVersion).toBe(1);
		expect(manifest.keywords).toContain('n8n-community-node-package');
	});

	it('ships runtime dependencies ioredis, qs and zod only, with n8n-workflow as a peer', () => {
		expect(Object.keys(manifest.dependencies).sort()).toEqual(['ioredis', 'qs', 'zod']);
		expect(manifest.peerDependencies).toEqual({ 'n8n-workflow': '*' });
	});

	it('ships code that reads neither the process environment nor the file system', () => {
		const code = files
			.filter((file) => file.endsWith('.js'))
			.map((file) => ({ file, text: readFileSync(path.join(root, file), 'utf8') }));
		const offenders = code
			.filter(({ text }) => /\bprocess\.\w|require\("(node:)?(fs|child_process)"\)/.test(text))
			.map(({ file }) => file);
		expect(offenders).toEqual([]);
	});
});
