// The /queues dashboard (Bull Board) in headless Chromium: an admin logs in through the form and the board renders
// under its content security policy, every request it makes goes to the gateway itself, and a failed job's data never
// reaches the page. The HTTP-level checks (refusals, retry, remove, redaction in the API) are in test/metrics.test.ts.
import sparticuzChromium from '@sparticuz/chromium';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { chromium, type Browser } from 'playwright-core';
import { openRedis } from '../lib/redis';
import { as, eventually, startTestHub, type TestHub } from './support/hub';

const INSECURE_FLAGS = new Set(['--disable-web-security', '--allow-running-insecure-content']);
const OFFLINE_FLAGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

let t: TestHub;
let browser: Browser;
let connection: Redis;
let queue: Queue;

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  connection = openRedis(t.config.REDIS_URL);
  queue = new Queue('expert-draws', { connection, prefix: t.config.HUB_QUEUE_PREFIX });
  const override = process.env.CHROMIUM_PATH;
  browser = override
    ? await chromium.launch({
        executablePath: override,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', ...OFFLINE_FLAGS],
      })
    : await chromium.launch({
        executablePath: await sparticuzChromium.executablePath(),
        headless: true,
        args: [...sparticuzChromium.args.filter((flag) => !INSECURE_FLAGS.has(flag)), ...OFFLINE_FLAGS],
      });
});
afterAll(async () => {
  await browser?.close();
  await queue?.close();
  connection?.disconnect();
  await t?.stop();
});

it('renders Bull Board for an admin from the gateway alone, with the job data hidden', async () => {
  await queue.add(
    'draw',
    { seatId: 'sealed-seat-9', expertId: 'sealed-expert-9' },
    { jobId: 'draw-probe', delay: 3_600_000 },
  );
  const origin = new URL(t.hub.gateway.url).origin;
  const context = await browser.newContext();
  const page = await context.newPage();
  const elsewhere: string[] = [];
  const refused: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(`${origin}/`)) elsewhere.push(request.url());
  });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
  });

  await page.goto(`${origin}/queues`);
  await page.fill('input[name=token]', await t.token(as.admin));
  // The form's POST carries the page's origin (not `null`), which the gateway's CORS check lets through.
  await Promise.all([page.waitForURL(`${origin}/queues`), page.click('button')]);
  // The board's own UI, listing the hub's queues.
  await page.getByText('expert-draws').first().waitFor({ timeout: 30_000 });
  await page.goto(`${origin}/queues/queue/expert-draws/draw-probe`);
  await page.getByText('draw-probe').first().waitFor({ timeout: 30_000 });
  await eventually(
    async () => ((await page.content()).includes('[hidden]') ? true : undefined),
    30_000,
    'the job page showing its data as [hidden]',
  );
  expect(await page.content()).not.toMatch(/sealed-/);
  expect(elsewhere).toEqual([]);
  expect(refused).toEqual([]);
  await context.close();
}, 120_000);
