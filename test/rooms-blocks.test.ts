// Venues, rooms and room blocks kept through the API (MASTER-DATA.md): the rules and their messages through the
// gateway, each change's one audit record, putRoomBlock's idempotence, and the attack: 50 blocks and 50 arrangements
// racing for the same rooms, after which the seat rows hold zero over-booked seat-minutes.
import { sql } from 'kysely';
import { as, eventually, inDays, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import { ARRANGE, bookingsOf, filedProject, projectStatus } from './support/booking';

const COUNTY = '411721';
const CREATE_VENUE = `mutation($p: ID!, $input: VenueInput!) { createVenue(platformId: $p, input: $input) { id name address platform { id } } }`;
const CREATE_ROOM = `mutation($v: ID!, $input: RoomInput!) { createRoom(venueId: $v, input: $input) { id seats retired } }`;
const UPDATE_ROOM = `mutation($r: ID!, $patch: RoomPatch!) { updateRoom(roomId: $r, patch: $patch) { id name seats } }`;
const RETIRE_ROOM = `mutation($r: ID!) { retireRoom(roomId: $r) { id retired } }`;
const PUT_BLOCK = `mutation($r: ID!, $ref: String!, $from: DateTime!, $to: DateTime!, $seats: Int, $reason: String!) {
  putRoomBlock(roomId: $r, externalRef: $ref, from: $from, to: $to, seats: $seats, reason: $reason) { id seats startsAt endsAt externalRef room { id } }
}`;
const REMOVE_BLOCK = `mutation($p: ID!, $ref: String!) { removeRoomBlock(platformId: $p, externalRef: $ref) { id } }`;
const ROOM = `query($from: DateTime!, $to: DateTime!) {
  platform(id: "${COUNTY}") { venues { rooms { id seats retired freeSeats(from: $from, to: $to) blocks(from: $from, to: $to) { id seats externalRef } } } }
  scheduleBlocks(from: $from, to: $to, platformId: "${COUNTY}") { id room { id } }
}`;

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ overrides: { HUB_RATE_LIMIT: '0' } });
});
afterAll(async () => {
  await t.stop();
});

const codeOf = (response: { errors?: { extensions?: { code?: string } }[] }) =>
  response.errors?.[0]?.extensions?.code ?? 'OK';
const messageOf = (response: { errors?: { message: string }[] }) => response.errors?.[0]?.message ?? '';
async function auditCount(): Promise<number> {
  const row = await sql<{ n: string }>`select count(*) as n from master_data_change`.execute(t.databases.venues.db);
  return Number(row.rows[0].n);
}
async function roomView(roomId: string, from: Date, to: Date) {
  const response = await t.graphql<{
    platform: {
      venues: {
        rooms: { id: string; seats: number; retired: boolean; freeSeats: number; blocks: { externalRef: string }[] }[];
      }[];
    };
    scheduleBlocks: { id: string; room: { id: string } }[];
  }>(as.operator(COUNTY), ROOM, { from: from.toISOString(), to: to.toISOString() });
  expect(response.errors).toBeUndefined();
  const room = response
    .data!.platform.venues.flatMap((venue) => venue.rooms)
    .find((candidate) => candidate.id === roomId);
  return { room: room!, scheduleBlocks: response.data!.scheduleBlocks };
}

describe('venues, rooms and blocks through the API', () => {
  const from = inDays(20, 1);
  const to = inDays(20, 9);
  const window = { from: from.toISOString(), to: to.toISOString() };
  let venueId = '';
  let roomId = '';

  it('creates a venue and a room for the platform own operator only, one audit record each', async () => {
    const before = await auditCount();
    expect(codeOf(await t.graphql(as.operator('410300'), CREATE_VENUE, { p: COUNTY, input: { name: '新中心' } }))).toBe(
      'FORBIDDEN',
    );
    expect(codeOf(await t.graphql(as.partner(COUNTY), CREATE_VENUE, { p: COUNTY, input: { name: '新中心' } }))).toBe(
      'FORBIDDEN',
    );
    expect(
      codeOf(await t.graphql(as.supervisor('FINANCE', COUNTY), CREATE_VENUE, { p: COUNTY, input: { name: '新中心' } })),
    ).toBe('FORBIDDEN');
    expect(await auditCount()).toBe(before);
    const venue = await t.graphql<{ createVenue: { id: string; address: string } }>(as.operator(COUNTY), CREATE_VENUE, {
      p: COUNTY,
      input: { name: '西平县公共资源交易中心新区', address: '西平县新区' },
    });
    expect(venue.errors).toBeUndefined();
    venueId = venue.data!.createVenue.id;
    expect(venue.data!.createVenue.address).toBe('西平县新区');

    for (const seats of [0, 501]) {
      const refused = await t.graphql(as.operator(COUNTY), CREATE_ROOM, {
        v: venueId,
        input: { name: '评标室', seats, videoTerminal: true },
      });
      expect(codeOf(refused)).toBe('BAD_USER_INPUT');
      expect(messageOf(refused)).toMatch(/input\.seats.*1 to 500/);
    }
    expect(
      codeOf(
        await t.graphql(as.operator('410300'), CREATE_ROOM, {
          v: venueId,
          input: { name: '评标室', seats: 12, videoTerminal: true },
        }),
      ),
    ).toBe('FORBIDDEN');
    const room = await t.graphql<{ createRoom: { id: string; seats: number } }>(as.admin, CREATE_ROOM, {
      v: venueId,
      input: { name: '第一评标室', seats: 12, videoTerminal: true },
    });
    expect(room.errors).toBeUndefined();
    roomId = room.data!.createRoom.id;
    expect(await auditCount()).toBe(before + 2);
    const audit = await sql<{ entity_type: string; role: string; after: { seats: number } }>`
      select entity_type, role, after from master_data_change where entity_id = ${roomId}`.execute(
      t.databases.venues.db,
    );
    expect(audit.rows).toEqual([
      { entity_type: 'EvaluationRoom', role: 'PROVINCIAL_ADMIN', after: expect.objectContaining({ seats: 12 }) },
    ]);
    expect((await roomView(roomId, from, to)).room.freeSeats).toBe(12);
  });

  it('puts a block idempotently on (platform, externalRef): sent again it moves or resizes the same block', async () => {
    const before = await auditCount();
    const first = await t.graphql<{ putRoomBlock: { id: string; seats: number } }>(as.partner(COUNTY), PUT_BLOCK, {
      r: roomId,
      ref: 'LOCAL-1',
      ...window,
      seats: 5,
      reason: '本地评标',
    });
    expect(first.errors).toBeUndefined();
    const again = await t.graphql<{ putRoomBlock: { id: string } }>(as.partner(COUNTY), PUT_BLOCK, {
      r: roomId,
      ref: 'LOCAL-1',
      ...window,
      seats: 5,
      reason: '本地评标',
    });
    expect(again.data!.putRoomBlock.id).toBe(first.data!.putRoomBlock.id);
    expect(await auditCount()).toBe(before + 1);
    const resized = await t.graphql<{ putRoomBlock: { id: string; seats: number } }>(as.operator(COUNTY), PUT_BLOCK, {
      r: roomId,
      ref: 'LOCAL-1',
      ...window,
      seats: 8,
      reason: '本地评标',
    });
    expect(resized.data!.putRoomBlock).toEqual(expect.objectContaining({ id: first.data!.putRoomBlock.id, seats: 8 }));
    expect(await auditCount()).toBe(before + 2);
    const rows = await t.databases.venues.db
      .selectFrom('booking_seat')
      .select('seat_no')
      .where('block_id', '=', first.data!.putRoomBlock.id)
      .execute();
    expect(rows).toHaveLength(8);
    const view = await roomView(roomId, from, to);
    expect(view.room.freeSeats).toBe(4);
    expect(view.room.blocks.map((block) => block.externalRef)).toEqual(['LOCAL-1']);
    expect(view.scheduleBlocks.map((block) => block.room.id)).toContain(roomId);

    const backwards = await t.graphql(as.partner(COUNTY), PUT_BLOCK, {
      r: roomId,
      ref: 'LOCAL-X',
      from: window.to,
      to: window.from,
      reason: 'x',
    });
    expect(codeOf(backwards)).toBe('BAD_USER_INPUT');
    expect(messageOf(backwards)).toMatch(/^to: /);
    expect(
      codeOf(await t.graphql(as.partner('410300'), PUT_BLOCK, { r: roomId, ref: 'LOCAL-X', ...window, reason: 'x' })),
    ).toBe('FORBIDDEN');
    expect(codeOf(await t.graphql(as.agency('某代理', COUNTY), REMOVE_BLOCK, { p: COUNTY, ref: 'LOCAL-1' }))).toBe(
      'FORBIDDEN',
    );
  });

  it('refuses a block, a lower seat count or a retirement that the holders of seats stand in the way of, naming them', async () => {
    const before = await auditCount();
    const tooMany = await t.graphql(as.partner(COUNTY), PUT_BLOCK, {
      r: roomId,
      ref: 'LOCAL-2',
      ...window,
      seats: 5,
      reason: '另一场本地评标',
    });
    expect(codeOf(tooMany)).toBe('CONFLICT');
    expect(messageOf(tooMany)).toMatch(/4 of the 5 seats.*externalRef LOCAL-1/);
    const lower = await t.graphql(as.operator(COUNTY), UPDATE_ROOM, { r: roomId, patch: { seats: 6 } });
    expect(codeOf(lower)).toBe('CONFLICT');
    expect(messageOf(lower)).toMatch(/externalRef LOCAL-1/);
    const retire = await t.graphql(as.operator(COUNTY), RETIRE_ROOM, { r: roomId });
    expect(codeOf(retire)).toBe('CONFLICT');
    expect(messageOf(retire)).toMatch(/externalRef LOCAL-1/);
    expect(await auditCount()).toBe(before);
    expect((await roomView(roomId, from, to)).room.seats).toBe(12);

    const fits = await t.graphql<{ updateRoom: { seats: number } }>(as.operator(COUNTY), UPDATE_ROOM, {
      r: roomId,
      patch: { seats: 10, name: '第一评标室（改）' },
    });
    expect(fits.errors).toBeUndefined();
    expect(fits.data!.updateRoom.seats).toBe(10);
    expect((await roomView(roomId, from, to)).room.freeSeats).toBe(2);
    expect(await auditCount()).toBe(before + 1);
  });

  it('retires a room once its blocks are removed, and never offers it again', async () => {
    expect((await t.graphql(as.partner(COUNTY), REMOVE_BLOCK, { p: COUNTY, ref: 'LOCAL-1' })).errors).toBeUndefined();
    expect((await t.graphql(as.partner(COUNTY), REMOVE_BLOCK, { p: COUNTY, ref: 'LOCAL-1' })).errors).toBeUndefined();
    expect((await roomView(roomId, from, to)).room.freeSeats).toBe(10);
    const retired = await t.graphql<{ retireRoom: { retired: boolean } }>(as.operator(COUNTY), RETIRE_ROOM, {
      r: roomId,
    });
    expect(retired.data!.retireRoom.retired).toBe(true);
    expect((await roomView(roomId, from, to)).room.freeSeats).toBe(0);
    expect(
      codeOf(await t.graphql(as.partner(COUNTY), PUT_BLOCK, { r: roomId, ref: 'LOCAL-3', ...window, reason: 'x' })),
    ).toBe('CONFLICT');
    expect(codeOf(await t.graphql(as.operator(COUNTY), UPDATE_ROOM, { r: roomId, patch: { seats: 11 } }))).toBe(
      'CONFLICT',
    );

    // An arrangement cannot book it (the host's own retired room as its main room).
    const hostVenue = await t.databases.venues.db
      .selectFrom('venue')
      .select('id')
      .where('platform_id', '=', ZHUMADIAN)
      .executeTakeFirstOrThrow();
    const hostRoom = await t.graphql<{ createRoom: { id: string } }>(as.operator(ZHUMADIAN), CREATE_ROOM, {
      v: hostVenue.id,
      input: { name: '临时评标室', seats: 9, videoTerminal: true },
    });
    const hostRoomId = hostRoom.data!.createRoom.id;
    expect((await t.graphql(as.operator(ZHUMADIAN), RETIRE_ROOM, { r: hostRoomId })).errors).toBeUndefined();
    const projectId = await filedProject(t, { mode: 'LOCAL', startsAt: inDays(21, 1), endsAt: inDays(21, 9) });
    const arranged = await t.graphql(as.operator(ZHUMADIAN), ARRANGE, {
      projectId,
      mainRoomId: hostRoomId,
      secondary: [],
    });
    expect(codeOf(arranged)).toBe('NOT_FOUND');
  });
});

/** Over-booked seat-minutes counted from the live seat rows: per room, at every moment, rows beyond its seats. */
async function overBooking() {
  const result = await sql<{ over: string | null; checked: string | null; doubled: string; beyond: string }>`
    with live as (select id, room_id, seat_no, during from booking_seat where live),
    points as (select room_id, lower(during) as at from live union select room_id, upper(during) from live),
    segments as (select room_id, at as starts, lead(at) over (partition by room_id order by at) as ends from points),
    covered as (
      select g.room_id, g.starts, g.ends, count(l.id) as n from segments g
        join live l on l.room_id = g.room_id and l.during && tstzrange(g.starts, g.ends)
        where g.ends is not null group by 1, 2, 3)
    select
      (select sum(greatest(0, c.n - r.seats) * extract(epoch from c.ends - c.starts) / 60)
         from covered c join room r on r.id = c.room_id) as over,
      (select sum(c.n * extract(epoch from c.ends - c.starts) / 60) from covered c) as checked,
      (select count(*) from live a join live b
         on a.room_id = b.room_id and a.seat_no = b.seat_no and a.id < b.id and a.during && b.during)::text as doubled,
      (select count(*) from live l join room r on r.id = l.room_id where l.seat_no > r.seats)::text as beyond`.execute(
    t.databases.venues.db,
  );
  const row = result.rows[0];
  return {
    overBookedSeatMinutes: Number(row.over ?? 0),
    seatMinutesChecked: Number(row.checked ?? 0),
    doubleHeldSeats: Number(row.doubled),
    seatsBeyondRoom: Number(row.beyond),
  };
}

describe('attack: 50 room blocks and 50 arrangements on the same rooms at once', () => {
  it('never lets blocks and bookings together exceed a room', async () => {
    const CONTENDERS = 50;
    const mainRooms = ['room-411700-1', 'room-411700-2'];
    const counties = ['room-411721-1', 'room-411722-1', 'room-411723-1'];
    const base = inDays(45, 0);
    const at = (hours: number) => new Date(base.getTime() + hours * 3_600_000);
    const plans = await Promise.all(
      Array.from({ length: CONTENDERS }, async (_, i) => {
        const start = at((i % 6) * 2);
        const projectId = await filedProject(t, { startsAt: start, endsAt: at((i % 6) * 2 + 4) });
        return {
          projectId,
          mainRoomId: mainRooms[i % 2],
          secondary: [{ roomId: counties[i % 3], seats: 1 + (i % 2) }],
        };
      }),
    );
    const blocks = Array.from({ length: CONTENDERS }, (_, i) => {
      const roomId = i % 2 === 0 ? mainRooms[(i / 2) % 2] : counties[i % 3];
      const platform = roomId.split('-')[1];
      return {
        identity: i % 3 === 0 ? as.operator(platform) : as.partner(platform),
        variables: {
          r: roomId,
          ref: `ATTACK-${i}`,
          from: at((i % 5) * 2 + 1).toISOString(),
          to: at((i % 5) * 2 + 4).toISOString(),
          seats: 1 + (i % 3),
          reason: '本地评标（模拟）',
        },
      };
    });

    const [arranged, blocked] = await Promise.all([
      Promise.all(
        plans.map((plan) =>
          t.graphql(as.operator(ZHUMADIAN), ARRANGE, {
            projectId: plan.projectId,
            mainRoomId: plan.mainRoomId,
            secondary: plan.secondary,
          }),
        ),
      ),
      Promise.all(blocks.map((block) => t.graphql(block.identity, PUT_BLOCK, block.variables))),
    ]);
    const arrangeCodes = arranged.map(codeOf);
    const blockCodes = blocked.map(codeOf);
    const unexpected = blocked.filter((answer) => !['OK', 'CONFLICT'].includes(codeOf(answer)));
    expect(unexpected.map((answer) => messageOf(answer))).toEqual([]);
    expect(arrangeCodes.every((code) => code === 'OK' || code === 'CONFLICT')).toBe(true);
    expect(blockCodes.every((code) => code === 'OK' || code === 'CONFLICT')).toBe(true);

    const statuses = await eventually(
      async () => {
        const all = await Promise.all(plans.map((plan) => projectStatus(t, plan.projectId)));
        return all.includes('VENUES_ARRANGING') ? undefined : all;
      },
      60_000,
      'every arrangement to settle',
    );
    const figures = await overBooking();
    expect(figures.seatMinutesChecked).toBeGreaterThan(0);
    expect(figures.overBookedSeatMinutes).toBe(0);
    expect(figures.doubleHeldSeats).toBe(0);
    expect(figures.seatsBeyondRoom).toBe(0);

    // Losers hold nothing: a refused block left no block and no seat row; a lost arrangement no live booking.
    const lostBlocks = blocks.filter((_, i) => blockCodes[i] === 'CONFLICT');
    const lostRefs = lostBlocks.map((block) => block.variables.ref);
    if (lostRefs.length > 0) {
      const left = await t.databases.venues.db
        .selectFrom('room_block')
        .select('external_ref')
        .where('external_ref', 'in', lostRefs)
        .execute();
      expect(left).toEqual([]);
    }
    const wonBlocks = await t.databases.venues.db
      .selectFrom('room_block')
      .innerJoin('booking_seat', 'booking_seat.block_id', 'room_block.id')
      .select(['room_block.external_ref', 'room_block.seats'])
      .select((eb) => eb.fn.countAll<string>().as('rows'))
      .where('room_block.external_ref', 'like', 'ATTACK-%')
      .where('booking_seat.live', '=', true)
      .groupBy(['room_block.external_ref', 'room_block.seats'])
      .execute();
    expect(wonBlocks.every((block) => Number(block.rows) === block.seats)).toBe(true);
    expect(wonBlocks.length + lostBlocks.length).toBe(CONTENDERS);
    const lostProjects = plans.filter((_, i) => arrangeCodes[i] === 'CONFLICT' || statuses[i] === 'FILED');
    for (const plan of lostProjects)
      expect(
        (await bookingsOf(t, plan.projectId)).filter(
          (booking) => booking.status === 'CONFIRMED' || booking.status === 'HELD',
        ),
      ).toEqual([]);
    const confirmed = statuses.filter((status) => status === 'VENUES_CONFIRMED').length;
    expect(confirmed + lostProjects.length).toBe(CONTENDERS);
    expect(lostBlocks.length + lostProjects.length).toBeGreaterThan(0);
    expect(wonBlocks.length + confirmed).toBeGreaterThan(0);

    console.log(
      `block-versus-booking attack: ${JSON.stringify({
        blocks: CONTENDERS,
        blocksWon: wonBlocks.length,
        blocksRefused: lostBlocks.length,
        arrangements: CONTENDERS,
        arrangementsConfirmed: confirmed,
        arrangementsLost: lostProjects.length,
        ...figures,
      })}`,
    );
  });
});
