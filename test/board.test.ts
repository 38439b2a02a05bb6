// The schedule board in headless Chromium (driven by playwright-core): a provincial admin pastes a token and sees the
// day's bookings by platform and room, with the latest report's discrepancies flagged on the bars.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sparticuzChromium from '@sparticuz/chromium';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { createJobHandlers } from '../jobs/handlers';
import { startJobs, type JobsRuntime } from '../jobs/runtime';
import { createServices, outboxSources } from '../app/hub';
import { createLogger } from '../lib/logger';
import { HOST, PARTNER, roomsOf, seedEveryDiscrepancy } from './support/reconciliation-fixture';
import { as, eventually, startTestHub, type TestHub } from './support/hub';

const ARTIFACTS = join(__dirname, 'artifacts');
let t: TestHub;
let jobs: JobsRuntime;
let browser: Browser;
let context: BrowserContext;

// Flags of the packaged Chromium that would weaken the page's security: the board must work with web security on.
const INSECURE_FLAGS = new Set(['--disable-web-security', '--allow-running-insecure-content']);
// Nothing may reach the internet during a test run: no background, update, sync or QUIC traffic of the browser's own.
const OFFLINE_FLAGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * The browser comes with `npm ci`: @sparticuz/chromium ships a headless Chromium inside its npm package and unpacks it
 * into the temp directory on first use, so a machine with nothing installed by hand runs this test. CHROMIUM_PATH
 * points at another Chromium instead (a newer one, or one with CJK fonts for the screenshot).
 */
async function launchChromium(): Promise<Browser> {
  const override = process.env.CHROMIUM_PATH;
  if (override)
    return chromium.launch({
      executablePath: override,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', ...OFFLINE_FLAGS],
    });
  return chromium.launch({
    executablePath: await sparticuzChromium.executablePath(),
    headless: true,
    args: [...sparticuzChromium.args.filter((flag) => !INSECURE_FLAGS.has(flag)), ...OFFLINE_FLAGS],
  });
}

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  const config = { ...t.config, GATEWAY_URL: t.hub.gateway.url };
  const logger = createLogger('test', config.LOG_LEVEL);
  jobs = startJobs({
    config,
    logger,
    outboxes: outboxSources(t.databases),
    handlers: createJobHandlers(createServices(config, logger, t.databases)),
  });
  browser = await launchChromium();
  // A fresh context: no cookies or storage from any earlier run.
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await jobs?.stop();
  await t?.stop();
});

it('shows a known booking and a known discrepancy of the latest report', async () => {
  const [host] = await roomsOf(t.databases, HOST);
  const [partner] = await roomsOf(t.databases, PARTNER);
  await seedEveryDiscrepancy(t.databases, new Date('2027-04-06T00:00:00+08:00'), { host, partner });
  const run = await t.graphql<{ runReconciliation: { id: string } }>(
    as.admin,
    'mutation { runReconciliation(from: "2027-04-06T00:00:00+08:00", to: "2027-04-07T00:00:00+08:00") { id } }',
  );
  const id = run.data!.runReconciliation.id;
  await eventually(async () => {
    const response = await t.graphql<{ reconciliationReport: { status: string } }>(
      as.admin,
      'query($id: ID!) { reconciliationReport(id: $id) { status } }',
      { id },
    );
    return response.data?.reconciliationReport.status === 'DONE' ? true : undefined;
  }, 30_000);

  const page = await context.newPage();
  const base = t.hub.gateway.url.replace(/\/graphql$/, '');
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  const consoleLines: string[] = [];
  page.on('console', (message) => consoleLines.push(message.text()));
  page.on('pageerror', (error) => consoleLines.push(error.message));
  await page.goto(`${base}/board?date=2027-04-06`);
  await page.fill('#token', await t.token(as.admin));
  await page.click('#load');

  // A known booking: the clean project's main room, confirmed, with its code on the bar.
  const clean = page.locator('.bar[data-booking-id="bk-rec-clean-main"]');
  await clean.waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
    throw new Error(
      `${String(error)}; board status: ${await page.locator('#status').textContent()}; console: ${consoleLines.join(' | ')}`,
    );
  });
  expect(await clean.textContent()).toContain('REC-CLEAN');
  expect(await clean.getAttribute('class')).toContain('status-CONFIRMED');
  expect(await clean.getAttribute('class')).not.toContain('flagged');
  // A known discrepancy: the held secondary booking whose hold expired is flagged, and listed with its detail.
  const expired = page.locator('.bar[data-booking-id="bk-rec-hold-secondary"]');
  expect(await expired.getAttribute('class')).toContain('flagged');
  expect(await expired.getAttribute('class')).toContain('status-HELD');
  expect(await expired.getAttribute('title')).toContain('EXPIRED_HOLD');
  expect(await page.locator('#discrepancies li[data-kind="EXPIRED_HOLD"]').textContent()).toMatch(
    /confirmBooking or rejectBooking/,
  );
  expect(await page.locator('#discrepancies li').count()).toBe(6);
  // Rows per platform: the host and the partner county.
  expect(await page.locator(`.platform[data-platform-id="${HOST}"] .row`).count()).toBeGreaterThan(0);
  expect(await page.locator(`.platform[data-platform-id="${PARTNER}"] .row`).count()).toBeGreaterThan(0);
  // The token stays in this tab's sessionStorage; nothing is fetched from anywhere but the gateway.
  expect(await page.evaluate('sessionStorage.getItem("hub-board-token")')).toBeTruthy();
  expect(requests.filter((url) => !url.startsWith(base))).toEqual([]);

  mkdirSync(ARTIFACTS, { recursive: true });
  // docs/board.png (for the README) is a copy of one of these, made by hand so test runs leave the tree clean.
  await page.screenshot({ path: join(ARTIFACTS, 'board.png'), fullPage: true });
});
