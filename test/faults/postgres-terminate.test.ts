// Fault: Postgres terminates the hub's connections (pg_terminate_backend) while mutations run. No mutation leaves a
// partial write (a project without its SUBMITTED event), and each client either succeeds, or gets a retryable
// SERVICE_UNAVAILABLE whose retry succeeds (or finds the first attempt had committed after all).
import pg from 'pg';
import { as, eventually, startTestHub, ZHUMADIAN, type GraphQLResponse, type TestHub } from '../support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(async () => {
  await t.stop();
});

const SUBMIT = `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id code } }`;
const inDays = (days: number, hour: number) => {
  const date = new Date(Date.now() + days * 86_400_000);
  date.setUTCHours(hour, 0, 0, 0);
  return date.toISOString();
};
const submission = (code: string) => ({
  code,
  name: '断连测试工程',
  category: 'CONSTRUCTION',
  department: 'HOUSING_AND_CONSTRUCTION',
  hostPlatformId: ZHUMADIAN,
  tenderer: '驻马店市示例城市建设投资有限公司',
  agency: '驻马店示例招标代理有限公司',
  bidders: ['河南示例路桥建设有限公司'],
  budget: '1250000000',
  mode: 'REMOTE',
  committeeSize: 5,
  tendererRepresentatives: 1,
  evaluationStartsAt: inDays(12, 1),
  evaluationEndsAt: inDays(12, 9),
});

it('writes each project with its event or not at all while connections are killed, and every retry gets through', async () => {
  const killer = new pg.Client({ connectionString: t.database.url, application_name: 'fault-killer' });
  await killer.connect();
  let kills = 0;
  let killing = true;
  const killLoop = (async () => {
    while (killing) {
      const result = await killer.query(
        `select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = current_database() and application_name like 'hub-%' and pid <> pg_backend_pid()`,
      );
      kills += result.rows.filter((row: { killed: boolean }) => row.killed).length;
      await new Promise((resolve) => setTimeout(resolve, 40 + Math.random() * 80));
    }
  })();

  const outcomes = { firstTry: 0, retried: 0, retryableErrors: 0, committedDespiteError: 0 };
  const codes: string[] = [];
  const others: unknown[] = [];
  await Promise.all(
    Array.from({ length: 4 }, async (_, lane) => {
      for (let index = 0; index < 10; index += 1) {
        const code = `PG-KILL-${lane}-${index}`;
        codes.push(code);
        for (let attempt = 0; ; attempt += 1) {
          const response = await t.graphql<{ submitProject: { id: string } }>(
            as.agency('驻马店示例招标代理有限公司'),
            SUBMIT,
            { input: submission(code) },
          );
          if (response.data?.submitProject) {
            outcomes[attempt === 0 ? 'firstTry' : 'retried'] += 1;
            break;
          }
          const error = response.errors?.[0];
          if (error?.extensions?.code === 'SERVICE_UNAVAILABLE' && error.extensions.retryable === true) {
            outcomes.retryableErrors += 1;
            // As a client should: back off a little, then retry.
            if (attempt < 20) {
              await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
              continue;
            }
          }
          // A commit whose acknowledgement was lost: the retry finds the code taken, which is the first attempt's write.
          if (attempt > 0 && error?.extensions?.code === 'BAD_USER_INPUT' && /already exists/.test(error.message)) {
            outcomes.committedDespiteError += 1;
            break;
          }
          others.push(response.errors);
          break;
        }
      }
    }),
  );
  killing = false;
  await killLoop;
  await killer.end();

  expect(others).toEqual([]);
  expect(kills).toBeGreaterThan(0);
  // Every code ends up as exactly one project, and every project has its SUBMITTED event: nothing half-written.
  const projects = await t.databases.projects.db
    .selectFrom('project')
    .select(['id', 'code'])
    .where('code', 'like', 'PG-KILL-%')
    .execute();
  expect(projects.map((project) => project.code).sort()).toEqual([...codes].sort());
  const events = await t.databases.projects.db
    .selectFrom('project_event')
    .select(['project_id'])
    .where(
      'project_id',
      'in',
      projects.map((project) => project.id),
    )
    .where('kind', '=', 'SUBMITTED')
    .execute();
  expect(new Set(events.map((event) => event.project_id)).size).toBe(projects.length);
  expect(events).toHaveLength(projects.length);
  console.info(
    `postgres-terminate: ${kills} backends killed during ${codes.length} submissions; ${JSON.stringify(outcomes)}`,
  );
});

it('terminates the backend of a submission provably in flight (its project row written, its event waiting): nothing is kept, and the retry writes both', async () => {
  const agency = as.agency('驻马店示例招标代理有限公司');
  const code = 'PG-KILL-IN-FLIGHT';
  // A submission first, so the hub's pools are connected before the table is held.
  expect((await t.graphql(agency, SUBMIT, { input: submission(`${code}-WARM`) })).errors).toBeUndefined();
  const holder = new pg.Client({ connectionString: t.database.url, application_name: 'fault-holder' });
  await holder.connect();
  let first: GraphQLResponse<{ submitProject: { id: string } }>;
  let victim: { pid: number; query: string };
  try {
    // The submission's transaction writes the project, then reads the event chain's head to append its SUBMITTED event:
    // holding the events table makes it wait there, inside the transaction (pg_locks: an AccessShareLock on
    // projects.project_event not granted, RowExclusiveLock on projects.project held), until its backend is terminated.
    await holder.query('begin');
    await holder.query('lock table projects.project_event in access exclusive mode');
    const submitting = t.graphql<{ submitProject: { id: string } }>(agency, SUBMIT, { input: submission(code) });
    victim = await eventually(
      async () => {
        const rows = await holder.query<{ pid: number; query: string }>(
          `select pid, query from pg_stat_activity where datname = current_database() and application_name = 'hub-projects' and wait_event_type = 'Lock'`,
        );
        return rows.rows[0];
      },
      30_000,
      'the submission to wait inside its transaction',
    ).catch(async (error: unknown) => {
      const seen = await holder.query(
        `select datname, application_name, state, wait_event_type, left(query, 80) as query from pg_stat_activity where application_name like 'hub-%'`,
      );
      throw new Error(
        `${String(error)}: ${JSON.stringify(seen.rows)} ${JSON.stringify(await Promise.race([submitting, Promise.resolve('pending')]))}`,
      );
    });
    const inserted = await holder.query<{ n: number }>(
      `select count(*)::int as n from pg_locks where pid = $1 and locktype = 'relation' and relation = 'projects.project'::regclass and mode = 'RowExclusiveLock'`,
      [victim.pid],
    );
    // Its transaction has written the project (it holds the table's write lock) and waits for the event table.
    expect(inserted.rows[0].n).toBe(1);
    const awaited = await holder.query<{ lock: string }>(
      `select locktype || ':' || coalesce(relation::regclass::text, objid::text, '') || ':' || mode as lock from pg_locks where pid = $1 and not granted`,
      [victim.pid],
    );
    const terminated = await holder.query<{ killed: boolean }>('select pg_terminate_backend($1) as killed', [
      victim.pid,
    ]);
    expect(terminated.rows[0].killed).toBe(true);
    console.info(
      `postgres-terminate: terminated backend ${victim.pid} mid-mutation, waiting in "${victim.query.slice(0, 70)}" for ${awaited.rows.map((row) => row.lock).join(', ')} with the project row written`,
    );
    first = await submitting;
  } finally {
    await holder.query('rollback');
    await holder.end();
  }
  // Refused cleanly: a retryable error, and nothing of the interrupted transaction kept.
  expect(first.data?.submitProject ?? null).toBeNull();
  expect(first.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
  expect(await t.databases.projects.db.selectFrom('project').select('id').where('code', '=', code).execute()).toEqual(
    [],
  );
  const retried = await eventually(
    async () => {
      const response = await t.graphql<{ submitProject: { id: string } }>(agency, SUBMIT, { input: submission(code) });
      return (response.data as { submitProject?: { id: string } } | null | undefined)?.submitProject ?? undefined;
    },
    30_000,
    'the retry to get through',
  );
  const events = await t.databases.projects.db
    .selectFrom('project_event')
    .select('kind')
    .where('project_id', '=', retried.id)
    .execute();
  expect(events.map((event) => event.kind)).toEqual(['SUBMITTED']);
  expect(await t.databases.projects.db.selectFrom('project').select('id').where('code', '=', code).execute()).toEqual([
    { id: retried.id },
  ]);
});
