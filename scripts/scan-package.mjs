/**
 * `npm run scan`: what n8n's scanner (@n8n/scan-community-package, the gate for verified community packages)
 * would report on this package, run offline on this checkout. The scanner itself downloads the published
 * tarball and the source commit its provenance names; here the same two legs run on the local files:
 * - the source leg: package.json, nodes/ and credentials/, with the scanner's own ESLint configuration;
 * - the tarball leg: the compiled `.js` files and package.json of `npm pack` (run `npm run build` first).
 * Like the scanner, inline `eslint-disable` comments are ignored. The run fails on any finding except the
 * declared runtime dependencies and reused built-in credentials below, and when package.json declares any
 * other runtime dependency.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ESLint } from 'eslint';
import glob from 'fast-glob';
import { SOURCE_FILE_PATTERNS, buildScanConfig } from '@n8n/scan-community-package/scanner/scanner.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The runtime dependencies the design asks for, and why n8n's rules may not have their way with them:
 * - qs: ActiveCampaign posts PHP-style bracket keys (`contact[fields][39]=…`); qs nests them under the
 *   depth, parameter and prototype limits parse.ts sets. n8n hands nodes only flat keys.
 * - zod: validates each delivery against the documented payload schemas (allowed by n8n's rules anyway).
 * - ioredis: the Redis dedup store's atomic claims for queue mode; n8n gives a webhook no Redis client, and
 *   ioredis is the client n8n's own queue mode uses.
 */
const RUNTIME_DEPENDENCIES = ['ioredis', 'qs', 'zod'];
/**
 * n8n's built-in credential types the node reuses, so users pick a credential they already have instead of
 * typing the same secret into a copy (n8n's own nodes share credentials the same way):
 * - activeCampaignApi: the ActiveCampaign API URL and key, offered beside the package's own credential;
 * - httpQueryAuth: the query parameter name and value that authenticate the pasted kinds' deliveries;
 * - redis: the Redis of the dedup store, often the very one n8n's queue mode runs on.
 * n8n's rules flag any credential that the package does not define; nothing else may be referenced.
 */
const REUSED_CREDENTIALS = /"(activeCampaignApi|httpQueryAuth|redis)"/;
const NODE_FILE = /\/ActiveCampaignTrigger\.node\.(ts|js)$/;
/** Findings n8n's rules make about those: the dependency list itself, each import of qs, each reused name. */
const ACCEPTED = [
	{ rule: '@n8n/community-nodes/no-runtime-dependencies', file: /(^|\/)package\.json$/ },
	{ rule: '@n8n/community-nodes/no-restricted-imports', file: /\/parse\.(ts|js)$/, message: /'qs'/ },
	{ rule: '@n8n/community-nodes/no-restricted-imports', file: /\/redisStore\.(ts|js)$/, message: /'ioredis'/ },
	{ rule: '@n8n/community-nodes/no-credential-reuse', file: NODE_FILE, message: REUSED_CREDENTIALS },
	{ rule: '@n8n/community-nodes/valid-credential-references', file: NODE_FILE, message: REUSED_CREDENTIALS },
	// "Suffix with -Api": n8n named its Query Auth credential `httpQueryAuth`; the only unsuffixed name here.
	{ rule: 'n8n-nodes-base/node-class-description-credentials-name-unsuffixed', file: NODE_FILE, max: 1 },
];

async function lint(cwd, patterns) {
	const eslint = new ESLint({ cwd, allowInlineConfig: false, overrideConfigFile: true, overrideConfig: await buildScanConfig() });
	const files = glob.sync(patterns, { cwd, absolute: true, ignore: ['node_modules/**', '**/package-lock.json'] });
	const findings = [];
	for (const result of await eslint.lintFiles(files)) {
		for (const message of result.messages.filter((entry) => entry.severity === 2)) {
			findings.push({ file: path.relative(cwd, result.filePath), line: message.line, rule: message.ruleId ?? '(parse error)', text: message.message });
		}
	}
	return findings;
}

function acceptanceOf(finding) {
	return ACCEPTED.find(
		(accepted) => accepted.rule === finding.rule && accepted.file.test(finding.file) && (!accepted.message || accepted.message.test(finding.text)),
	);
}

/** Accepted findings of one leg; an acceptance with `max` covers at most that many findings. */
function splitFindings(findings) {
	const used = new Map();
	const accepted = [];
	const rejected = [];
	for (const finding of findings) {
		const acceptance = acceptanceOf(finding);
		const count = (used.get(acceptance) ?? 0) + 1;
		used.set(acceptance, count);
		if (acceptance && (acceptance.max === undefined || count <= acceptance.max)) accepted.push(finding);
		else rejected.push(finding);
	}
	return { accepted, rejected };
}

function packedPackage() {
	if (!fs.existsSync(path.join(REPO_ROOT, 'dist'))) {
		throw new Error('dist/ is missing: run `npm run build` before `npm run scan`.');
	}
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-trigger-scan-'));
	const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', folder], { cwd: REPO_ROOT, encoding: 'utf8' }));
	execFileSync('tar', ['-xzf', path.join(folder, packed.filename), '-C', folder, '--strip-components=1']);
	return folder;
}

const declared = Object.keys(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).dependencies ?? {}).sort();
const problems = [];
if (declared.join() !== RUNTIME_DEPENDENCIES.join()) {
	problems.push(`package.json declares the runtime dependencies [${declared.join(', ')}], expected exactly [${RUNTIME_DEPENDENCIES.join(', ')}]`);
}

const tarball = packedPackage();
const legs = [
	{ name: 'source', findings: await lint(REPO_ROOT, SOURCE_FILE_PATTERNS) },
	{ name: 'tarball', findings: await lint(tarball, ['**/*.js', 'package.json']) },
];
fs.rmSync(tarball, { recursive: true, force: true });

for (const leg of legs) {
	const { accepted, rejected } = splitFindings(leg.findings);
	console.log(`[scan] ${leg.name} leg: ${leg.findings.length} finding(s), ${accepted.length} about the declared dependencies and credentials`);
	for (const finding of accepted) console.log(`[scan]   accepted  ${finding.file}:${finding.line} ${finding.rule}`);
	for (const finding of rejected) problems.push(`${leg.name} leg: ${finding.file}:${finding.line} ${finding.rule}: ${finding.text}`);
}

if (problems.length > 0) {
	console.error(`[scan] n8n's scanner would refuse this package:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
	process.exit(1);
}
console.log(`[scan] n8n's scanner reports nothing but the declared runtime dependencies (${RUNTIME_DEPENDENCIES.join(', ')}) and reused credentials`);
