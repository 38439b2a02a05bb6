// Fault: Postgres terminates the hub's connections (pg_terminate_backend) while mutations run. No mutation leaves a
// partial write (a project without its SUBMITTED event), and each client either succeeds, or gets a retryable
// SERVICE_UNAVAILABLE whose retry succeeds (or finds the first attempt had committed after all).
import pg from 'pg';
import { as, startTestHub, ZHUMADIAN, type TestHub } from '../support/hub';

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
      const result = await killer.query(`select pg_terminate_backend(pid) as killed from pg_stat_activity where datname = current_database() and application_name like 'hub-%' and pid <> pg_backend_pid()`);
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
          const response = await t.graphql<{ submitProject: { id: string } }>(as.agency('驻马店示例招标代理有限公司'), SUBMIT, { input: submission(code) });
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
  const projects = await t.databases.projects.db.selectFrom('project').select(['id', 'code']).where('code', 'like', 'PG-KILL-%').execute();
  expect(projects.map((project) => project.code).sort()).toEqual([...codes].sort());
  const events = await t.databases.projects.db
    .selectFrom('project_event')
    .select(['project_id'])
    .where('project_id', 'in', projects.map((project) => project.id))
    .where('kind', '=', 'SUBMITTED')
    .execute();
  expect(new Set(events.map((event) => event.project_id)).size).toBe(projects.length);
  expect(events).toHaveLength(projects.length);
  console.info(`postgres-terminate: ${kills} backends killed during ${codes.length} submissions; ${JSON.stringify(outcomes)}`);
});
