// Fault: Redis stops (SIGTERM, as an operator or orchestrator restarts it) and starts again on the same port and data
// directory while the built jobs process (dist/jobs/main.js, NODE_ENV=production) relays and works the hub's own jobs.
// The work is real: projects arranged through the gateway, whose venue saga runs in the jobs process (holds, automatic
// confirmations, the partner's webhook). Its effects are counted afterwards in the hub's own tables and at the partner's
// receiver: every booking, timeline event and webhook POST exactly once, though BullMQ may run a job twice.
// The Redis restarted is one the test starts on a free port of its own, never the shared 127.0.0.1:6379.
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { WEBHOOK_DELIVERY_HEADER } from '../../jobs/notifications';
import { openRedis } from '../../lib/redis';
import { ARRANGE, bookingsOf, filedProject, inDays, webhookReceiver } from '../support/booking';
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from '../support/hub';
import {
  buildDist,
  freePort,
  OwnRedis,
  partnerAddress,
  PRODUCTION_ENV,
  startBuilt,
  waitForOutput,
} from './support/processes';

const CITY = '410100'; // Zhengzhou confirms by hand: its hold is announced by webhook.
const MAIN_ROOM = 'room-411700-1';
const SECONDARY = [
  { roomId: 'room-411721-1', seats: 1 }, // the county: confirmed automatically by the agreement
  { roomId: 'room-410100-1', seats: 3 }, // the city: HELD, and a webhook to its platform
];

let t: TestHub;
let redis: OwnRedis;
let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
// The partner's receiver listens where a production jobs process may deliver (never loopback).
const partner = partnerAddress();
jest.setTimeout(300_000);
beforeAll(async () => {
  buildDist();
  t = await startTestHub({ jobs: false });
  redis = new OwnRedis(await freePort());
  await redis.start();
  receiver = await webhookReceiver(undefined, partner);
  // Master data: the city's webhook endpoint is the test's receiver (no API edits it; the database is this file's own).
  await t.databases.venues.db
    .updateTable('platform')
    .set({ webhook_url: receiver.url })
    .where('id', '=', CITY)
    .execute();
}, 240_000);
afterAll(async () => {
  await t.databases.venues.db.updateTable('platform').set({ webhook_url: null }).where('id', '=', CITY).execute();
  await receiver.close();
  await redis.stop();
  await t.stop();
});

/** An arrangement's saga is done once its three bookings exist and the city's webhook was recorded as delivered. */
async function sagaDone(projectId: string): Promise<boolean> {
  const bookings = await bookingsOf(t, projectId);
  if (bookings.length < 3) return false;
  const city = bookings.find((booking) => booking.room_id === SECONDARY[1].roomId);
  if (!city) return false;
  const delivery = await t.databases.venues.db
    .selectFrom('webhook_delivery')
    .select('status')
    .where('booking_id', '=', city.id)
    .executeTakeFirst();
  return delivery?.status === 'DELIVERED';
}

async function unfinished(projectIds: string[]): Promise<string[]> {
  const open: string[] = [];
  for (const projectId of projectIds) if (!(await sagaDone(projectId))) open.push(projectId);
  return open;
}

async function unsentMessages(): Promise<number> {
  let count = 0;
  for (const domain of ['venues', 'experts', 'projects'] as const) {
    const row = await sql<{ count: string }>`select count(*) as count from outbox where sent_at is null`.execute(
      t.databases[domain].db,
    );
    count += Number(row.rows[0].count);
  }
  return count;
}

/** The jobs the hub's workers ran on the test's Redis, and how many of them were started more than once (retry or stall). */
async function jobStarts(): Promise<{ jobs: number; twice: number }> {
  const connection = openRedis(redis.url);
  let jobs = 0;
  let twice = 0;
  try {
    for (const name of ['venue-bookings', 'notifications', 'expert-draws', 'reconciliation']) {
      const queue = new Queue(name, { connection, prefix: t.config.HUB_QUEUE_PREFIX });
      const all = await queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized'], 0, -1);
      jobs += all.length;
      twice += all.filter((job) => job.attemptsStarted > 1).length;
      await queue.close();
    }
  } finally {
    connection.disconnect();
  }
  return { jobs, twice };
}

it("restarted mid-saga (twice at least), the hub's real jobs leave every booking, timeline event and webhook exactly once", async () => {
  const child = startBuilt('jobs/main', {
    ...PRODUCTION_ENV,
    ...partner.env,
    DATABASE_URL: t.database.url,
    REDIS_URL: redis.url,
    HUB_QUEUE_PREFIX: t.config.HUB_QUEUE_PREFIX,
    OUTBOX_POLL_INTERVAL: '20ms',
    JOBS_METRICS_PORT: '0',
  });
  await waitForOutput(child, 'workers and outbox relay running', 60_000);

  // Requests keep arriving throughout, Redis up or down: each a project filed and arranged through the gateway.
  const projects: string[] = [];
  const refusals: string[] = [];
  let restarts = 0;
  let midSaga = 0;
  let writing = true;
  const writer = (async () => {
    for (let index = 0; writing; index += 1) {
      const projectId = await filedProject(t, { startsAt: inDays(40 + index, 1), endsAt: inDays(40 + index, 9) });
      const response = await t.graphql(as.operator(ZHUMADIAN), ARRANGE, {
        projectId,
        mainRoomId: MAIN_ROOM,
        secondary: SECONDARY,
      });
      if (response.errors) refusals.push(`${projectId}: ${JSON.stringify(response.errors)}`);
      projects.push(projectId);
    }
  })();

  try {
    // Restarts until two of them fell mid-saga (a stop that finds every saga done counts as a restart, not as mid-saga).
    while (midSaga < 2) {
      expect(restarts).toBeLessThan(8);
      restarts += 1;
      // Stop Redis once some sagas finished since the last restart and others are still running.
      const done = projects.length;
      await eventually(
        async () => {
          const since = projects.slice(done);
          if (since.length < 4) return undefined;
          const open = (await unfinished(since)).length;
          return open > 0 && open < since.length ? true : undefined;
        },
        120_000,
        'some sagas to finish since the last restart while others run',
      );
      const before = [...projects];
      await redis.stop();
      // Measured after the stop: the sagas of requests accepted before it that had not finished, and messages not relayed.
      const inFlight = await unfinished(before);
      const unsent = await unsentMessages();
      console.info(
        `redis-restart: restart ${restarts} fell while ${inFlight.length} of ${before.length} arrangements were mid-saga (${unsent} outbox messages not yet relayed)`,
      );
      if (inFlight.length > 0) midSaga += 1;
      // Commits land while Redis is down: their messages wait in the outbox.
      await eventually(
        async () => (projects.length >= before.length + 2 ? true : undefined),
        60_000,
        'arrangements to commit while Redis is down',
      );
      await redis.start();
    }
    const afterRestarts = projects.length;
    await eventually(
      async () => (projects.length >= afterRestarts + 2 ? true : undefined),
      60_000,
      'arrangements after the last restart',
    );
  } finally {
    writing = false;
    await writer;
  }
  expect(midSaga).toBe(2);
  expect(refusals).toEqual([]);
  await eventually(
    async () => ((await unfinished(projects)).length === 0 ? true : undefined),
    120_000,
    `all ${projects.length} sagas to finish`,
  );

  // Counted afterwards, per project, in the hub's own tables: each effect exactly once.
  const duplicates: string[] = [];
  for (const projectId of projects) {
    const bookings = await bookingsOf(t, projectId);
    expect(bookings.map((booking) => [booking.room_id, booking.status]).sort()).toEqual(
      [
        [MAIN_ROOM, 'CONFIRMED'],
        [SECONDARY[1].roomId, 'HELD'],
        [SECONDARY[0].roomId, 'CONFIRMED'],
      ].sort(),
    );
    const events = await t.databases.projects.db
      .selectFrom('project_event')
      .select('kind')
      .where('project_id', '=', projectId)
      .execute();
    const count = (kind: string) => events.filter((event) => event.kind === kind).length;
    const counts = {
      VENUES_ARRANGING: count('VENUES_ARRANGING'),
      VENUE_HELD: count('VENUE_HELD'),
      VENUE_CONFIRMED: count('VENUE_CONFIRMED'),
    };
    if (counts.VENUE_HELD !== 3 || counts.VENUE_CONFIRMED !== 2 || counts.VENUES_ARRANGING !== 1)
      duplicates.push(`${projectId}: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ VENUES_ARRANGING: 1, VENUE_HELD: 3, VENUE_CONFIRMED: 2 });
  }
  // The partner's side: one POST per delivery, one delivery per city booking, each recorded as a single attempt.
  const deliveries = await t.databases.venues.db
    .selectFrom('webhook_delivery')
    .select(['id', 'attempts', 'status'])
    .where('platform_id', '=', CITY)
    .execute();
  const posts = new Map<string, number>();
  for (const hook of receiver.received) {
    const id = String(hook.headers[WEBHOOK_DELIVERY_HEADER]);
    posts.set(id, (posts.get(id) ?? 0) + 1);
  }
  const postedTwice = [...posts].filter(([, n]) => n > 1);
  const started = await jobStarts();
  console.info(
    `redis-restart: ${restarts} Redis restarts (${midSaga} mid-saga), ${projects.length} arrangements, ${started.jobs} jobs (${started.twice} started more than once), ${projects.length * 3} bookings, ` +
      `${receiver.received.length} webhook POSTs for ${deliveries.length} deliveries; duplicated effects: ${duplicates.length} timelines, ${postedTwice.length} webhooks`,
  );
  expect(deliveries).toHaveLength(projects.length);
  expect(deliveries.every((delivery) => delivery.status === 'DELIVERED' && delivery.attempts === 1)).toBe(true);
  expect([...posts.keys()].sort()).toEqual(deliveries.map((delivery) => delivery.id).sort());
  expect(postedTwice).toEqual([]);
  expect(duplicates).toEqual([]);

  child.process.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
});
