// The per-object checks of the authorization matrix (lib/authorization.ts) add no statement per row: a deep federated
// query as roles whose scopes need the objects' facts (host, department, agency, rooms' platforms, seats) runs the
// same number of SQL statements for ten times the bookings. test/n-plus-one.test.ts does the same as PROVINCIAL_ADMIN,
// whose scopes are ANY and need no facts.
import { addWeekBookings } from './support/booking';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import type { Identity } from '../lib/identity';

let t: TestHub;
beforeAll(async () => {
  // The statements counted are the subgraphs' own; answers from the gateway's response cache would run none.
  t = await startTestHub({
    jobs: false,
    overrides: { HUB_RESPONSE_CACHE_MB: '0', HUB_RATE_LIMIT: '0', HUB_MAX_QUERY_COST: '100000000' },
  });
});
afterAll(async () => {
  await t?.stop();
});

const FROM = '2027-03-01T00:00:00+08:00';
const TO = '2027-03-08T00:00:00+08:00';
/** The bookings of a platform's rooms with their projects' outline: all of them in the scope of that platform's staff. */
const ROOMS_OF = (platform: string) => `query($from: DateTime!, $to: DateTime!) {
  platform(id: "${platform}") { venues { rooms { bookings(from: $from, to: $to) { id status project { code status evaluationStartsAt } } } } }
}`;
/** Every room of every platform: the list keeps the bookings the caller may read (each decided from its project). */
const EVERY_ROOM = `query($from: DateTime!, $to: DateTime!) {
  platforms { venues { rooms { bookings(from: $from, to: $to) { id project { code bidders budget } } } } }
}`;

/** `perRoom` bookings of the week in every room, for the seeded projects in turn. */
async function addBookings(perRoom: number, tag: string): Promise<number> {
  // Projects of the host alternate with projects of other platforms, so each room's bookings need every kind of check
  // (host platform, booked room, own organisation) in the small schedule as in the large one.
  const all = await t.databases.projects.db
    .selectFrom('project')
    .select(['id', 'host_platform_id'])
    .orderBy('id')
    .execute();
  const hosted = all.filter((project) => project.host_platform_id === ZHUMADIAN);
  const others = all.filter((project) => project.host_platform_id !== ZHUMADIAN);
  return addWeekBookings(
    t,
    perRoom,
    tag,
    hosted.flatMap((project, index) => [project, others[index % others.length]]),
  );
}

type Caller = Omit<Identity, 'sub'> & { sub?: string };
type Rooms = { venues: { rooms: { bookings: unknown[] }[] }[] };
/** The statements of one deep query and the bookings it listed; the query must be answered without a refusal. */
async function statementsFor(caller: Caller, query: string): Promise<{ count: number; bookings: number }> {
  t.statements.length = 0;
  const response = await t.graphql<{ platform?: Rooms; platforms?: Rooms[] }>(caller, query, { from: FROM, to: TO });
  expect(response.errors).toBeUndefined();
  const platforms = response.data!.platforms ?? [response.data!.platform!];
  const bookings = platforms.flatMap((platform) =>
    platform.venues.flatMap((venue) => venue.rooms.flatMap((room) => room.bookings)),
  );
  return { count: t.statements.length, bookings: bookings.length };
}

/** Callers whose checks need the facts of every booking and project they meet. */
const CALLERS: Record<string, { caller: Caller; query: string }> = {
  "an operator, its own rooms' bookings and their projects (host platform or booked room)": {
    caller: as.operator(ZHUMADIAN),
    query: ROOMS_OF(ZHUMADIAN),
  },
  "a partner system, its rooms' bookings and their projects": {
    caller: as.partner('411721'),
    query: ROOMS_OF('411721'),
  },
  "an agency, every room's bookings narrowed to its own projects'": {
    caller: as.agency('驻马店示例招标代理有限公司'),
    query: EVERY_ROOM,
  },
};

it("runs as many statements for ten times the bookings, for roles whose checks need the objects' facts", async () => {
  await addBookings(2, 'small');
  const small: Record<string, Awaited<ReturnType<typeof statementsFor>>> = {};
  for (const [who, { caller, query }] of Object.entries(CALLERS)) small[who] = await statementsFor(caller, query);
  await addBookings(18, 'large');
  const report: string[] = [];
  for (const [who, { caller, query }] of Object.entries(CALLERS)) {
    const large = await statementsFor(caller, query);
    report.push(
      `${who}: ${small[who].bookings} bookings -> ${small[who].count} statements, ${large.bookings} -> ${large.count}`,
    );
    // The checks ran on real rows: several times the bookings listed with the larger schedule.
    expect(small[who].bookings).toBeGreaterThan(0);
    expect(large.bookings).toBeGreaterThan(small[who].bookings * 5);
    expect([who, large.count]).toEqual([who, small[who].count]);
  }
  process.stdout.write(`authorization N+1 check: ${report.join('; ')}\n`);
});
