/**
 * `npm run screenshots`: the README's pictures, taken from the demo's n8n (demoSetup.ts) after the demo's
 * events (demoStream.ts) ran, in Debian's headless Chromium:
 *   docs/images/canvas.png         the workflow on the canvas
 *   docs/images/trigger-panel.png  the trigger's panel: events, initiators, lists
 *   docs/images/execution.png      one execution, with the item the trigger emitted
 *
 * Chromium is driven by playwright-core, which this package does not depend on: the pinned n8n 1.x install
 * (.cache/n8n-v1, or n8n-v1 in N8N_INSTALL_CACHE) brings it. Chromium itself comes from Debian
 * (`apt-get install -y chromium`).
 *   SCREENSHOTS_PORT=5688   n8n's port (the next one is taken too), apart from the demo's 5678
 */
import fs from 'node:fs';
import path from 'node:path';

import { SUMMARY_NODE_ID, TRIGGER_NODE_ID, startDemo, type Demo, type Say } from './demoSetup';
import { TRIGGER_NAME } from '../test/support/triggerNode';
import { demoSteps, streamEvents } from './demoStream';
import { OWNER, REPO_ROOT, n8nInstallFolder } from '../test/e2e/harness';

const CHROMIUM = '/usr/bin/chromium';
const PLAYWRIGHT_CORE = path.join(n8nInstallFolder('v1'), 'node_modules', 'playwright-core');
const PORT = Number(process.env.SCREENSHOTS_PORT ?? 5688);
const FOLDER = path.join(REPO_ROOT, '.cache', 'screenshots');
const IMAGES = path.join(REPO_ROOT, 'docs', 'images');
const VIEWPORT = { width: 1400, height: 900 };
/** As on these machines' probe: without the background-networking flags Chromium keeps calling Google. */
const CHROMIUM_FLAGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];
const WAIT_MS = 30_000;
/**
 * Not 'load': the editor asks n8n's online services for things this offline machine cannot reach, and the
 * load event waits for them. Each step waits for what it shows instead.
 */
const OPENED = { waitUntil: 'domcontentloaded' } as const;

/** The part of playwright-core's API used here (its types live in the n8n install, not in this repository). */
interface Playwright {
	chromium: { launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser> };
}
interface Browser {
	newPage(options: { viewport: { width: number; height: number } }): Promise<Page>;
	close(): Promise<void>;
}
interface Page {
	goto(url: string, options: { waitUntil: 'domcontentloaded' }): Promise<unknown>;
	fill(selector: string, value: string): Promise<void>;
	press(selector: string, key: string): Promise<void>;
	click(selector: string): Promise<void>;
	waitForURL(matches: (url: URL) => boolean, options: { timeout: number }): Promise<void>;
	waitForSelector(selector: string, options: { timeout: number }): Promise<unknown>;
	waitForTimeout(ms: number): Promise<void>;
	screenshot(options: { path: string }): Promise<Buffer>;
	frameLocator(selector: string): { locator(selector: string): { first(): { waitFor(options: { timeout: number }): Promise<void> } } };
}

const say: Say = (line) => console.log(line);

async function main(): Promise<void> {
	if (!fs.existsSync(CHROMIUM)) {
		throw new Error(`Chromium is missing: install Debian's with \`sudo apt-get install -y chromium\` (expected at ${CHROMIUM}).`);
	}
	const demo = await startDemo({ port: PORT, folder: FOLDER, say });
	try {
		say('Sending the demo\'s events:');
		await streamEvents(demo, demoSteps(), { paceMs: 0, say });
		await takeScreenshots(demo);
	} finally {
		await demo.stop();
	}
}

async function takeScreenshots(demo: Demo): Promise<void> {
	if (!fs.existsSync(PLAYWRIGHT_CORE)) {
		throw new Error(`playwright-core is missing from the n8n install (${PLAYWRIGHT_CORE}); run scripts/install-n8n.sh v1.`);
	}
	const { chromium } = require(PLAYWRIGHT_CORE) as Playwright;
	const executions = await demo.n8n.executions(demo.workflowId, TRIGGER_NAME);
	const shown = executions.find((execution) => execution.items[0]?.event === 'subscribe');
	if (!shown) throw new Error('No execution of a "subscribe" event to show');

	fs.mkdirSync(IMAGES, { recursive: true });
	const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
	try {
		const page = await browser.newPage({ viewport: VIEWPORT });
		const workflowUrl = `${demo.n8n.baseUrl}/workflow/${demo.workflowId}`;
		await signIn(page, demo.n8n.baseUrl);

		await page.goto(workflowUrl, OPENED);
		await page.waitForSelector('[data-test-id="canvas-node"]', { timeout: WAIT_MS });
		await save(page, 'canvas.png');

		await page.goto(`${workflowUrl}/${TRIGGER_NODE_ID}`, OPENED);
		await page.waitForSelector('[data-test-id="ndv"]', { timeout: WAIT_MS });
		// The event names come from the node's loadOptions, through the credential, from the simulator.
		await page.waitForSelector('text=A contact is added (subscribes)', { timeout: WAIT_MS });
		// Opened, the Lists field shows the account's lists, also loaded through the API.
		await page.click('[data-test-id="parameter-input-listIds"]');
		await page.waitForSelector('text=Webinar attendees', { timeout: WAIT_MS });
		await save(page, 'trigger-panel.png');

		await page.goto(`${workflowUrl}/executions/${shown.id}/${SUMMARY_NODE_ID}`, OPENED);
		await page.frameLocator('iframe').locator('[data-test-id="canvas-node"]').first().waitFor({ timeout: WAIT_MS });
		await save(page, 'execution.png');
	} finally {
		await browser.close();
	}
}

/** Through the editor's own sign-in form, as a person would. */
async function signIn(page: Page, baseUrl: string): Promise<void> {
	await page.goto(`${baseUrl}/signin`, OPENED);
	const form = '[data-test-id="signin-form"]';
	await page.waitForSelector(`${form} input[type="email"]`, { timeout: WAIT_MS });
	await page.fill(`${form} input[type="email"]`, OWNER.email);
	await page.fill(`${form} input[type="password"]`, OWNER.password);
	await page.press(`${form} input[type="password"]`, 'Enter');
	await page.waitForURL((url) => !url.pathname.startsWith('/signin'), { timeout: WAIT_MS });
}

async function save(page: Page, file: string): Promise<void> {
	// Let the editor finish its transitions (zoom to fit, panels sliding in).
	await page.waitForTimeout(1500);
	const target = path.join(IMAGES, file);
	await page.screenshot({ path: target });
	say(`Saved ${path.relative(REPO_ROOT, target)}`);
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(error instanceof Error ? error.message : error);
		process.exit(1);
	},
);
