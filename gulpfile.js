const { src, dest, task } = require('gulp');

/** Icons and the codex file sit beside the compiled node and credential, where n8n looks for them. */
function copyAssets() {
	return src(['nodes/**/*.{png,svg}', 'nodes/**/*.node.json', 'credentials/**/*.{png,svg}'], {
		base: '.',
		encoding: false,
	}).pipe(dest('dist'));
}

task('build:assets', copyAssets);
