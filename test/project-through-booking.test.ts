// Issue 14, finding 1, through the public endpoint as the roles that exploited it: a Project reached through a booking
// gets exactly the checks of project(id). A partner platform whose room is booked sees the project's outline only;
// anyone else without project(id) rights sees nothing of it (null with FORBIDDEN, or the booking is not listed).
import { as, inDays, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import {
  advanceFee,
  arrangeConfirmed,
  bookingsOf,
  confirmCommittee,
  file,
  submit,
  WORKFLOW_AGENCY,
} from './support/workflow';

let t: TestHub;
let projectId = '';
let seatedExpert = '';
/** The county whose room the project booked (it confirms holds automatically). */
const COUNTY = '411721';
const OTHER_CITY = '410300';
const window = { from: inDays(9).toISOString(), to: inDays(12).toISOString() };
/** What only project(id)'s readers may see: the bidders' names, the budget, the staff ids on the timeline. */
const SECRETS = ['河南示例路桥建设有限公司', '1250000000', 'test-platform_operator', 'test-supervisor'];

type Answer = { data?: unknown; errors?: { extensions?: { code?: string }; path?: (string | number)[] }[] };
const codes = (answer: Answer) => (answer.errors ?? []).map((error) => error.extensions?.code);
const leaks = (answer: Answer) => SECRETS.filter((secret) => JSON.stringify(answer.data ?? null).includes(secret));

beforeAll(async () => {
  t = await startTestHub({ overrides: { HUB_RATE_LIMIT: '0', HUB_RESPONSE_CACHE_MB: '0' } });
  projectId = await submit(t, { startsAt: inDays(10, 1), endsAt: inDays(10, 9) });
  await file(t, projectId);
  await arrangeConfirmed(t, projectId);
  await advanceFee(t, projectId);
  seatedExpert = (await confirmCommittee(t, projectId))[0].expert_id!;
}, 90_000);
afterAll(async () => {
  await t?.stop();
});

const SCHEDULE_SECRETS = `query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { id project { id budget bidders timeline { actor } } } }`;
const SCHEDULE_OUTLINE = `query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { id project { id code name category mode hostPlatform { id } evaluationStartsAt evaluationEndsAt status committeeSize } } }`;

describe('a partner system whose room the project booked', () => {
  it('gets null and FORBIDDEN for the budget, bidders and timeline through schedule', async () => {
    const answer = await t.graphql(as.partner(COUNTY), SCHEDULE_SECRETS, window);
    expect(leaks(answer)).toEqual([]);
    expect(codes(answer)).toContain('FORBIDDEN');
    expect(answer.errors!.every((error) => error.path?.[0] === 'schedule')).toBe(true);
  });

  it('reads the outline of the project through the booking of its own room', async () => {
    const answer = await t.graphql<{
      schedule: { project: { id: string; status: string; committeeSize: number; hostPlatform: { id: string } } }[];
    }>(as.partner(COUNTY), SCHEDULE_OUTLINE, window);
    expect(answer.errors).toBeUndefined();
    const ours = answer.data!.schedule.filter((booking) => booking.project.id === projectId);
    expect(ours).toHaveLength(1);
    expect(ours[0].project).toMatchObject({
      status: 'COMMITTEE_CONFIRMED',
      committeeSize: 5,
      hostPlatform: { id: ZHUMADIAN },
    });
  });

  it('gets null and FORBIDDEN for the secrets through the bookings of its own rooms', async () => {
    const rooms = await t.graphql(
      as.partner(COUNTY),
      `query($from: DateTime!, $to: DateTime!) { platform(id: "${COUNTY}") { venues { rooms { bookings(from: $from, to: $to) { project { bidders budget } } } } } }`,
      window,
    );
    expect(leaks(rooms)).toEqual([]);
    expect(codes(rooms)).toContain('FORBIDDEN');
  });

  it("does not reach the project's draw, ledger or other bookings", async () => {
    const answer = await t.graphql(
      as.partner(COUNTY),
      `query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { project { ledger { amount } venueBookings { id } expertDraw { id } } } }`,
      window,
    );
    expect(codes(answer)).toContain('FORBIDDEN');
    expect(answer.data ?? null).toBeNull();
  });
});

describe('callers without project(id) rights', () => {
  it("an AGENCY of another org sees none of the project's bookings in a platform's rooms", async () => {
    const other = as.agency('另一家招标代理有限公司');
    const answer = await t.graphql<{ platform: { venues: { rooms: { bookings: unknown[] }[] }[] } }>(
      other,
      `query($from: DateTime!, $to: DateTime!) { platform(id: "${ZHUMADIAN}") { venues { rooms { bookings(from: $from, to: $to) { id project { bidders } } } } } }`,
      window,
    );
    expect(leaks(answer)).toEqual([]);
    const listed = answer.data!.platform.venues.flatMap((venue) => venue.rooms.flatMap((room) => room.bookings));
    const ours = (await bookingsOf(t, projectId)).map((booking) => booking.id);
    expect(listed.filter((booking) => ours.includes((booking as { id: string }).id))).toEqual([]);
  });

  it("the project's own AGENCY reads the same path in full", async () => {
    const answer = await t.graphql<{
      platform: { venues: { rooms: { bookings: { project: { id: string; bidders: string[] } }[] }[] }[] };
    }>(
      as.agency(WORKFLOW_AGENCY),
      `query($from: DateTime!, $to: DateTime!) { platform(id: "${ZHUMADIAN}") { venues { rooms { bookings(from: $from, to: $to) { project { id bidders } } } } } }`,
      window,
    );
    expect(answer.errors).toBeUndefined();
    const bidders = answer
      .data!.platform.venues.flatMap((venue) => venue.rooms.flatMap((room) => room.bookings))
      .filter((booking) => booking.project.id === projectId);
    expect(bidders[0]?.project.bidders).toContain('河南示例路桥建设有限公司');
  });

  it("an operator of an unrelated city reads the schedule but gets null and FORBIDDEN for the project's outline and secrets", async () => {
    const outline = await t.graphql(
      as.operator(OTHER_CITY),
      `query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to, platformId: "${COUNTY}") { id project { code name } } }`,
      window,
    );
    expect(codes(outline)).toContain('FORBIDDEN');
    expect(JSON.stringify(outline.data ?? null)).not.toContain('驿城区示例道路改造工程施工');
    const secrets = await t.graphql(as.operator(OTHER_CITY), SCHEDULE_SECRETS, window);
    expect(leaks(secrets)).toEqual([]);
    expect(codes(secrets)).toContain('FORBIDDEN');
  });

  it('a partner system of an unrelated platform does not list the bookings at all', async () => {
    const answer = await t.graphql<{ schedule: { project: { id: string } }[] }>(
      as.partner(OTHER_CITY),
      SCHEDULE_OUTLINE,
      window,
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.schedule.filter((booking) => booking.project.id === projectId)).toEqual([]);
  });

  it("a seated expert finds its room through its invitation, but not the project behind the room's bookings", async () => {
    const room = await t.graphql<{ myInvitations: { booking: { startsAt: string; room: { id: string } } }[] }>(
      as.expert(seatedExpert),
      '{ myInvitations { booking { startsAt room { id } } } }',
    );
    expect(room.errors).toBeUndefined();
    expect(room.data!.myInvitations.map((seat) => seat.booking.room.id)).toContain(`room-${ZHUMADIAN}-1`);
    const answer = await t.graphql(
      as.expert(seatedExpert),
      `query($from: DateTime!, $to: DateTime!) { myInvitations { booking { room { bookings(from: $from, to: $to) { id project { bidders budget timeline { actor } } } } } } }`,
      window,
    );
    expect(leaks(answer)).toEqual([]);
    expect(codes(answer)).toContain('FORBIDDEN');
  });

  it('the host operator, for comparison, reads everything through the booking', async () => {
    const answer = await t.graphql(as.operator(ZHUMADIAN), SCHEDULE_SECRETS, window);
    expect(answer.errors).toBeUndefined();
    expect(leaks(answer)).toEqual(expect.arrayContaining(['河南示例路桥建设有限公司', '1250000000']));
  });
});
