// The secondary-venue booking saga end to end: arrangeVenues through the gateway, the BullMQ jobs running in this
// process, partners answering through confirmBooking/rejectBooking, and the all-or-none outcome in Postgres.
import { sql } from 'kysely';
import { webhookSignature, WEBHOOK_SIGNATURE_HEADER } from '../jobs/notifications';
import { expireJobId, type ArrangeMessage } from '../jobs/venue-bookings';
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import { TestClock } from './support/clock';
import {
  ARRANGE,
  allOrNone,
  bookingsOf,
  CANCEL,
  CONFIRM,
  filedProject,
  inDays,
  projectStatus,
  REJECT,
  seatInvariants,
  settled,
  webhookReceiver,
} from './support/booking';

const COUNTY = '411721'; // auto-confirms bookings from Zhumadian
const CITY = '410100'; // Zhengzhou: confirms by hand

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

async function freeSeats(roomId: string, from: Date, to: Date): Promise<number> {
  const response = await t.graphql<{ r: { id: string; freeSeats: number }[] }>(
    as.admin,
    `query($from: DateTime!, $to: DateTime!) { r: platforms { venues { rooms { id freeSeats(from: $from, to: $to) } } } }`,
    { from: from.toISOString(), to: to.toISOString() },
  );
  const rooms = (
    response.data as unknown as { r: { venues: { rooms: { id: string; freeSeats: number }[] }[] }[] }
  ).r.flatMap((p) => p.venues.flatMap((v) => v.rooms));
  return rooms.find((room) => room.id === roomId)!.freeSeats;
}

async function timelineKinds(projectId: string): Promise<string[]> {
  const events = await t.databases.projects.db
    .selectFrom('project_event')
    .select('kind')
    .where('project_id', '=', projectId)
    .orderBy('seq')
    .execute();
  return events.map((event) => event.kind);
}

async function arrange(
  projectId: string,
  mainRoomId: string,
  secondary: { roomId: string; seats: number }[],
  identity: Parameters<TestHub['graphql']>[0] = as.operator(ZHUMADIAN),
) {
  return t.graphql<{ arrangeVenues: { id: string; status: string } }>(identity, ARRANGE, {
    projectId,
    mainRoomId,
    secondary,
  });
}

describe('happy paths', () => {
  it('auto-confirms a county partner and the main room: the project is VENUES_CONFIRMED, the seats taken', async () => {
    const [from, to] = [inDays(11, 1), inDays(11, 9)];
    const projectId = await filedProject(t, { startsAt: from, endsAt: to });
    const response = await arrange(projectId, 'room-411700-1', [{ roomId: 'room-411721-1', seats: 2 }]);
    expect(response.errors).toBeUndefined();
    expect(response.data!.arrangeVenues).toEqual({ id: projectId, status: 'VENUES_ARRANGING' });

    expect(await settled(t, projectId)).toBe('VENUES_CONFIRMED');
    const bookings = await bookingsOf(t, projectId);
    expect(bookings.map((b) => [b.room_id, b.role, b.seats, b.status])).toEqual([
      ['room-411700-1', 'MAIN', 6, 'CONFIRMED'],
      ['room-411721-1', 'SECONDARY', 2, 'CONFIRMED'],
    ]);
    expect(await freeSeats('room-411700-1', from, to)).toBe(0);
    expect(await freeSeats('room-411721-1', from, to)).toBe(1);
    const kinds = await timelineKinds(projectId);
    expect(kinds.slice(0, 3)).toEqual(['SUBMITTED', 'FILED', 'VENUES_ARRANGING']);
    expect(kinds.filter((kind) => kind === 'VENUE_HELD')).toHaveLength(2);
    expect(kinds.filter((kind) => kind === 'VENUE_CONFIRMED')).toHaveLength(2);
    expect(kinds[kinds.length - 1]).toBe('VENUES_CONFIRMED');

    const view = await t.graphql<{ project: { venueBookings: { role: string }[] } }>(
      as.operator(),
      `query($id: ID!) { project(id: $id) { status venueBookings { role seats status room { id } } } }`,
      { id: projectId },
    );
    view.data!.project.venueBookings.sort((a, b) => a.role.localeCompare(b.role));
    expect(view.data).toEqual({
      project: {
        status: 'VENUES_CONFIRMED',
        venueBookings: [
          { role: 'MAIN', seats: 6, status: 'CONFIRMED', room: { id: 'room-411700-1' } },
          { role: 'SECONDARY', seats: 2, status: 'CONFIRMED', room: { id: 'room-411721-1' } },
        ],
      },
    });
    await allOrNone(t, projectId);
  });

  it('books a LOCAL project its main room only', async () => {
    const projectId = await filedProject(t, { mode: 'LOCAL', startsAt: inDays(12, 1), endsAt: inDays(12, 5) });
    expect((await arrange(projectId, 'room-411700-2', [])).errors).toBeUndefined();
    expect(await settled(t, projectId)).toBe('VENUES_CONFIRMED');
    expect((await bookingsOf(t, projectId)).map((b) => [b.role, b.seats, b.status])).toEqual([
      ['MAIN', 8, 'CONFIRMED'],
    ]);
  });

  it('waits for a city partner to confirm by hand, notifies it with a signed webhook, and ignores a second confirmation', async () => {
    const receiver = await webhookReceiver();
    await t.databases.venues.db
      .updateTable('platform')
      .set({ webhook_url: receiver.url })
      .where('id', '=', CITY)
      .execute();
    try {
      const projectId = await filedProject(t, { startsAt: inDays(13, 1), endsAt: inDays(13, 9) });
      expect(
        (
          await arrange(projectId, 'room-411700-1', [
            { roomId: 'room-411721-1', seats: 1 },
            { roomId: 'room-410100-1', seats: 3 },
          ])
        ).errors,
      ).toBeUndefined();
      const pending = await eventually(async () => {
        const bookings = await bookingsOf(t, projectId);
        return bookings.length === 3 && bookings.filter((b) => b.status === 'CONFIRMED').length === 2
          ? bookings
          : undefined;
      });
      const cityBooking = pending.find((b) => b.room_id === 'room-410100-1')!;
      expect(cityBooking.status).toBe('HELD');
      expect(cityBooking.hold_expires_at!.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
      expect(await projectStatus(t, projectId)).toBe('VENUES_ARRANGING');

      // The partner hears of it: a signed message with ids, counts and times, and no expert anywhere.
      await eventually(async () => (receiver.received.length > 0 ? true : undefined));
      const [hook] = receiver.received;
      expect(hook.headers[WEBHOOK_SIGNATURE_HEADER]).toBe(webhookSignature(t.config.WEBHOOK_SECRET, hook.body));
      const message = JSON.parse(hook.body) as { event: string; booking: Record<string, unknown> };
      expect(message.event).toBe('booking.decision-needed');
      expect(message.booking).toMatchObject({
        id: cityBooking.id,
        roomId: 'room-410100-1',
        platformId: CITY,
        seats: 3,
        projectId,
      });
      expect(hook.body).not.toMatch(/exp-\d|expert/i);
      const deliveries = await eventually(async () => {
        const response = await t.graphql<{
          webhookDeliveries: {
            totalCount: number;
            edges: { node: { status: string; attempts: number; booking: { id: string } } }[];
          };
        }>(
          as.partner(CITY),
          `query { webhookDeliveries(platformId: "${CITY}") { totalCount edges { node { status attempts booking { id } } } } }`,
        );
        return response.data?.webhookDeliveries.edges[0]?.node.status === 'DELIVERED'
          ? response.data.webhookDeliveries
          : undefined;
      });
      expect(deliveries).toEqual({
        totalCount: 1,
        edges: [{ node: { status: 'DELIVERED', attempts: 1, booking: { id: cityBooking.id } } }],
      });
      expect(
        (await t.graphql(as.partner('410200'), `query { webhookDeliveries(platformId: "${CITY}") { totalCount } }`))
          .errors?.[0].extensions?.code,
      ).toBe('FORBIDDEN');

      const first = await t.graphql(as.partner(CITY), CONFIRM, { id: cityBooking.id });
      expect(first.errors).toBeUndefined();
      expect(first.data).toEqual({ confirmBooking: { id: cityBooking.id, status: 'CONFIRMED' } });
      expect(await settled(t, projectId)).toBe('VENUES_CONFIRMED');
      const again = await t.graphql(as.partner(CITY), CONFIRM, { id: cityBooking.id });
      expect(again.data).toEqual({ confirmBooking: { id: cityBooking.id, status: 'CONFIRMED' } });
      const timeline = await t.databases.projects.db
        .selectFrom('project_event')
        .select(['kind', 'actor'])
        .where('project_id', '=', projectId)
        .where('kind', '=', 'VENUE_CONFIRMED')
        .execute();
      expect(timeline).toHaveLength(3);
      expect(timeline.map((event) => event.actor)).toContain('partner_system@410100:test-partner_system');
      await allOrNone(t, projectId);
    } finally {
      await t.databases.venues.db.updateTable('platform').set({ webhook_url: null }).where('id', '=', CITY).execute();
      await receiver.close();
    }
  });
});

describe('all or none', () => {
  it('releases every hold when a partner rejects: project back to FILED with the reason, seats free', async () => {
    const [from, to] = [inDays(14, 1), inDays(14, 9)];
    const projectId = await filedProject(t, { startsAt: from, endsAt: to });
    await arrange(projectId, 'room-411700-1', [
      { roomId: 'room-411721-1', seats: 3 },
      { roomId: 'room-410100-1', seats: 2 },
    ]);
    const held = await eventually(async () => {
      const bookings = await bookingsOf(t, projectId);
      return bookings.length === 3 && bookings.every((b) => b.status !== 'HELD' || b.room_id === 'room-410100-1')
        ? bookings
        : undefined;
    });
    expect(await freeSeats('room-411721-1', from, to)).toBe(0);
    const cityBooking = held.find((b) => b.room_id === 'room-410100-1')!;
    const rejected = await t.graphql(as.operator(CITY), REJECT, {
      id: cityBooking.id,
      reason: '该时段评标室已安排其他项目',
    });
    expect(rejected.data).toEqual({
      rejectBooking: { id: cityBooking.id, status: 'REJECTED', reason: '该时段评标室已安排其他项目' },
    });

    expect(await settled(t, projectId)).toBe('FILED');
    const bookings = await bookingsOf(t, projectId);
    expect(bookings.map((b) => [b.room_id, b.status])).toEqual([
      ['room-411700-1', 'RELEASED'],
      ['room-411721-1', 'RELEASED'],
      ['room-410100-1', 'REJECTED'],
    ]);
    for (const room of ['room-411700-1', 'room-411721-1', 'room-410100-1']) {
      const [{ seats }] = await t.databases.venues.db
        .selectFrom('room')
        .select('seats')
        .where('id', '=', room)
        .execute();
      expect(await freeSeats(room, from, to)).toBe(seats);
    }
    const failed = await t.databases.projects.db
      .selectFrom('project_event')
      .select(['kind', 'detail'])
      .where('project_id', '=', projectId)
      .where('kind', '=', 'VENUES_ARRANGEMENT_FAILED')
      .execute();
    expect(failed).toHaveLength(1);
    expect(failed[0].detail).toContain('该时段评标室已安排其他项目');
    expect(await timelineKinds(projectId)).toEqual(expect.arrayContaining(['VENUE_REJECTED', 'VENUE_RELEASED']));

    // Confirming what was rejected is a conflict; the project may arrange again.
    expect((await t.graphql(as.partner(CITY), CONFIRM, { id: cityBooking.id })).errors?.[0].extensions?.code).toBe(
      'CONFLICT',
    );
    expect((await arrange(projectId, 'room-411700-1', [{ roomId: 'room-411721-1', seats: 3 }])).errors).toBeUndefined();
    expect(await settled(t, projectId)).toBe('VENUES_CONFIRMED');
    await allOrNone(t, projectId);
  });

  it('cancels a project with confirmed venues: every booking released, seats free, a second cancel refused', async () => {
    const [from, to] = [inDays(15, 1), inDays(15, 9)];
    const projectId = await filedProject(t, { startsAt: from, endsAt: to });
    await arrange(projectId, 'room-411700-2', [{ roomId: 'room-411722-1', seats: 4 }]);
    expect(await settled(t, projectId)).toBe('VENUES_CONFIRMED');
    expect(
      (await t.graphql(as.operator(CITY), CANCEL, { id: projectId, reason: '不是我的项目' })).errors?.[0].extensions
        ?.code,
    ).toBe('FORBIDDEN');
    expect((await t.graphql(as.operator(), CANCEL, { id: projectId, reason: '  ' })).errors?.[0].extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
    const cancelled = await t.graphql(as.operator(), CANCEL, { id: projectId, reason: '招标人撤回招标' });
    expect(cancelled.data).toEqual({ cancelProject: { id: projectId, status: 'CANCELLED' } });
    await eventually(async () =>
      (await bookingsOf(t, projectId)).every((b) => b.status === 'RELEASED') ? true : undefined,
    );
    expect(await freeSeats('room-411722-1', from, to)).toBe(5);
    expect((await t.graphql(as.admin, CANCEL, { id: projectId, reason: 'again' })).errors?.[0].extensions?.code).toBe(
      'CONFLICT',
    );
    await eventually(async () =>
      (await timelineKinds(projectId)).filter((kind) => kind === 'VENUE_RELEASED').length === 2 ? true : undefined,
    );
  });

  it('cancels a project while a partner still has to decide: the hold is released and cannot be confirmed', async () => {
    const projectId = await filedProject(t, { startsAt: inDays(16, 1), endsAt: inDays(16, 9) });
    await arrange(projectId, 'room-411700-1', [{ roomId: 'room-410100-1', seats: 2 }]);
    const held = await eventually(async () =>
      (await bookingsOf(t, projectId)).find((b) => b.room_id === 'room-410100-1' && b.status === 'HELD'),
    );
    expect((await t.graphql(as.admin, CANCEL, { id: projectId, reason: '项目终止' })).errors).toBeUndefined();
    await eventually(async () =>
      (await bookingsOf(t, projectId)).every((b) => b.status === 'RELEASED') ? true : undefined,
    );
    expect((await t.graphql(as.partner(CITY), CONFIRM, { id: held.id })).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await projectStatus(t, projectId)).toBe('CANCELLED');
  });
});

describe('races and replays', () => {
  const kindsOf = async (projectId: string) =>
    (await timelineKinds(projectId)).filter((kind) => kind.startsWith('VENUE'));

  it('holds all or none when two arrangements race for the last seats of a room: one confirmed, the other released', async () => {
    const [from, to] = [inDays(23, 1), inDays(23, 9)];
    const first = await filedProject(t, { startsAt: from, endsAt: to });
    const second = await filedProject(t, { startsAt: from, endsAt: to });
    const queue = t.hub.jobs!.queues['venue-bookings'];
    await queue.pause();
    try {
      // Nothing is held until the jobs run, so both pass the up-front check for 2 of the room's 3 seats.
      for (const [projectId, mainRoomId] of [
        [first, 'room-411700-1'],
        [second, 'room-411700-2'],
      ]) {
        expect((await arrange(projectId, mainRoomId, [{ roomId: 'room-411721-1', seats: 2 }])).errors).toBeUndefined();
      }
      await eventually(async () =>
        (await queue.getJobs(['waiting'], 0, -1)).filter(
          (job) => job.name === 'arrange' && [first, second].includes((job.data as { projectId: string }).projectId),
        ).length === 2
          ? true
          : undefined,
      );
    } finally {
      await queue.resume();
    }
    const outcomes = { [first]: await settled(t, first), [second]: await settled(t, second) };
    expect(Object.values(outcomes).sort()).toEqual(['FILED', 'VENUES_CONFIRMED']);
    const loser = outcomes[first] === 'FILED' ? first : second;
    const bookings = await bookingsOf(t, loser);
    expect(bookings.map((b) => [b.role, b.status])).toEqual([
      ['MAIN', 'RELEASED'],
      ['SECONDARY', 'REJECTED'],
    ]);
    expect(bookings[1].reason).toMatch(/room-411721-1 has 1 of the 2 seats asked free/);
    expect(await kindsOf(loser)).toEqual([
      'VENUES_ARRANGING',
      'VENUE_HELD',
      'VENUE_CONFIRMED',
      'VENUE_HOLD_FAILED',
      'VENUE_RELEASED',
      'VENUES_ARRANGEMENT_FAILED',
    ]);
    // Each event says what happened at its step: the hold and its confirmation before anything failed.
    const details = await t.databases.projects.db
      .selectFrom('project_event')
      .select(['kind', 'detail'])
      .where('project_id', '=', loser)
      .where('kind', 'like', 'VENUE\\_%')
      .orderBy('seq')
      .execute();
    const main = bookings[0].room_id;
    expect(details.map((event) => [event.kind, event.detail])).toEqual([
      ['VENUE_HELD', `main room ${main}`],
      ['VENUE_CONFIRMED', `main room ${main}`],
      ['VENUE_HOLD_FAILED', `2 seats at room room-411721-1: ${bookings[1].reason}`],
      [
        'VENUE_RELEASED',
        `main room ${main}: arrangement failed: booking of room room-411721-1 REJECTED: ${bookings[1].reason}`,
      ],
    ]);
    expect(await freeSeats('room-411721-1', from, to)).toBe(1);
    for (const projectId of [first, second]) await allOrNone(t, projectId);
    expect(await seatInvariants(t)).toMatchObject({ doubleBooked: 0, disagreeing: 0 });
  });

  it("holds nothing twice and records nothing twice when an 'arrange' job runs again after it completed", async () => {
    const projectId = await filedProject(t, { startsAt: inDays(24, 1), endsAt: inDays(24, 9) });
    await arrange(projectId, 'room-411700-1', [{ roomId: 'room-411722-1', seats: 2 }]);
    expect(await settled(t, projectId)).toBe('VENUES_CONFIRMED');
    const before = { bookings: await bookingsOf(t, projectId), kinds: await kindsOf(projectId) };
    expect(before.kinds).toEqual([
      'VENUES_ARRANGING',
      'VENUE_HELD',
      'VENUE_CONFIRMED',
      'VENUE_HELD',
      'VENUE_CONFIRMED',
      'VENUES_CONFIRMED',
    ]);
    const queue = t.hub.jobs!.queues['venue-bookings'];
    const done = (await queue.getJobs(['completed'], 0, -1)).find(
      (job) => job.name === 'arrange' && (job.data as { projectId: string }).projectId === projectId,
    )!;
    await queue.add('arrange', done.data, { jobId: `${done.id}-again` });
    await eventually(async () =>
      (await (await queue.getJob(`${done.id}-again`))?.getState()) === 'completed' ? true : undefined,
    );
    expect({ bookings: await bookingsOf(t, projectId), kinds: await kindsOf(projectId) }).toEqual(before);
    expect(await projectStatus(t, projectId)).toBe('VENUES_CONFIRMED');
  });
});

describe('the expiry as a backstop', () => {
  it('gives an arrangement decided at once its delayed expiry, which moves the project should the arrange job never report', async () => {
    const queue = t.hub.jobs!.queues['venue-bookings'];
    const arrangementOf = async (projectId: string) => (await bookingsOf(t, projectId))[0].arrangement_id;

    const confirmed = await filedProject(t, { startsAt: inDays(25, 1), endsAt: inDays(25, 9) });
    await arrange(confirmed, 'room-411700-1', [{ roomId: 'room-411723-1', seats: 1 }]);
    expect(await settled(t, confirmed)).toBe('VENUES_CONFIRMED');
    expect(await (await queue.getJob(expireJobId(await arrangementOf(confirmed))))?.getState()).toBe('delayed');

    // Decided in the venues database, never reported: what every try of a failing 'arrange' job would leave.
    const unreported = await filedProject(t, { startsAt: inDays(26, 1), endsAt: inDays(26, 9) });
    await queue.pause();
    try {
      await arrange(unreported, 'room-411700-1', [{ roomId: 'room-411723-1', seats: 1 }]);
      const job = await eventually(async () =>
        (await queue.getJobs(['waiting'], 0, -1)).find(
          (candidate) => candidate.name === 'arrange' && (candidate.data as ArrangeMessage).projectId === unreported,
        ),
      );
      const message = job.data as ArrangeMessage;
      await job.remove();
      const { venues } = t.hub.services;
      await venues.openArrangement({
        id: message.arrangementId,
        projectId: unreported,
        hostPlatformId: message.hostPlatformId,
        window: { from: new Date(message.startsAt), to: new Date(message.endsAt) },
        holdExpiresAt: inDays(1),
        requests: message.requests,
      });
      expect((await venues.holdArrangement(message.arrangementId)).arrangement.status).toBe('CONFIRMED');
      expect(await projectStatus(t, unreported)).toBe('VENUES_ARRANGING');
      // Its expiry, come due.
      await queue.add(
        'expire',
        { arrangementId: message.arrangementId },
        { jobId: expireJobId(message.arrangementId) },
      );
    } finally {
      await queue.resume();
    }
    expect(await settled(t, unreported)).toBe('VENUES_CONFIRMED');
    await allOrNone(t, unreported);
  });
});

describe('refusals write nothing', () => {
  async function snapshot(projectId: string) {
    const projects = t.databases.projects.db;
    const venues = t.databases.venues.db;
    const [events, outbox, bookings, venuesOutbox] = await Promise.all([
      projects
        .selectFrom('project_event')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('project_id', '=', projectId)
        .executeTakeFirstOrThrow(),
      projects
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow(),
      venues.selectFrom('booking').select(['id', 'status']).orderBy('id').execute(),
      venues
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return {
      status: await projectStatus(t, projectId),
      events: events.n,
      outbox: outbox.n,
      bookings,
      venuesOutbox: venuesOutbox.n,
    };
  }

  let remote: string;
  let local: string;
  let zhengzhou: string;
  let submitted: string;
  beforeAll(async () => {
    const window = { startsAt: inDays(17, 1), endsAt: inDays(17, 9) };
    remote = await filedProject(t, window);
    local = await filedProject(t, { ...window, mode: 'LOCAL' });
    zhengzhou = await filedProject(t, { ...window, host: CITY });
    submitted = (
      await t.hub.services.projects.submitProject(
        { sub: 'op', role: 'PLATFORM_OPERATOR', platform: ZHUMADIAN },
        {
          code: `BK-SUB-${Date.now()}`,
          name: '未备案项目',
          category: 'CONSTRUCTION',
          department: 'HOUSING_AND_CONSTRUCTION',
          hostPlatformId: ZHUMADIAN,
          tenderer: '示例招标人',
          agency: '示例代理',
          bidders: ['示例投标人'],
          budget: 100n,
          mode: 'REMOTE',
          committeeSize: 5,
          tendererRepresentatives: 0,
          evaluationStartsAt: window.startsAt,
          evaluationEndsAt: window.endsAt,
        },
      )
    ).id;
  });

  const ok = { roomId: 'room-411721-1', seats: 1 };
  // Four columns in every row: jest takes a test function with more parameters than the row for one awaiting done().
  type Case = [
    string,
    () => {
      project: string;
      main: string;
      secondary: { roomId: string; seats: number }[];
      identity?: Parameters<TestHub['graphql']>[0];
    },
    string,
    string | null,
  ];
  const cases: Case[] = [
    [
      'an agency',
      () => ({ project: remote, main: 'room-411700-1', secondary: [ok], identity: as.agency('示例招标代理有限公司') }),
      'FORBIDDEN',
      null,
    ],
    [
      'a partner system',
      () => ({ project: remote, main: 'room-411700-1', secondary: [ok], identity: as.partner(ZHUMADIAN) }),
      'FORBIDDEN',
      null,
    ],
    [
      "another platform's operator",
      () => ({ project: remote, main: 'room-411700-1', secondary: [ok], identity: as.operator(COUNTY) }),
      'FORBIDDEN',
      null,
    ],
    ['a project not FILED', () => ({ project: submitted, main: 'room-411700-1', secondary: [ok] }), 'CONFLICT', null],
    ['an unknown project', () => ({ project: 'prj_nope', main: 'room-411700-1', secondary: [ok] }), 'NOT_FOUND', null],
    ['an unknown main room', () => ({ project: remote, main: 'room-nope', secondary: [ok] }), 'NOT_FOUND', null],
    [
      'a main room of another platform',
      () => ({ project: remote, main: 'room-411722-1', secondary: [ok] }),
      'BAD_USER_INPUT',
      'mainRoomId',
    ],
    [
      'a main room without video',
      () => ({
        project: zhengzhou,
        main: 'room-410100-2',
        secondary: [{ roomId: 'room-410200-1', seats: 1 }],
        identity: as.operator(CITY),
      }),
      'BAD_USER_INPUT',
      'mainRoomId',
    ],
    [
      'a REMOTE project without secondary venues',
      () => ({ project: remote, main: 'room-411700-1', secondary: [] }),
      'BAD_USER_INPUT',
      'secondary',
    ],
    [
      'a LOCAL project with a secondary venue',
      () => ({ project: local, main: 'room-411700-1', secondary: [ok] }),
      'BAD_USER_INPUT',
      'secondary',
    ],
    [
      'an unknown secondary room',
      () => ({ project: remote, main: 'room-411700-1', secondary: [{ roomId: 'room-nope', seats: 1 }] }),
      'NOT_FOUND',
      null,
    ],
    [
      'a partner without an agreement',
      () => ({
        project: zhengzhou,
        main: 'room-410100-1',
        secondary: [{ roomId: 'room-411721-1', seats: 1 }],
        identity: as.operator(CITY),
      }),
      'BAD_USER_INPUT',
      'secondary[0].roomId',
    ],
    [
      'a secondary room without video',
      () => ({ project: remote, main: 'room-411700-1', secondary: [{ roomId: 'room-410100-2', seats: 1 }] }),
      'BAD_USER_INPUT',
      'secondary[0].roomId',
    ],
    [
      'a secondary room of the host',
      () => ({ project: remote, main: 'room-411700-1', secondary: [{ roomId: 'room-411700-2', seats: 1 }] }),
      'BAD_USER_INPUT',
      'secondary[0].roomId',
    ],
    [
      'the same room twice',
      () => ({ project: remote, main: 'room-411700-1', secondary: [ok, ok] }),
      'BAD_USER_INPUT',
      'secondary[1].roomId',
    ],
    [
      'zero seats',
      () => ({ project: remote, main: 'room-411700-1', secondary: [{ roomId: 'room-411721-1', seats: 0 }] }),
      'BAD_USER_INPUT',
      'secondary[0].seats',
    ],
    [
      'more seats than the room has',
      () => ({ project: remote, main: 'room-411700-1', secondary: [{ roomId: 'room-411721-1', seats: 4 }] }),
      'BAD_USER_INPUT',
      'secondary[0].seats',
    ],
  ];
  it.each(cases)('refuses %s', async (_name, make, code, field) => {
    const { project, main, secondary, identity } = make();
    const before = project.startsWith('prj_nope') ? null : await snapshot(project);
    const response = await arrange(project, main, secondary, identity ?? as.operator(ZHUMADIAN));
    expect(response.errors?.[0].extensions?.code).toBe(code);
    if (field) expect(response.errors?.[0].message.startsWith(`${field}:`)).toBe(true);
    if (before) expect(await snapshot(project)).toEqual(before);
  });

  it('refuses seats that are already held with CONFLICT', async () => {
    const [from, to] = [inDays(18, 1), inDays(18, 9)];
    const first = await filedProject(t, { startsAt: from, endsAt: to });
    await arrange(first, 'room-411700-1', [{ roomId: 'room-411723-1', seats: 3 }]);
    expect(await settled(t, first)).toBe('VENUES_CONFIRMED');
    const second = await filedProject(t, { startsAt: inDays(18, 5), endsAt: inDays(18, 12) });
    const before = await snapshot(second);
    const response = await arrange(second, 'room-411700-2', [{ roomId: 'room-411723-1', seats: 2 }]);
    expect(response.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(response.errors?.[0].message).toMatch(/room-411723-1 has 1 free seats/);
    expect(await snapshot(second)).toEqual(before);
  });

  it('refuses partner decisions by anyone but the room platform, on unknown bookings and without a reason', async () => {
    const projectId = await filedProject(t, { startsAt: inDays(19, 1), endsAt: inDays(19, 9) });
    await arrange(projectId, 'room-411700-1', [{ roomId: 'room-410100-1', seats: 2 }]);
    const held = await eventually(async () => {
      const bookings = await bookingsOf(t, projectId);
      return bookings.length === 2 && bookings.some((b) => b.role === 'MAIN' && b.status === 'CONFIRMED')
        ? bookings.find((b) => b.room_id === 'room-410100-1')
        : undefined;
    });
    // The hold's own timeline events are recorded by its job just after the booking commits.
    await eventually(async () => {
      const kinds = await timelineKinds(projectId);
      return kinds.filter((kind) => kind === 'VENUE_HELD').length === 2 && kinds.includes('VENUE_CONFIRMED')
        ? true
        : undefined;
    });
    const before = await snapshot(projectId);
    const attempts: [Parameters<TestHub['graphql']>[0], string, Record<string, unknown>, string][] = [
      [as.partner('410200'), CONFIRM, { id: held.id }, 'FORBIDDEN'],
      [as.operator(ZHUMADIAN), CONFIRM, { id: held.id }, 'FORBIDDEN'],
      [as.agency('示例招标代理有限公司', CITY), CONFIRM, { id: held.id }, 'FORBIDDEN'],
      [as.supervisor('HOUSING_AND_CONSTRUCTION', CITY), REJECT, { id: held.id, reason: 'no' }, 'FORBIDDEN'],
      [as.partner(CITY), CONFIRM, { id: 'bk_nope' }, 'NOT_FOUND'],
      [as.partner(CITY), REJECT, { id: held.id, reason: '   ' }, 'BAD_USER_INPUT'],
    ];
    for (const [identity, mutation, variables, code] of attempts) {
      const response = await t.graphql(identity, mutation, variables);
      expect(response.errors?.[0].extensions?.code).toBe(code);
    }
    expect(await snapshot(projectId)).toEqual(before);
    // The main room was confirmed by itself; a partner cannot reject a CONFIRMED booking.
    const main = (await bookingsOf(t, projectId)).find((b) => b.role === 'MAIN')!;
    expect(
      (await t.graphql(as.operator(ZHUMADIAN), REJECT, { id: main.id, reason: '改期' })).errors?.[0].extensions?.code,
    ).toBe('CONFLICT');
  });
});

describe('queries', () => {
  it('shows a partner system its own rooms and its own projects only', async () => {
    const [from, to] = [inDays(20, 1), inDays(20, 9)];
    const projectId = await filedProject(t, { startsAt: from, endsAt: to });
    await arrange(projectId, 'room-411700-1', [{ roomId: 'room-411724-1', seats: 2 }]);
    expect(await settled(t, projectId)).toBe('VENUES_CONFIRMED');
    const schedule = `query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { room { id } project { id } } }`;
    const vars = { from: from.toISOString(), to: to.toISOString() };
    const county = await t.graphql<{ schedule: { room: { id: string } }[] }>(as.partner('411724'), schedule, vars);
    expect(county.data!.schedule.map((b) => b.room.id)).toEqual(['room-411724-1']);
    const other = await t.graphql<{ schedule: unknown[] }>(as.partner('411725'), schedule, vars);
    expect(other.data!.schedule).toEqual([]);
    const host = await t.graphql<{ schedule: unknown[] }>(as.partner(ZHUMADIAN), schedule, vars);
    expect(host.data!.schedule).toHaveLength(2);
    const roomView = await t.graphql<{ platform: { venues: { rooms: { bookings: unknown[] }[] }[] } }>(
      as.partner('411725'),
      `query($from: DateTime!, $to: DateTime!) { platform(id: "411700") { venues { rooms { bookings(from: $from, to: $to) { id } } } } }`,
      vars,
    );
    expect(roomView.data!.platform.venues.flatMap((v) => v.rooms.flatMap((r) => r.bookings))).toEqual([]);
    expect(await seatInvariants(t)).toMatchObject({ doubleBooked: 0, disagreeing: 0 });
    const { seatsHeld, seatsOfLiveBookings } = await seatInvariants(t);
    expect(seatsHeld).toBe(seatsOfLiveBookings);
  });

  it('keeps booking_seat.live in step with the booking status in the database itself', async () => {
    const [booking] = await t.databases.venues.db
      .selectFrom('booking')
      .select('id')
      .where('status', '=', 'CONFIRMED')
      .where('role', '=', 'SECONDARY')
      .limit(1)
      .execute();
    await expect(
      t.databases.venues.db.updateTable('booking').set({ status: 'RELEASED' }).where('id', '=', booking.id).execute(),
    ).rejects.toThrow(/live flag disagrees/);
    await expect(
      sql`update booking_seat set live = false where booking_id = ${booking.id}`.execute(t.databases.venues.db),
    ).rejects.toThrow(/live flag disagrees/);
  });
});

// The hold's time runs out by a test clock the workers read, moved past HOLD_TTL, and the arrangement's 'expire' job
// (delayed by HOLD_TTL in Redis) promoted to run now: no real timer is raced.
describe('expiry and dead letters (a test clock past HOLD_TTL, quick retries)', () => {
  const HOLD_TTL_MS = 30 * 60_000;
  const clock = new TestClock();
  let short: TestHub;
  beforeAll(async () => {
    short = await startTestHub({
      overrides: { HOLD_TTL: '30m', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_RETRY_DELAY: '20ms' },
      clock,
    });
  });
  afterAll(async () => {
    await short.stop();
  });

  it('expires a hold nobody decided: every hold released, project FILED, the delivery dead after its last attempt', async () => {
    const receiver = await webhookReceiver(() => 503);
    await short.databases.venues.db
      .updateTable('platform')
      .set({ webhook_url: receiver.url })
      .where('id', '=', CITY)
      .execute();
    try {
      const projectId = await filedProject(short, { startsAt: inDays(21, 1), endsAt: inDays(21, 9) });
      const response = await short.graphql(as.operator(), ARRANGE, {
        projectId,
        mainRoomId: 'room-411700-1',
        secondary: [
          { roomId: 'room-411721-1', seats: 1 },
          { roomId: 'room-410100-1', seats: 2 },
        ],
      });
      expect(response.errors).toBeUndefined();
      const held = await eventually(
        async () =>
          (await bookingsOf(short, projectId)).find((b) => b.room_id === 'room-410100-1' && b.status === 'HELD'),
        15_000,
        'the city hold',
      );
      // Promoted before its time, the expiry decides nothing: the hold is still within HOLD_TTL by the workers' clock.
      const queue = short.hub.jobs!.queues['venue-bookings'];
      const expiry = await eventually(
        async () => (await queue.getJob(expireJobId(held.arrangement_id))) ?? undefined,
        15_000,
        'the expiry job',
      );
      await expiry.promote();
      await eventually(
        async () => ((await queue.getJob(expiry.id!))?.finishedOn ? true : undefined),
        15_000,
        'the early expiry to run',
      );
      expect(await projectStatus(short, projectId)).toBe('VENUES_ARRANGING');
      expect((await bookingsOf(short, projectId)).find((b) => b.id === held.id)?.status).toBe('HELD');
      // Past HOLD_TTL: the next expiry run (as its delay or the sweep would start it) expires the hold.
      clock.advance(HOLD_TTL_MS + 1000);
      await queue.add('expire', { arrangementId: held.arrangement_id });
      expect(await settled(short, projectId)).toBe('FILED');
      const bookings = await bookingsOf(short, projectId);
      expect(bookings.map((b) => [b.room_id, b.status])).toEqual([
        ['room-411700-1', 'RELEASED'],
        ['room-411721-1', 'RELEASED'],
        ['room-410100-1', 'EXPIRED'],
      ]);
      const cityBooking = bookings.find((b) => b.status === 'EXPIRED')!;
      expect(
        (await short.graphql(as.partner(CITY), CONFIRM, { id: cityBooking.id })).errors?.[0].extensions?.code,
      ).toBe('CONFLICT');
      const failed = await short.databases.projects.db
        .selectFrom('project_event')
        .select('detail')
        .where('project_id', '=', projectId)
        .where('kind', '=', 'VENUES_ARRANGEMENT_FAILED')
        .executeTakeFirstOrThrow();
      expect(failed.detail).toMatch(/EXPIRED/);

      const delivery = await eventually(async () => {
        const row = await short.databases.venues.db
          .selectFrom('webhook_delivery')
          .selectAll()
          .where('booking_id', '=', cityBooking.id)
          .executeTakeFirst();
        return row?.status === 'DEAD' ? row : undefined;
      });
      expect(delivery).toMatchObject({ attempts: 3, last_status_code: 503 });
      expect(receiver.received).toHaveLength(3);
      expect(await seatInvariants(short)).toMatchObject({ doubleBooked: 0, seatsHeld: 0, seatsOfLiveBookings: 0 });
    } finally {
      await receiver.close();
    }
  });

  it('sends nothing and fails nothing for a partner without a webhook URL', async () => {
    const projectId = await filedProject(short, { startsAt: inDays(22, 1), endsAt: inDays(22, 9) });
    await short.graphql(as.operator(), ARRANGE, {
      projectId,
      mainRoomId: 'room-411700-2',
      secondary: [{ roomId: 'room-410300-1', seats: 1 }],
    });
    const held = await eventually(async () =>
      (await bookingsOf(short, projectId)).find((b) => b.room_id === 'room-410300-1' && b.status === 'HELD'),
    );
    expect(
      await short.databases.venues.db
        .selectFrom('webhook_delivery')
        .selectAll()
        .where('booking_id', '=', held.id)
        .execute(),
    ).toEqual([]);
    expect((await short.graphql(as.partner('410300'), CONFIRM, { id: held.id })).errors).toBeUndefined();
    expect(await settled(short, projectId)).toBe('VENUES_CONFIRMED');
  });
});
