// The schedule board in headless Chromium (driven by playwright-core): a provincial admin pastes a token and sees the
// day's bookings by platform and room, with the latest report's discrepancies flagged on the bars, and the rooms' blocks
// in a lane of their own.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sparticuzChromium from '@sparticuz/chromium';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { createJobHandlers } from '../jobs/handlers';
import { startJobs, type JobsRuntime } from '../jobs/runtime';
import { createServices, outboxSources } from '../app/hub';
import { createLogger } from '../lib/logger';
import { BLOCK_ID, BLOCK_REF, HOST, PARTNER, roomsOf, seedEveryDiscrepancy } from './support/reconciliation-fixture';
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

it('shows a known booking, a known discrepancy of the latest report, and room blocks apart from bookings', async () => {
  const [host, second] = await roomsOf(t.databases, HOST);
  const [partner] = await roomsOf(t.databases, PARTNER);
  await seedEveryDiscrepancy(t.databases, new Date('2027-04-06T00:00:00+08:00'), { host, partner });
  // A block put through the API takes seat rows: the room's free seats over its window drop by its seats.
  const blockWindow = { from: '2027-04-06T14:00:00+08:00', to: '2027-04-06T17:00:00+08:00' };
  const put = await t.graphql<{ putRoomBlock: { id: string } }>(
    as.operator(HOST),
    `mutation($r: ID!, $from: DateTime!, $to: DateTime!) {
      putRoomBlock(roomId: $r, externalRef: "BOARD-LOCAL-1", from: $from, to: $to, seats: 3, reason: "县级本地评标") { id } }`,
    { r: second, ...blockWindow },
  );
  expect(put.errors).toBeUndefined();
  const rooms = await t.graphql<{
    platform: { venues: { rooms: { id: string; seats: number; freeSeats: number }[] }[] };
  }>(
    as.admin,
    `query($from: DateTime!, $to: DateTime!) { platform(id: "${HOST}") { venues { rooms { id seats freeSeats(from: $from, to: $to) } } } }`,
    blockWindow,
  );
  const blocked = rooms.data!.platform.venues.flatMap((venue) => venue.rooms).find((room) => room.id === second)!;
  expect(blocked.freeSeats).toBe(blocked.seats - 3);
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
  expect(await page.locator('#discrepancies li').count()).toBe(7);
  expect(await page.locator('#discrepancies li[data-kind="ROOM_OVERBOOKED"]').textContent()).toContain(BLOCK_ID);
  // Blocks apart from bookings: in the room's own "blocked for local use" lane, with reason and externalRef, never as
  // a booking's bar and never in the bookings' lane.
  const fixtureBlock = page.locator(`.blocks-row[data-room-id="${host}"] .block[data-block-id="${BLOCK_ID}"]`);
  expect(await fixtureBlock.textContent()).toContain(BLOCK_REF);
  expect(await fixtureBlock.textContent()).toContain('本地评标 (fixture)');
  expect(await fixtureBlock.getAttribute('title')).toMatch(/Blocked for local use · 6 seats/);
  expect(await page.locator(`.blocks-row[data-room-id="${host}"] .room`).textContent()).toBe('blocked for local use');
  const apiBlock = page.locator(`.blocks-row[data-room-id="${second}"] .block[data-external-ref="BOARD-LOCAL-1"]`);
  expect(await apiBlock.getAttribute('data-block-id')).toBe(put.data!.putRoomBlock.id);
  expect(await apiBlock.textContent()).toContain('县级本地评标');
  expect(await page.locator('.bar[data-block-id], .row:not(.blocks-row) .block').count()).toBe(0);
  expect(await page.locator('.blocks-row .bar').count()).toBe(0);
  expect(await page.locator('#status').textContent()).toMatch(/ and 2 blocks from /);
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
