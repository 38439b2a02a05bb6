// No N+1: a deep federated query runs the same number of SQL statements whatever the number of rows.
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

/** Adds `perRoom` confirmed bookings of the week to every room, spread over the seeded projects, on different days. */
async function addBookings(perRoom: number, tag: string): Promise<number> {
  const rooms = await t.databases.venues.db.selectFrom('room').innerJoin('venue', 'venue.id', 'room.venue_id').select(['room.id', 'venue.platform_id']).execute();
  const projects = await t.databases.projects.db.selectFrom('project').select(['id', 'host_platform_id']).orderBy('id').execute();
  const rows = rooms.flatMap((room, roomIndex) =>
    Array.from({ length: perRoom }, (_, index) => {
      const project = projects[(roomIndex + index) % projects.length];
      const day = 1 + (index % 6);
      return {
        id: `bk-${tag}-${room.id}-${index}`,
        arrangement_id: `arr-${tag}-${room.id}-${index}`,
        room_id: room.id,
        project_id: project.id,
        host_platform_id: project.host_platform_id,
        role: 'SECONDARY' as const,
        seats: 1,
        starts_at: new Date(`2027-03-0${day}T01:00:00Z`),
        ends_at: new Date(`2027-03-0${day}T02:00:00Z`),
        status: 'CONFIRMED' as const,
        hold_expires_at: null,
        reason: null,
      };
    }),
  );
  for (let offset = 0; offset < rows.length; offset += 500) await t.databases.venues.db.insertInto('booking').values(rows.slice(offset, offset + 500)).execute();
  return rows.length;
}

async function statementsFor(query: string): Promise<{ count: number; bookings: number; byDomain: Record<string, number> }> {
  t.statements.length = 0;
  const response = await t.graphql<{ platforms: { venues: { rooms: { bookings: { project: { hostPlatform: { name: string } } }[] }[] }[] }[] }>(as.admin, query, { from: FROM, to: TO });
  expect(response.errors).toBeUndefined();
  const bookings = response.data!.platforms.flatMap((platform) => platform.venues.flatMap((venue) => venue.rooms.flatMap((room) => room.bookings)));
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
  process.stdout.write(`N+1 check: ${first.bookings} bookings -> ${first.count} statements ${JSON.stringify(first.byDomain)}; ${second.bookings} bookings -> ${second.count} statements\n`);
});
