import fs from 'node:fs';
import path from 'node:path';

/**
 * The repository's root: the nearest folder above this file with a package.json. Found rather than fixed, so
 * the same path holds from the TypeScript sources (test/support/) and from their compiled copy in .build/,
 * where the demo and the bench run and where tsc does not copy data files such as test/fixtures/*.txt.
 */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(start: string): string {
	for (let folder = start; ; folder = path.dirname(folder)) {
		if (fs.existsSync(path.join(folder, 'package.json'))) return folder;
		if (path.dirname(folder) === folder) throw new Error(`No package.json above ${start}`);
	}
}
