// What errors tell a caller (issue 14): an unexpected failure inside a subgraph reaches the client masked (no stack, no
// SQL, no table names), and a refusal never names the project's code, agency or bidders to a caller who may not read
// them (it may name the project's id, which the caller sent).
import { sql } from 'kysely';
import { as, inDays, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import { submit, WORKFLOW_AGENCY } from './support/workflow';

let t: TestHub;
let projectId = '';
let projectCode = '';
const OTHER_CITY = '410300';

beforeAll(async () => {
  // HUB_ENV=test is what the test hub runs: everything but development masks internal errors, like production.
  t = await startTestHub({ jobs: false, overrides: { HUB_RATE_LIMIT: '0', HUB_RESPONSE_CACHE_MB: '0' } });
  expect(t.config.HUB_ENV).not.toBe('development');
  projectId = await submit(t, { startsAt: inDays(10, 1), endsAt: inDays(10, 9) });
  projectCode = (
    await t.databases.projects.db
      .selectFrom('project')
      .select('code')
      .where('id', '=', projectId)
      .executeTakeFirstOrThrow()
  ).code;
});
afterAll(async () => {
  await t?.stop();
});

describe('refusals to callers who may not read the project', () => {
  const STEPS: Record<string, { query: string; variables: () => Record<string, unknown> }> = {
    cancelProject: {
      query: 'mutation($id: ID!) { cancelProject(projectId: $id, reason: "test") { id } }',
      variables: () => ({ id: projectId }),
    },
    arrangeVenues: {
      query: `mutation($id: ID!) { arrangeVenues(projectId: $id, mainRoomId: "room-${ZHUMADIAN}-1", secondary: []) { id } }`,
      variables: () => ({ id: projectId }),
    },
    advanceEvaluationFee: {
      query: 'mutation($id: ID!) { advanceEvaluationFee(projectId: $id) { id } }',
      variables: () => ({ id: projectId }),
    },
    drawExperts: {
      query: `mutation($id: ID!) { drawExperts(projectId: $id, seats: []) { id } }`,
      variables: () => ({ id: projectId }),
    },
    startEvaluation: {
      query: 'mutation($id: ID!) { startEvaluation(projectId: $id) { id } }',
      variables: () => ({ id: projectId }),
    },
    completeEvaluation: {
      query: `mutation($id: ID!) { completeEvaluation(projectId: $id, reportDigest: "${'ab'.repeat(32)}") { id } }`,
      variables: () => ({ id: projectId }),
    },
    archiveProject: {
      query: 'mutation($id: ID!) { archiveProject(projectId: $id) { id } }',
      variables: () => ({ id: projectId }),
    },
    project: { query: 'query($id: ID!) { project(id: $id) { id } }', variables: () => ({ id: projectId }) },
  };

  it.each(Object.keys(STEPS))(
    '%s as an operator of another platform: FORBIDDEN without the code or the agency',
    async (name) => {
      const answer = await t.graphql(as.operator(OTHER_CITY), STEPS[name].query, STEPS[name].variables());
      expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
      const text = JSON.stringify(answer);
      expect(text).not.toContain(projectCode);
      expect(text).not.toContain(WORKFLOW_AGENCY);
    },
  );
});

describe('an unexpected failure inside a subgraph', () => {
  it('reaches the client as "internal error", code INTERNAL_SERVER_ERROR, with no stack, SQL or table name', async () => {
    // A table the venues subgraph reads is gone: its resolver throws an error the hub did not expect.
    await sql`alter table venue rename to venue_moved_away`.execute(t.databases.venues.db);
    try {
      const answer = await t.graphql(as.admin, `{ platform(id: "${ZHUMADIAN}") { id venues { id name } } }`);
      expect(answer.errors?.length).toBeGreaterThan(0);
      for (const error of answer.errors!) {
        expect(error.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
        expect(error.message).toMatch(/internal error/);
      }
      const text = JSON.stringify(answer);
      for (const detail of ['venue_moved_away', 'relation', 'does not exist', 'select', 'stacktrace', '.ts:', 'at '])
        expect(text).not.toContain(detail);
    } finally {
      await sql`alter table venue_moved_away rename to venue`.execute(t.databases.venues.db);
    }
  });
});
