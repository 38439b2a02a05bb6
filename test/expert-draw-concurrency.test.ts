// Concurrency attack: 40 projects with overlapping windows draw from a pool of 30 experts at once. The exclusion
// constraint keeps every expert out of two overlapping live seats; every draw completes or fails cleanly, and every
// completed one (lost races included) still verifies.
import { sql } from 'kysely';
import { as, eventually, startTestHub, type TestHub } from './support/hub';
import { DRAW, feeAdvancedProject, mainRooms } from './support/expert-draw';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ overrides: { DRAW_LIMIT_30D: '10' } });
});
afterAll(async () => {
  await t.stop();
});

const PROJECTS = 40;
const POOL = 30;
const SPECIALTY = 'ATTACK_POOL';

it('never seats an expert in two overlapping evaluations, and every draw completes or fails cleanly', async () => {
  const db = t.databases.experts.db;
  const pool = await db
    .selectFrom('expert')
    .select('id')
    .where('status', '=', 'ACTIVE')
    .where('supervision_department', 'is', null)
    .orderBy('id')
    .limit(POOL)
    .execute();
  await db
    .updateTable('expert')
    .set({ specialties: sql<string[]>`specialties || array[${SPECIALTY}]::text[]` })
    .where(
      'id',
      'in',
      pool.map((expert) => expert.id),
    )
    .execute();
  // Windows of 8 hours starting an hour apart: each overlaps the seven before and after it. A MAIN booking takes its
  // room over the window, so overlapping projects are hosted by different platforms, each in a room of its own (a
  // LOCAL project has no regional rule: every draw still draws from the same pool).
  const rooms = await mainRooms(t, 5);
  if (rooms.length < 8)
    throw new Error(`the seed has ${rooms.length} main rooms of 5 seats; 8 overlapping windows need 8`);
  const base = Date.now() + 60 * 86_400_000;
  const projects: { id: string; room: (typeof rooms)[number] }[] = [];
  for (let i = 0; i < PROJECTS; i++) {
    const startsAt = new Date(base + i * 3_600_000);
    const room = rooms[i % rooms.length];
    const id = await feeAdvancedProject(t, {
      host: room.platform_id,
      mode: 'LOCAL',
      startsAt,
      endsAt: new Date(startsAt.getTime() + 8 * 3_600_000),
      bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
    });
    projects.push({ id, room });
  }
  const projectIds = projects.map((project) => project.id);

  const started = Date.now();
  const responses = await Promise.all(
    projects.map(({ id, room }) =>
      t.graphql(as.operator(room.platform_id), DRAW, {
        projectId: id,
        seats: [{ roomId: room.id, specialty: SPECIALTY, count: 4 }],
      }),
    ),
  );
  expect(responses.every((response) => response.errors === undefined)).toBe(true);

  const draws = await eventually(
    async () => {
      const rows = await db.selectFrom('draw').selectAll().where('project_id', 'in', projectIds).execute();
      const seats = await db
        .selectFrom('committee_seat')
        .select([
          'draw_id',
          (eb) => eb.fn.countAll<string>().as('live'),
          (eb) => eb.fn.count<string>('invited_at').as('invited'),
        ])
        .where('project_id', 'in', projectIds)
        .where('live', '=', true)
        .groupBy('draw_id')
        .execute();
      const statuses = new Map(
        (
          await t.databases.projects.db
            .selectFrom('project')
            .select(['id', 'status'])
            .where('id', 'in', projectIds)
            .execute()
        ).map((row) => [row.id, row.status]),
      );
      const settled = [];
      for (const draw of rows) {
        const seat = seats.find((row) => row.draw_id === draw.id);
        const [live, invited] = [Number(seat?.live ?? 0), Number(seat?.invited ?? 0)];
        const status = statuses.get(draw.project_id);
        if (draw.status === 'FAILED' && live === 0 && status === 'FEE_ADVANCED')
          settled.push({ draw, outcome: 'FAILED' as const });
        else if (draw.status === 'PENDING' && live === 4 && invited === 4 && status === 'EXPERTS_DRAWING')
          settled.push({ draw, outcome: 'SEATED' as const });
      }
      return settled.length === PROJECTS ? settled : undefined;
    },
    45_000,
    'every draw to complete or fail',
  );
  const elapsed = Date.now() - started;

  // No expert in two overlapping live seats (the constraint's promise, checked independently).
  const doubleBooked = await sql<{ expert_id: string }>`
    select a.expert_id from committee_seat a join committee_seat b
      on a.expert_id = b.expert_id and a.id < b.id and a.live and b.live and a.during && b.during`.execute(db);
  expect(doubleBooked.rows).toEqual([]);

  const seated = draws.filter((entry) => entry.outcome === 'SEATED');
  const failed = draws.filter((entry) => entry.outcome === 'FAILED');
  for (const { draw } of failed) expect(draw.failure_reason).toMatch(/INSUFFICIENT_EXPERTS|lost the race/);
  for (const { draw } of seated) expect((await t.hub.services.experts.verifyDraw(draw.id)).matches).toBe(true);
  const lostRaces = await db
    .selectFrom('draw_round')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('outcome', '=', 'LOST_RACE')
    .executeTakeFirstOrThrow();
  const liveSeats = await db
    .selectFrom('committee_seat')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('live', '=', true)
    .where('specialty', '=', SPECIALTY)
    .executeTakeFirstOrThrow();

  console.log(
    `concurrency attack: ${PROJECTS} draws of 4 from a pool of ${POOL} with overlapping windows in ${elapsed} ms: ` +
      `${seated.length} seated, ${failed.length} failed cleanly (INSUFFICIENT_EXPERTS), ${lostRaces.count} round(s) lost a race and were redrawn, ${liveSeats.count} live seats, 0 double bookings`,
  );
  expect(seated.length).toBeGreaterThan(0);
  expect(failed.length).toBeGreaterThan(0);
});
