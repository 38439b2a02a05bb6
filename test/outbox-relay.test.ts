// The outbox relay hears a commit that wrote to an outbox (LISTEN/NOTIFY) and relays it at once instead of at its next
// poll, here an hour away; it goes on hearing them after its listening connection is killed, and works off a burst
// larger than one pass without waiting for the poll.
import { sql, type Kysely } from 'kysely';
import { startJobs, type JobsRuntime } from '../jobs/runtime';
import { outboxSources } from '../app/hub';
import { createLogger } from '../lib/logger';
import { writeOutbox, type WithOutbox } from '../lib/outbox';
import { eventually, startTestHub, type TestHub } from './support/hub';

let t: TestHub;
let jobs: JobsRuntime;
beforeAll(async () => {
  t = await startTestHub({ jobs: false, overrides: { OUTBOX_POLL_INTERVAL: '1h' } });
  // A relay without workers: what it relays stays on the queue to be looked at.
  jobs = startJobs({
    config: t.config,
    logger: createLogger('test', 'silent'),
    outboxes: outboxSources(t.databases),
    handlers: {},
  });
});
afterAll(async () => {
  await jobs.stop();
  await t.stop();
});

const projectsDb = () => t.databases.projects.db as unknown as Kysely<WithOutbox>;

/**
 * Commits one message and waits for it on its queue under the outbox id. The relay polls once an hour here, so a
 * message relayed within the wait was relayed because the commit was heard, not by a poll.
 */
async function commitAndAwaitRelay(key: string): Promise<void> {
  const id = await projectsDb()
    .transaction()
    .execute(async (trx) => {
      await writeOutbox(trx, { queue: 'notifications', name: 'relay-probe', data: { key } });
      const row = await trx
        .selectFrom('outbox')
        .select('id')
        .where('name', '=', 'relay-probe')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      return row.id;
    });
  const job = await eventually(
    async () => (await jobs.queues.notifications.getJob(`projects-outbox-${id}`)) ?? undefined,
    10_000,
    `message ${id} on its queue`,
  );
  expect(job.data).toMatchObject({ key });
}

async function listenerPids(): Promise<number[]> {
  const rows = await sql<{ pid: number }>`
    select pid from pg_stat_activity
    where datname = current_database() and application_name = 'hub-projects-outbox-listener' and query ilike 'listen%'`.execute(
    t.databases.projects.db,
  );
  return rows.rows.map((row) => row.pid);
}

it('relays a committed message at once rather than at the next poll', async () => {
  await eventually(async () => ((await listenerPids()).length === 1 ? true : undefined), 10_000, 'the relay to listen');
  await commitAndAwaitRelay('first');
  // A rolled-back write notifies nothing and leaves nothing to relay.
  await expect(
    projectsDb()
      .transaction()
      .execute(async (trx) => {
        await writeOutbox(trx, { queue: 'notifications', name: 'relay-probe', data: { key: 'rolled back' } });
        throw new Error('roll back');
      }),
  ).rejects.toThrow('roll back');
  expect(
    (await jobs.queues.notifications.getJobs(['waiting'], 0, -1)).filter((job) => job.data.key === 'rolled back'),
  ).toEqual([]);
});

it('goes on relaying at once after its listening connection is killed', async () => {
  const [before] = await eventually(
    async () => ((await listenerPids()).length === 1 ? listenerPids() : undefined),
    10_000,
    'the relay to listen',
  );
  await sql`select pg_terminate_backend(${before})`.execute(t.databases.projects.db);
  await eventually(
    async () => {
      const pids = await listenerPids();
      return pids.length === 1 && pids[0] !== before ? true : undefined;
    },
    10_000,
    'the relay to listen again',
  );
  await commitAndAwaitRelay('after the reconnection');
});

it('writes several messages in one insert, each relayed as its own job', async () => {
  t.statements.length = 0;
  await projectsDb()
    .transaction()
    .execute((trx) =>
      writeOutbox(
        trx,
        ['a', 'b', 'c'].map((key) => ({
          queue: 'notifications',
          name: 'relay-batch',
          data: { key },
          delayMs: key === 'c' ? 3_600_000 : 0,
        })),
      ),
    );
  expect(
    t.statements.filter(
      (statement) => statement.domain === 'projects' && /insert into "projects"\."outbox"/i.test(statement.sql),
    ),
  ).toHaveLength(1);
  const rows = await projectsDb()
    .selectFrom('outbox')
    .select(['id', 'payload', 'delay_ms'])
    .where('name', '=', 'relay-batch')
    .orderBy('id')
    .execute();
  expect(rows.map((row) => [(row.payload as { key: string }).key, row.delay_ms])).toEqual([
    ['a', 0],
    ['b', 0],
    ['c', 3_600_000],
  ]);
  for (const row of rows) {
    const job = await eventually(
      async () => (await jobs.queues.notifications.getJob(`projects-outbox-${row.id}`)) ?? undefined,
      10_000,
      `message ${row.id} on its queue`,
    );
    expect(job.data).toMatchObject({ key: (row.payload as { key: string }).key });
  }
});

it('relays a burst larger than one pass at once: a full pass is followed by another, not by the next poll', async () => {
  const keys = Array.from({ length: 250 }, (_, i) => `burst-${i}`);
  await projectsDb()
    .transaction()
    .execute((trx) =>
      writeOutbox(
        trx,
        keys.map((key) => ({ queue: 'notifications', name: 'relay-burst', data: { key } })),
      ),
    );
  const rows = await projectsDb().selectFrom('outbox').select('id').where('name', '=', 'relay-burst').execute();
  expect(rows).toHaveLength(250);
  // One commit, one notification, passes of 100: the second and third pass follow the first without a poll (an hour away).
  await eventually(
    async () => {
      const unsent = await projectsDb()
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('name', '=', 'relay-burst')
        .where('sent_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(unsent.count) === 0 ? true : undefined;
    },
    10_000,
    'every message of the burst relayed',
  );
  const jobs250 = await Promise.all(rows.map((row) => jobs.queues.notifications.getJob(`projects-outbox-${row.id}`)));
  expect(new Set(jobs250.map((job) => (job?.data as { key?: string } | undefined)?.key))).toEqual(new Set(keys));
});
