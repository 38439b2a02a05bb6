// Fault: the relay process dies between putting a message on its queue and marking it sent, and between a commit and
// the relay's next pass. Real processes (test/faults/support/jobs-child.ts runs jobs/runtime.ts's startJobs) are
// SIGKILLed; afterwards every outbox message is exactly one job, with the outbox id as its job id.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { writeOutbox, type WithOutbox } from '../../lib/outbox';
import { openRedis } from '../../lib/redis';
import { eventually, startTestHub, type TestHub } from '../support/hub';
import { createProbeTables, startChild, waitForOutput, type Child } from './support/processes';
import type { Kysely } from 'kysely';

let t: TestHub;
let queue: Queue;
let connection: Redis;
jest.setTimeout(150_000);
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  await createProbeTables(t.database.url);
  // Seeded messages would be relayed first and blur which publishes the kills interrupt; this database is ours.
  for (const domain of ['venues', 'experts', 'projects'] as const) {
    await sql`update outbox set sent_at = now() where sent_at is null`.execute(t.databases[domain].db);
  }
  connection = openRedis(t.config.REDIS_URL);
  queue = new Queue('notifications', { connection, prefix: t.config.HUB_QUEUE_PREFIX });
});
afterAll(async () => {
  await queue.close();
  connection.disconnect();
  await t.stop();
});

const childEnv = () => ({ DATABASE_URL: t.database.url, REDIS_URL: t.config.REDIS_URL, HUB_QUEUE_PREFIX: t.config.HUB_QUEUE_PREFIX, OUTBOX_POLL_INTERVAL: '20ms' });
const projectsDb = () => t.databases.projects.db as unknown as Kysely<WithOutbox>;

async function writeProbes(keys: string[]): Promise<void> {
  await projectsDb()
    .transaction()
    .execute(async (trx) => {
      for (const key of keys) await writeOutbox(trx, { queue: 'notifications', name: 'fault-probe', data: { key } });
    });
}

async function unsentProbes(): Promise<number> {
  const row = await sql<{ count: string }>`select count(*) as count from outbox where sent_at is null and name = 'fault-probe'`.execute(t.databases.projects.db);
  return Number(row.rows[0].count);
}

/** Every probe message in the outbox is one job on the queue, under its outbox id; no job without a message. */
async function expectExactlyOneJobPerMessage(): Promise<number> {
  const rows = await sql<{ id: string; payload: { key: string } }>`select id, payload from outbox where name = 'fault-probe' order by id`.execute(t.databases.projects.db);
  const jobs = (await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'], 0, -1)).filter((job) => job.name === 'fault-probe');
  expect(jobs.map((job) => job.id).sort()).toEqual(rows.rows.map((row) => `projects-outbox-${row.id}`).sort());
  for (const row of rows.rows) expect(jobs.find((job) => job.id === `projects-outbox-${row.id}`)?.data.key).toBe(row.payload.key);
  return jobs.length;
}

async function stopChild(child: Child): Promise<void> {
  child.process.kill('SIGTERM');
  const exit = await child.exited;
  expect(exit.code).toBe(0);
}

it('crash after enqueueing, before marking sent: the next relay republishes under the same job ids, one job each', async () => {
  await writeProbes(Array.from({ length: 30 }, (_, index) => `after-enqueue-${index}`));
  let kills = 0;
  // Each relay dies after its Nth publish, inside the relay transaction: Redis has jobs, Postgres has them unsent.
  for (const killAfter of [3, 11, 19]) {
    const child = startChild('test/faults/support/jobs-child.ts', { ...childEnv(), FAULT_KILL_AFTER_PUBLISHES: String(killAfter) });
    const exit = await child.exited;
    expect(exit.signal).toBe('SIGKILL');
    kills += 1;
  }
  expect(await unsentProbes()).toBe(30);
  // A pass puts all its messages on the queue at once (addBulk): each dead relay had published all 30 before its 3rd,
  // 11th or 19th callback ended it, and the later ones published them again under the same job ids.
  expect((await queue.getJobs(['waiting'], 0, -1)).filter((job) => job.name === 'fault-probe')).toHaveLength(30);
  const survivor = startChild('test/faults/support/jobs-child.ts', childEnv());
  await waitForOutput(survivor, 'fault-jobs ready');
  await eventually(async () => ((await unsentProbes()) === 0 ? true : undefined), 20_000, 'the outbox to drain');
  await stopChild(survivor);
  expect(await expectExactlyOneJobPerMessage()).toBe(30);
  expect(kills).toBe(3);
});

it('crash at random moments while requests commit messages: none lost, none doubled', async () => {
  const written: string[] = [];
  let writing = true;
  const writer = (async () => {
    for (let batch = 0; writing; batch += 1) {
      const keys = [`random-${batch}-a`, `random-${batch}-b`];
      await writeProbes(keys);
      written.push(...keys);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
  })();
  let kills = 0;
  for (let round = 0; round < 3; round += 1) {
    const child = startChild('test/faults/support/jobs-child.ts', childEnv());
    await waitForOutput(child, 'fault-jobs ready');
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 600));
    child.process.kill('SIGKILL');
    await child.exited;
    kills += 1;
    // Commits keep landing while no relay runs: the window between commit and enqueue.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  writing = false;
  await writer;
  const survivor = startChild('test/faults/support/jobs-child.ts', childEnv());
  await waitForOutput(survivor, 'fault-jobs ready');
  await eventually(async () => ((await unsentProbes()) === 0 ? true : undefined), 20_000, 'the outbox to drain');
  await stopChild(survivor);
  const jobs = await expectExactlyOneJobPerMessage();
  expect(jobs).toBe(30 + written.length);
  console.info(`relay-crash: ${kills} random SIGKILLs while ${written.length} messages were committed; ${jobs} jobs for ${jobs} messages`);
});
