// Fault: the relay process dies between putting messages on their queue and marking them sent, and commits land while
// no relay runs. The built jobs process (dist/jobs/main.js, NODE_ENV=production) is held at that very point: the test
// holds a SHARE lock on the projects outbox, which lets the relay select its rows FOR UPDATE and publish them but
// blocks its UPDATE ... sent_at. Postgres shows that UPDATE waiting on the lock while Redis has the jobs; then the
// process is SIGKILLed. Afterwards every outbox message is exactly one job, with the outbox id as its job id.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import pg from 'pg';
import { writeOutbox, type WithOutbox } from '../../lib/outbox';
import { openRedis } from '../../lib/redis';
import { eventually, startTestHub, type TestHub } from '../support/hub';
import { buildDist, PRODUCTION_ENV, startBuilt, waitForOutput, type Child } from './support/processes';
import type { Kysely } from 'kysely';

let t: TestHub;
let queue: Queue;
let connection: Redis;
jest.setTimeout(240_000);
beforeAll(async () => {
  buildDist();
  t = await startTestHub({ jobs: false });
  // Seeded messages would be relayed first and blur which publishes the kill interrupts; this database is ours.
  for (const domain of ['venues', 'experts', 'projects'] as const) {
    await sql`update outbox set sent_at = now() where sent_at is null`.execute(t.databases[domain].db);
  }
  connection = openRedis(t.config.REDIS_URL);
  queue = new Queue('notifications', { connection, prefix: t.config.HUB_QUEUE_PREFIX });
}, 240_000);
afterAll(async () => {
  await queue.close();
  connection.disconnect();
  await t.stop();
});

const childEnv = () => ({
  DATABASE_URL: t.database.url,
  REDIS_URL: t.config.REDIS_URL,
  HUB_QUEUE_PREFIX: t.config.HUB_QUEUE_PREFIX,
  OUTBOX_POLL_INTERVAL: '20ms',
  JOBS_METRICS_PORT: '0',
});
const READY = 'workers and outbox relay running';
const projectsDb = () => t.databases.projects.db as unknown as Kysely<WithOutbox>;

async function writeProbes(keys: string[]): Promise<void> {
  await projectsDb()
    .transaction()
    .execute(async (trx) => {
      for (const key of keys) await writeOutbox(trx, { queue: 'notifications', name: 'fault-probe', data: { key } });
    });
}

async function unsentProbes(): Promise<number> {
  const row = await sql<{
    count: string;
  }>`select count(*) as count from outbox where sent_at is null and name = 'fault-probe'`.execute(
    t.databases.projects.db,
  );
  return Number(row.rows[0].count);
}

/** Every probe message in the outbox is one job on the queue, under its outbox id; no job without a message. */
async function expectExactlyOneJobPerMessage(): Promise<number> {
  const rows = await sql<{
    id: string;
    payload: { key: string };
  }>`select id, payload from outbox where name = 'fault-probe' order by id`.execute(t.databases.projects.db);
  const jobs = (
    await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'], 0, -1)
  ).filter((job) => job.name === 'fault-probe');
  expect(jobs.map((job) => job.id).sort()).toEqual(rows.rows.map((row) => `projects-outbox-${row.id}`).sort());
  for (const row of rows.rows)
    expect(jobs.find((job) => job.id === `projects-outbox-${row.id}`)?.data.key).toBe(row.payload.key);
  return jobs.length;
}

async function stopChild(child: Child): Promise<void> {
  child.process.kill('SIGTERM');
  const exit = await child.exited;
  expect(exit.code).toBe(0);
}

/** The relay's marking UPDATE of the projects outbox, waiting on a lock: the relay is between enqueue and mark. */
async function relayHeldAtMark(): Promise<{ pid: number; query: string } | undefined> {
  const rows = await sql<{ pid: number; query: string }>`
    select pid, query from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock' and query ilike 'update %outbox" set "sent_at"%'`.execute(
    t.databases.projects.db,
  );
  return rows.rows[0];
}

async function backendGone(pid: number): Promise<true | undefined> {
  const rows = await sql<{ pid: number }>`select pid from pg_stat_activity where pid = ${pid}`.execute(
    t.databases.projects.db,
  );
  return rows.rows.length === 0 ? true : undefined;
}

it('killed between enqueueing and marking sent, with commits landing while no relay runs: one job per message', async () => {
  await writeProbes(Array.from({ length: 30 }, (_, index) => `held-${index}`));
  const lock = new pg.Client({ connectionString: t.database.url });
  await lock.connect();
  let child: Child | null = null;
  let killedBackend = 0;
  try {
    // SHARE conflicts with the UPDATE's ROW EXCLUSIVE, not with SELECT ... FOR UPDATE's ROW SHARE.
    await lock.query('begin');
    await lock.query('lock table projects.outbox in share mode');
    child = startBuilt('jobs/main', { ...PRODUCTION_ENV, ...childEnv() });
    await waitForOutput(child, READY, 60_000);
    const held = await eventually(relayHeldAtMark, 30_000, 'the relay to wait at its mark');
    const onQueue = (
      await queue.getJobs(['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'], 0, -1)
    ).filter((job) => job.name === 'fault-probe');
    // Where the kill falls: 30 jobs in Redis, none marked sent in Postgres, the marking UPDATE waiting.
    expect(onQueue).toHaveLength(30);
    expect(await unsentProbes()).toBe(30);
    child.process.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');
    console.info(
      `relay-crash: SIGKILL fell between enqueue and mark: backend ${held.pid} waiting on a lock in "${held.query.slice(0, 60)}", ${onQueue.length} jobs on the queue, ${await unsentProbes()} messages unsent`,
    );
    killedBackend = held.pid;
  } finally {
    await lock.query('rollback');
    await lock.end();
    if (child && child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
  // Postgres notices the dead client once the lock is given up and the UPDATE ends: its transaction never commits.
  await eventually(() => backendGone(killedBackend), 30_000, "the killed relay's backend to end");
  expect(await unsentProbes()).toBe(30);
  // Commits land while no relay runs: the window between commit and enqueue.
  await writeProbes(Array.from({ length: 10 }, (_, index) => `unrelayed-${index}`));
  const survivor = startBuilt('jobs/main', { ...PRODUCTION_ENV, ...childEnv() });
  await waitForOutput(survivor, READY, 60_000);
  await eventually(async () => ((await unsentProbes()) === 0 ? true : undefined), 30_000, 'the outbox to drain');
  await stopChild(survivor);
  expect(await expectExactlyOneJobPerMessage()).toBe(40);
});
