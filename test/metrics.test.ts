// Operations: /metrics on the gateway and the subgraphs, one request id across processes, and the /queues dashboard.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { openRedis } from '../lib/redis';
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

let t: TestHub;
let connection: Redis;
let queue: Queue;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  connection = openRedis(t.config.REDIS_URL);
  queue = new Queue('notifications', { connection, prefix: t.config.HUB_QUEUE_PREFIX });
});
afterAll(async () => {
  await queue.close();
  connection.disconnect();
  await t.stop();
});

const gatewayUrl = (path: string) => new URL(path, t.hub.gateway.url).toString();

/** The value of the sample of `name` that has all the given labels (in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
      return Number(line.split(' ').pop());
  }
  return undefined;
}

it('counts requests by operation name, errors by code and subgraph fetch latency on the gateway', async () => {
  // Two callers: one caller asking twice would have its second answer from the gateway's response cache.
  await t.graphql(as.admin, `query PlatformName($id: ID!) { platform(id: $id) { name } }`, { id: ZHUMADIAN });
  await t.graphql(as.operator(), `query PlatformName($id: ID!) { platform(id: $id) { name } }`, { id: ZHUMADIAN });
  await t.graphql(as.expert('exp-00001'), `mutation Refused { fileProject(projectId: "nope", approve: true) { id } }`);
  const text = await (await fetch(t.hub.gateway.metricsUrl!)).text();
  expect(
    sample(text, 'hub_graphql_requests_total', { operation: 'PlatformName', type: 'query', service: 'gateway' }),
  ).toBe(2);
  expect(
    sample(text, 'hub_graphql_request_duration_seconds_count', {
      operation: 'PlatformName',
      type: 'query',
      service: 'gateway',
    }),
  ).toBe(2);
  expect(
    (sample(text, 'hub_graphql_errors_total', { code: 'FORBIDDEN' }) ?? 0) +
      (sample(text, 'hub_graphql_errors_total', { code: 'NOT_FOUND' }) ?? 0),
  ).toBe(1);
  expect(
    sample(text, 'hub_subgraph_fetch_duration_seconds_count', { subgraph: 'venues', outcome: 'ok' }),
  ).toBeGreaterThanOrEqual(2);

  const venues = await (await fetch(new URL('/metrics', t.hub.subgraphs.venues.url))).text();
  // The gateway names the operations it sends: <operation>__<subgraph>__<step>.
  expect(
    sample(venues, 'hub_graphql_requests_total', { operation: 'PlatformName__venues__0', service: 'venues' }),
  ).toBe(2);
});

it("serves the gateway's /metrics on a listener of its own on loopback, never on the public port", async () => {
  expect((await fetch(gatewayUrl('/metrics'))).status).toBe(404);
  expect(t.hub.gateway.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  expect(new URL(t.hub.gateway.metricsUrl!).port).not.toBe(new URL(t.hub.gateway.url).port);
  const other = await fetch(new URL('/graphql', t.hub.gateway.metricsUrl!));
  expect(other.status).toBe(404);
});

it('bounds the operation label a client chooses', async () => {
  await t.graphql(as.admin, `query ${'x'.repeat(80)} { platform(id: "${ZHUMADIAN}") { id } }`);
  const text = await (await fetch(t.hub.gateway.metricsUrl!)).text();
  expect(sample(text, 'hub_graphql_requests_total', { operation: 'invalid' })).toBe(1);
  expect(text).not.toMatch(/x{80}/);
});

it('answers with the request id it generated or the sane one it was given', async () => {
  const token = await t.token(as.admin);
  const post = (headers: Record<string, string>) =>
    fetch(t.hub.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query: '{ platform(id: "411700") { id } }' }),
    });
  const generated = await post({});
  expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const given = await post({ 'x-request-id': 'partner-411702-abc' });
  expect(given.headers.get('x-request-id')).toBe('partner-411702-abc');
  const refused = await post({ 'x-request-id': 'bad id with spaces' });
  expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

describe('/queues', () => {
  it('shows a login form without a token and refuses a non-admin', async () => {
    const page = await fetch(gatewayUrl('/queues'));
    expect(page.status).toBe(401);
    expect(await page.text()).toMatch(/<form method="post" action="\/queues\/login">/);
    const operator = await fetch(gatewayUrl('/queues/api/queues'), {
      headers: { authorization: `Bearer ${await t.token(as.operator())}` },
    });
    expect(operator.status).toBe(403);
    const operatorPage = await fetch(gatewayUrl('/queues/queue/notifications'), {
      headers: { authorization: `Bearer ${await t.token(as.operator())}` },
    });
    expect(operatorPage.status).toBe(403);
    const anonymousApi = await fetch(gatewayUrl('/queues/api/queues'));
    expect(anonymousApi.status).toBe(401);
    const login = await fetch(gatewayUrl('/queues/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${await t.token(as.operator())}`,
      redirect: 'manual',
    });
    expect(login.status).toBe(401);
  });

  it('lets an admin log in to Bull Board served from the gateway itself, see counts and failed jobs without their data, retry one and remove one', async () => {
    const login = await fetch(gatewayUrl('/queues/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${await t.token(as.admin)}`,
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/);
    const page = await fetch(gatewayUrl('/queues'), { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<base href="\/queues\/"/);
    // Nothing the page loads comes from another host: no CDN, no web font; its policy allows this origin only.
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    const scripts = [...html.matchAll(/<script defer src="([^"]+)"/g)].map((match) => match[1]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const asset = await fetch(gatewayUrl(`/queues/${script}`), { headers: { cookie } });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      await asset.arrayBuffer();
    }

    // Two dead jobs, failed for good, as a worker leaves them after its last attempt; their data must stay hidden.
    const workerConnection = openRedis(t.config.REDIS_URL);
    const worker = new Worker(
      'notifications',
      async () => {
        throw new Error('partner platform answered 500');
      },
      { connection: workerConnection, prefix: t.config.HUB_QUEUE_PREFIX },
    );
    for (const id of ['dead-1', 'dead-2'])
      await queue.add(
        'fault-probe',
        { seatId: `sealed-seat-${id}`, expertId: 'sealed-expert-77' },
        { jobId: id, attempts: 1 },
      );
    await eventually(async () => ((await queue.getFailedCount()) === 2 ? true : undefined), 10_000, 'two failed jobs');
    await worker.close();
    workerConnection.disconnect();
    const listing = await fetch(
      gatewayUrl('/queues/api/queues?activeQueue=notifications&status=failed&page=1&jobsPerPage=10'),
      { headers: { cookie } },
    );
    expect(listing.status).toBe(200);
    const listingText = await listing.text();
    expect(listingText).not.toMatch(/sealed-/);
    const counts = JSON.parse(listingText) as {
      queues: {
        name: string;
        counts: Record<string, number>;
        jobs: { id: string; data: unknown; failedReason: string }[];
      }[];
    };
    expect(counts.queues.map((row) => row.name).sort()).toEqual([
      'expert-draws',
      'notifications',
      'reconciliation',
      'venue-bookings',
    ]);
    const notifications = counts.queues.find((row) => row.name === 'notifications')!;
    expect(notifications.counts.failed).toBe(2);
    expect(notifications.jobs.map((job) => job.id).sort()).toEqual(['dead-1', 'dead-2']);
    expect(notifications.jobs.map((job) => [job.data, job.failedReason])).toEqual([
      ['[hidden]', 'partner platform answered 500'],
      ['[hidden]', 'partner platform answered 500'],
    ]);
    const one = await fetch(gatewayUrl('/queues/api/queues/notifications/dead-1'), { headers: { cookie } });
    expect(one.status).toBe(200);
    expect(await one.text()).not.toMatch(/sealed-/);

    const put = (path: string) =>
      fetch(gatewayUrl(path), { method: 'PUT', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
    expect((await put('/queues/api/queues/notifications/dead-1/retry')).status).toBeLessThan(300);
    expect(await (await queue.getJob('dead-1'))!.getState()).toBe('waiting');
    expect((await put('/queues/api/queues/notifications/dead-2/clean')).status).toBeLessThan(300);
    expect(await queue.getJob('dead-2')).toBeUndefined();
    expect((await put('/queues/api/queues/nope/x/retry')).status).toBe(404);
    // No job is added or its data edited by hand; and a cross-site form (never JSON) is refused before anything runs.
    const add = await fetch(gatewayUrl('/queues/api/queues/notifications/add'), {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', data: {} }),
    });
    expect(add.status).toBe(403);
    const edit = await fetch(gatewayUrl('/queues/api/queues/notifications/dead-1/update-data'), {
      method: 'PATCH',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ data: {} }),
    });
    expect(edit.status).toBe(403);
    // Nor is a queue emptied, obliterated or cleaned in bulk: that would lose jobs already relayed from an outbox.
    for (const path of ['empty', 'obliterate', 'clean/failed'])
      expect((await put(`/queues/api/queues/notifications/${path}`)).status).toBe(403);
    expect(await queue.count()).toBe(1);
    expect((await queue.getJob('dead-1'))!.data).toEqual({
      seatId: 'sealed-seat-dead-1',
      expertId: 'sealed-expert-77',
    });
    const formPost = await fetch(gatewayUrl('/queues/api/queues/notifications/dead-1/retry'), {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'x=1',
    });
    expect(formPost.status).toBe(415);
  });
});
