/**
 * `npm run lint`: exactly the configuration n8n's own scanner (@n8n/scan-community-package, the gate for
 * verified community packages) lints a package's sources with — @n8n/eslint-plugin-community-nodes'
 * recommended rules and eslint-plugin-n8n-nodes-base's community, credentials and nodes rulesets — imported
 * from the scanner itself, so the two cannot drift apart. Below it, the one exception this package takes.
 */
import { buildScanConfig } from '@n8n/scan-community-package/scanner/scanner.mjs';

export default [
	{ ignores: ['dist/**', '.build/**', '.cache/**', 'node_modules/**'] },
	...(await buildScanConfig()),
	{
		files: ['package.json'],
		rules: {
			// The runtime dependencies the design asks for: qs, zod and ioredis (the Redis dedup store's client; see
			// README's Commands section); scripts/scan-package.mjs checks that they are the only ones.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
];
