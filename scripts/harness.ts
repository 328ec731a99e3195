/**
 * The end-to-end harness (test/e2e/harness.ts) for the scripts compiled into .build/.
 *
 * The harness finds the repository two folders above its own file: right for test/e2e/harness.ts under
 * ts-jest, wrong for its compiled copy in .build/test/e2e. Until it finds the repository another way, its
 * source is transpiled into a folder that is also two levels below the repository (bench/http.ts does the
 * same for the same reason).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

import * as compiledHarness from '../test/e2e/harness';

export type Harness = typeof compiledHarness;

/** The nearest folder above this file that holds a package.json: the repository, from scripts/ or .build/scripts/. */
export const REPO_ROOT = findRepoRoot(__dirname);

export function loadHarness(): Harness {
	if (compiledHarness.REPO_ROOT === REPO_ROOT) return compiledHarness;
	const source = path.join(REPO_ROOT, 'test', 'e2e', 'harness.ts');
	const target = path.join(REPO_ROOT, '.cache', 'scripts-harness', 'harness.js');
	const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
		compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
		fileName: source,
	});
	fs.mkdirSync(path.dirname(target), { recursive: true });
	fs.writeFileSync(target, outputText);
	return require(target) as Harness;
}

function findRepoRoot(start: string): string {
	for (let folder = start; ; folder = path.dirname(folder)) {
		if (fs.existsSync(path.join(folder, 'package.json'))) return folder;
		if (path.dirname(folder) === folder) throw new Error(`No package.json above ${start}`);
	}
}
