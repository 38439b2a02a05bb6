// No N+1: a deep federated query runs the same number of SQL statements whatever the number of rows.
import { addWeekBookings } from './support/booking';
import { as, startTestHub, type TestHub } from './support/hub';

let t: TestHub;
beforeAll(async () => {
  // The statements counted are the subgraphs' own; answers from the gateway's response cache would run none.
  t = await startTestHub({ jobs: false, overrides: { HUB_RESPONSE_CACHE_MB: '0' } });
});
afterAll(async () => {
  await t.stop();
});

const FROM = '2027-03-01T00:00:00+08:00';
const TO = '2027-03-08T00:00:00+08:00';
const DEEP = `query($from: DateTime!, $to: DateTime!) {
  platforms { id venues { id rooms { id bookings(from: $from, to: $to) { id project { code hostPlatform { name } } } } } }
}`;

/** `perRoom` bookings of the week in every room, for the seeded projects in turn. */
async function addBookings(perRoom: number, tag: string): Promise<number> {
  const projects = await t.databases.projects.db
    .selectFrom('project')
    .select(['id', 'host_platform_id'])
    .orderBy('id')
    .execute();
  return addWeekBookings(t, perRoom, tag, projects);
}

async function statementsFor(
  query: string,
): Promise<{ count: number; bookings: number; byDomain: Record<string, number> }> {
  t.statements.length = 0;
  const response = await t.graphql<{
    platforms: { venues: { rooms: { bookings: { project: { hostPlatform: { name: string } } }[] }[] }[] }[];
  }>(as.admin, query, { from: FROM, to: TO });
  expect(response.errors).toBeUndefined();
  const bookings = response.data!.platforms.flatMap((platform) =>
    platform.venues.flatMap((venue) => venue.rooms.flatMap((room) => room.bookings)),
  );
  for (const booking of bookings) expect(booking.project.hostPlatform.name).toMatch(/公共资源交易中心$/);
  const byDomain: Record<string, number> = {};
  for (const statement of t.statements) byDomain[statement.domain] = (byDomain[statement.domain] ?? 0) + 1;
  return { count: t.statements.length, bookings: bookings.length, byDomain };
}

it('runs as many statements for 71 bookings as for 710', async () => {
  const small = await addBookings(1, 'small');
  const first = await statementsFor(DEEP);
  expect(first.bookings).toBe(small);
  const large = small + (await addBookings(9, 'large'));
  const second = await statementsFor(DEEP);
  expect(second.bookings).toBe(large);
  expect(second.count).toBe(first.count);
  expect(second.byDomain).toEqual(first.byDomain);
  // platforms, venues, rooms, bookings (venues); the projects (projects); their host platforms (venues).
  expect(first.count).toBeLessThanOrEqual(6);
  process.stdout.write(
    `N+1 check: ${first.bookings} bookings -> ${first.count} statements ${JSON.stringify(first.byDomain)}; ${second.bookings} bookings -> ${second.count} statements\n`,
  );
});
