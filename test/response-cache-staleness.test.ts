// Staleness zero across replicas: random interleavings of reads (several callers, several query shapes: the board,
// schedules of different platforms, the project list) and writes (bookings confirmed and rejected, projects submitted
// and filed, rooms renamed) through TWO gateways over the same subgraphs, each with its own cache, sharing Redis. Every answer, cached
// or not, must equal the answer computed afresh right after it (so it reflects every write acknowledged before it), and
// answers differ from caller to caller, so one that crossed identities would be caught too.
//
// Shown to fail with invalidation broken: with the version check skipped (`stillHolds` in gateway/response-cache.ts
// keeping every entry), the property failed at its third run (seed 19): a schedule read on one replica still showed
// bk-stale-11 HELD after its rejection through the other had been acknowledged. Not committed, of course. With the
// reference cache's check skipped instead (`resolve` in gateway/reference-cache.ts keeping every room it finds), it
// failed at its first run: a board read on one replica showed 1号评标室 after its rename through the other.
// (`Cache-Control: no-cache`, which the fresh answers carry, skips both caches.)
import fc from 'fast-check';
import { KEY_ALIAS } from '../gateway/cache-keys';
import { startGateway, type RunningGateway } from '../gateway/server';
import { createLogger } from '../lib/logger';
import type { Identity } from '../lib/identity';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import { agency, supervisor, WORKFLOW_AGENCY } from './support/workflow';

type Caller = Omit<Identity, 'sub'> & { sub?: string };
interface Body {
  data?: unknown;
  errors?: { path?: (string | number)[] }[];
}

let t: TestHub;
let replicas: string[];
let second: RunningGateway;

const DAY = { from: '2027-05-10T00:00:00+08:00', to: '2027-05-11T00:00:00+08:00' };
/** The next China day, which a third of the bookings reach across midnight, and a week from DAY (a partner's poll). */
const NEXT_DAY = { from: '2027-05-11T00:00:00+08:00', to: '2027-05-12T00:00:00+08:00' };
const WEEK = { from: '2027-05-10T00:00:00+08:00', to: '2027-05-17T00:00:00+08:00' };
const PLATFORMS = [ZHUMADIAN, '411721', '410100'];
const BOARD = `query Board($from: DateTime!, $to: DateTime!) {
  schedule(from: $from, to: $to) { id status role seats startsAt endsAt holdExpiresAt room { id name venue { name platform { id name } } } project { id code status } }
  latestReconciliationReport { id from to generatedAt discrepancies { kind projectId bookingId detail resolution } }
}`;
const SCHEDULE_OF = `query ScheduleOf($from: DateTime!, $to: DateTime!, $platformId: ID) {
  schedule(from: $from, to: $to, platformId: $platformId) { id status project { id status } }
}`;
/** Without ids: its objects can only be tagged by type. */
const SCHEDULE_NO_IDS = `query ScheduleNoIds($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { status seats project { code status } } }`;
const PROJECTS = 'query Projects { projects(first: 100) { totalCount edges { node { id code status } } } }';
/** Without ids, and with each project's draw: the cache asks for their ids itself (gateway/cache-keys.ts). */
const PROJECTS_NO_IDS =
  'query ProjectsNoIds { projects(first: 100) { totalCount edges { node { code status expertDraw { status } } } } }';

const readers: { caller: Caller; query: string; variables: Record<string, unknown> }[] = [
  { caller: { ...as.admin, sub: 'stale-admin' }, query: BOARD, variables: DAY },
  { caller: { ...as.operator(ZHUMADIAN), sub: 'stale-op' }, query: BOARD, variables: DAY },
  ...PLATFORMS.map((platformId) => ({
    caller: { ...as.operator(ZHUMADIAN), sub: 'stale-op' },
    query: SCHEDULE_OF,
    variables: { ...DAY, platformId },
  })),
  { caller: { ...as.partner('411721'), sub: 'stale-partner-xp' }, query: SCHEDULE_OF, variables: DAY },
  { caller: { ...as.partner('410100'), sub: 'stale-partner-zz' }, query: SCHEDULE_NO_IDS, variables: DAY },
  { caller: { ...as.admin, sub: 'stale-admin' }, query: SCHEDULE_NO_IDS, variables: DAY },
  { caller: { ...as.admin, sub: 'stale-admin' }, query: BOARD, variables: NEXT_DAY },
  { caller: { ...as.partner('411721'), sub: 'stale-partner-xp' }, query: SCHEDULE_OF, variables: WEEK },
  { caller: { ...as.admin, sub: 'stale-admin' }, query: PROJECTS, variables: {} },
  { caller: { ...agency, sub: 'stale-agency' }, query: PROJECTS, variables: {} },
  { caller: { ...supervisor, sub: 'stale-supervisor' }, query: PROJECTS_NO_IDS, variables: {} },
];

async function ask(
  replica: number,
  caller: Caller,
  query: string,
  variables: Record<string, unknown>,
  fresh = false,
): Promise<{ body: Body; cached: boolean }> {
  const response = await fetch(replicas[replica], {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await t.token(caller)}`,
      ...(fresh ? { 'cache-control': 'no-cache' } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { body: (await response.json()) as Body, cached: response.headers.get('age') !== null };
}

/** Refusals name list positions in the order the subgraph finished them: positions left out, errors sorted. */
function comparable(body: Body): unknown {
  const errors = body.errors
    ?.map((error) =>
      JSON.stringify({ ...error, path: error.path?.map((segment) => (typeof segment === 'number' ? '#' : segment)) }),
    )
    .sort();
  return { ...body, ...(errors ? { errors } : {}) };
}

/** HELD bookings on DAY (a third reaching into NEXT_DAY) in rooms of the three platforms, for projects of several hosts: writes to decide them. */
async function holdTheDay(): Promise<{ id: string; platform: string; room: string }[]> {
  const rooms = await t.databases.venues.db
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .select(['room.id', 'venue.platform_id'])
    .where('venue.platform_id', 'in', PLATFORMS)
    .orderBy('room.id')
    .execute();
  const projects = await t.databases.projects.db
    .selectFrom('project')
    .select(['id', 'host_platform_id'])
    .orderBy('id')
    .execute();
  const rows = Array.from({ length: 60 }, (_, index) => {
    const room = rooms[index % rooms.length];
    const project = projects[index % projects.length];
    return {
      id: `bk-stale-${index}`,
      arrangement_id: `arr-stale-${index}`,
      room_id: room.id,
      project_id: project.id,
      host_platform_id: project.host_platform_id,
      role: 'SECONDARY' as const,
      seats: 1,
      // A third across China midnight (23:00 to 01:00 at UTC+8), so a booking's days are told right at the edge.
      starts_at: new Date(index % 3 === 2 ? '2027-05-10T15:00:00Z' : '2027-05-10T01:00:00Z'),
      ends_at: new Date(index % 3 === 2 ? '2027-05-10T17:00:00Z' : '2027-05-10T02:00:00Z'),
      status: 'HELD' as const,
      hold_expires_at: new Date('2027-05-09T00:00:00Z'),
      reason: null,
    };
  });
  await t.databases.venues.db.insertInto('booking').values(rows).execute();
  return rows.map((row, index) => ({
    id: row.id,
    platform: rooms[index % rooms.length].platform_id,
    room: row.room_id,
  }));
}

let bookings: { id: string; platform: string; room: string }[] = [];
const submitted: string[] = [];
let serial = 0;

beforeAll(async () => {
  // Writes are mutations only (no jobs), so every change is acknowledged before the next step reads.
  t = await startTestHub({ jobs: false, overrides: { RECONCILE_UPCOMING_CRON: 'off', RECONCILE_NIGHTLY_CRON: 'off' } });
  const { venues, experts, projects } = t.hub.subgraphs;
  second = await startGateway({
    config: t.config,
    logger: createLogger('test', 'silent'),
    port: 0,
    subgraphUrls: { venues: venues.url, experts: experts.url, projects: projects.url },
  });
  replicas = [t.hub.gateway.url, second.url];
  bookings = await holdTheDay();
});
afterAll(async () => {
  await second?.stop();
  await t?.stop();
});

type Step =
  | { kind: 'read'; replica: number; reader: number; burst: boolean }
  | { kind: 'decide'; replica: number; booking: number; confirm: boolean }
  | { kind: 'submit'; replica: number }
  | { kind: 'file'; replica: number }
  | { kind: 'rename'; replica: number; booking: number };

const replica = fc.integer({ min: 0, max: 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      replica,
      reader: fc.integer({ min: 0, max: readers.length - 1 }),
      burst: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('decide' as const),
      replica,
      booking: fc.integer({ min: 0, max: 59 }),
      confirm: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('submit' as const), replica }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('file' as const), replica }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('rename' as const), replica, booking: fc.integer({ min: 0, max: 59 }) }),
  },
);

const counts = { reads: 0, cached: 0, writes: 0 };

async function run(current: Step): Promise<void> {
  if (current.kind === 'read') {
    const { caller, query, variables } = readers[current.reader];
    // A burst: both replicas at once, twice each, so coalesced waiters are checked too.
    const asked = current.burst
      ? [0, 1, 0, 1].map((r) => ask(r, caller, query, variables))
      : [ask(current.replica, caller, query, variables)];
    const answers = await Promise.all(asked);
    const fresh = await ask(current.replica, caller, query, variables, true);
    // Asked again once the fresh answer is kept: from the cache, unless something it holds changed meanwhile.
    answers.push(await ask(current.replica, caller, query, variables));
    for (const answer of answers) {
      counts.reads++;
      expect(JSON.stringify(answer.body)).not.toContain(KEY_ALIAS);
      if (answer.cached) counts.cached++;
      expect({ reader: current.reader, body: comparable(answer.body) }).toEqual({
        reader: current.reader,
        body: comparable(fresh.body),
      });
    }
    return;
  }
  counts.writes++;
  if (current.kind === 'decide') {
    const booking = bookings[current.booking];
    const operator = { ...as.operator(booking.platform), sub: `stale-decider-${booking.platform}` };
    const mutation = current.confirm
      ? 'mutation($id: ID!) { confirmBooking(bookingId: $id) { id status } }'
      : 'mutation($id: ID!) { rejectBooking(bookingId: $id, reason: "房间检修") { id status } }';
    await ask(current.replica, operator, mutation, { id: booking.id });
  } else if (current.kind === 'submit') {
    const answer = await ask(
      current.replica,
      agency,
      'mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }',
      {
        input: {
          code: `ST-${process.pid}-${++serial}`,
          name: '驿城区示例道路改造工程施工',
          category: 'CONSTRUCTION',
          department: 'HOUSING_AND_CONSTRUCTION',
          hostPlatformId: ZHUMADIAN,
          tenderer: '驻马店市示例城市建设投资有限公司',
          agency: WORKFLOW_AGENCY,
          bidders: ['河南示例路桥建设有限公司', '驻马店示例市政工程有限公司'],
          budget: '1250000000',
          mode: 'REMOTE',
          committeeSize: 5,
          tendererRepresentatives: 1,
          evaluationStartsAt: '2027-06-01T01:00:00Z',
          evaluationEndsAt: '2027-06-01T05:00:00Z',
        },
      },
    );
    const id = (answer.body.data as { submitProject?: { id: string } } | null)?.submitProject?.id;
    if (id) submitted.push(id);
  } else if (current.kind === 'rename') {
    // A room of the day's bookings renamed: the board's rooms come from each gateway's reference cache.
    const answer = await ask(
      current.replica,
      { ...as.admin, sub: 'stale-renamer' },
      'mutation($r: ID!, $name: String!) { updateRoom(roomId: $r, patch: { name: $name }) { id name } }',
      { r: bookings[current.booking].room, name: `评标室-${++serial}` },
    );
    expect(answer.body.errors).toBeUndefined();
  } else {
    const id = submitted.shift();
    if (id)
      await ask(
        current.replica,
        supervisor,
        'mutation($id: ID!) { fileProject(projectId: $id, approve: true, note: "资料齐全") { id status } }',
        { id },
      );
  }
}

jest.setTimeout(120_000);

it('serves no answer that misses a write acknowledged before it, through either of two replicas, and none across callers', async () => {
  // The callers' answers differ, so an answer served to the wrong caller would not equal its own.
  const distinct = new Set<string>();
  for (const { caller, query, variables } of readers)
    distinct.add(JSON.stringify((await ask(0, caller, query, variables, true)).body));
  expect(distinct.size).toBeGreaterThanOrEqual(10);

  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 10, maxLength: 20 }), async (steps) => {
      for (const current of steps) await run(current);
    }),
    { numRuns: 6, seed: 19, endOnFailure: true },
  );
  // The cache answered a good share of the reads, else this proved nothing.
  expect(counts.writes).toBeGreaterThan(10);
  expect(counts.cached).toBeGreaterThan(counts.reads / 6);
  console.info(
    `staleness: ${counts.reads} reads (${counts.cached} from a cache) and ${counts.writes} writes through 2 replicas, none stale, none crossed`,
  );
});
