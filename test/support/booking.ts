// Helpers of the booking saga tests: FILED projects made through the services or the gateway, arrangeVenues through it,
// a local webhook receiver, and the invariants every test checks afterwards.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import type { Identity } from '../../lib/identity';
import type { SubmitProjectInput } from '../../subgraphs/projects/rules';
import { as, eventually, ZHUMADIAN, type TestHub } from './hub';

export const ARRANGE = `mutation($projectId: ID!, $mainRoomId: ID!, $secondary: [SeatRequestInput!]!) {
  arrangeVenues(projectId: $projectId, mainRoomId: $mainRoomId, secondary: $secondary) { id status }
}`;
export const CONFIRM = `mutation($id: ID!) { confirmBooking(bookingId: $id) { id status } }`;
export const REJECT = `mutation($id: ID!, $reason: String!) { rejectBooking(bookingId: $id, reason: $reason) { id status reason } }`;
export const CANCEL = `mutation($id: ID!, $reason: String!) { cancelProject(projectId: $id, reason: $reason) { id status } }`;

let counter = 0;

export { inDays } from './hub';

/** Submits a project as the host's operator and files it as the department's supervisor; returns its id. */
export async function filedProject(
  t: TestHub,
  options: { host?: string; mode?: 'LOCAL' | 'REMOTE'; startsAt: Date; endsAt: Date },
): Promise<string> {
  const host = options.host ?? '411700';
  const { projects } = t.hub.services;
  const operator: Identity = { sub: 'test-operator', role: 'PLATFORM_OPERATOR', platform: host };
  const input: SubmitProjectInput = {
    code: `BK-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 6)}`,
    name: '示例道路改造工程施工',
    category: 'CONSTRUCTION',
    department: 'HOUSING_AND_CONSTRUCTION',
    hostPlatformId: host,
    tenderer: '示例城市建设投资有限公司',
    agency: '示例招标代理有限公司',
    bidders: ['河南示例路桥建设有限公司', '示例市政工程有限公司'],
    budget: 1_250_000_000n,
    mode: options.mode ?? 'REMOTE',
    committeeSize: 5,
    tendererRepresentatives: 1,
    evaluationStartsAt: options.startsAt,
    evaluationEndsAt: options.endsAt,
  };
  const project = await projects.submitProject(operator, input);
  await projects.fileProject(
    { sub: 'test-supervisor', role: 'SUPERVISOR', platform: host, department: 'HOUSING_AND_CONSTRUCTION' },
    project.id,
    true,
    null,
  );
  return project.id;
}

export async function projectStatus(t: TestHub, projectId: string): Promise<string> {
  const row = await t.databases.projects.db
    .selectFrom('project')
    .select('status')
    .where('id', '=', projectId)
    .executeTakeFirstOrThrow();
  return row.status;
}

export async function bookingsOf(t: TestHub, projectId: string) {
  return t.databases.venues.db
    .selectFrom('booking')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('id')
    .execute();
}

/** Waits until the project leaves VENUES_ARRANGING (or reaches `status`), returning its status. */
export async function settled(t: TestHub, projectId: string, status?: string, timeoutMs = 20_000): Promise<string> {
  return eventually(
    async () => {
      const current = await projectStatus(t, projectId);
      return (status ? current === status : current !== 'VENUES_ARRANGING') ? current : undefined;
    },
    timeoutMs,
    `project ${projectId} to reach ${status ?? 'a settled state'}`,
  );
}

/**
 * The database's word on the invariants: seats in two overlapping live bookings (0 when the constraint holds),
 * seats counted as held against the seats of live bookings, and bookings whose seat rows disagree with their status.
 */
export async function seatInvariants(t: TestHub) {
  const db = t.databases.venues.db;
  const doubleBooked = await sql<{ n: string }>`
    select count(*) as n from booking_seat a join booking_seat b
      on a.room_id = b.room_id and a.seat_no = b.seat_no and a.booking_id < b.booking_id and a.during && b.during
    where a.live and b.live`.execute(db);
  const held = await sql<{
    n: string;
  }>`select count(*) as n from booking_seat where live and booking_id is not null`.execute(db);
  const ofLiveBookings = await sql<{
    n: string | null;
  }>`select sum(seats) as n from booking where status in ('HELD', 'CONFIRMED')`.execute(db);
  const disagreeing = await sql<{ n: string }>`
    select count(*) as n from booking b
    where (b.status in ('HELD', 'CONFIRMED')) <> exists (select 1 from booking_seat s where s.booking_id = b.id and s.live)
      and exists (select 1 from booking_seat s where s.booking_id = b.id)`.execute(db);
  return {
    doubleBooked: Number(doubleBooked.rows[0].n),
    seatsHeld: Number(held.rows[0].n),
    seatsOfLiveBookings: Number(ofLiveBookings.rows[0].n ?? 0),
    disagreeing: Number(disagreeing.rows[0].n),
  };
}

/** An arrangement either confirmed every booking of the project or left none of them live. */
export async function allOrNone(t: TestHub, projectId: string): Promise<void> {
  const status = await projectStatus(t, projectId);
  const bookings = await bookingsOf(t, projectId);
  const live = bookings.filter((booking) => booking.status === 'HELD' || booking.status === 'CONFIRMED');
  if (status === 'VENUES_CONFIRMED') {
    const arrangements = new Set(live.map((booking) => booking.arrangement_id));
    if (arrangements.size !== 1 || live.some((booking) => booking.status !== 'CONFIRMED'))
      throw new Error(
        `project ${projectId} is VENUES_CONFIRMED with bookings ${JSON.stringify(bookings.map((b) => b.status))}`,
      );
    const [arrangement] = arrangements;
    const all = bookings.filter((booking) => booking.arrangement_id === arrangement);
    if (all.some((booking) => booking.status !== 'CONFIRMED'))
      throw new Error(`project ${projectId} confirmed a partial arrangement`);
  } else if (live.length > 0) {
    throw new Error(`project ${projectId} is ${status} with ${live.length} live bookings`);
  }
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A webhook receiver answering `status()` to every POST, on 127.0.0.1 (the test hub opens it for deliveries) or on the
 * `listenOn` address a built jobs process may deliver to (test/faults/support/processes.ts partnerAddress).
 */
export async function webhookReceiver(
  status: () => number = () => 204,
  listenOn: { host: string; url: (port: number, path: string) => string } = {
    host: '127.0.0.1',
    url: (port, path) => `http://127.0.0.1:${port}${path}`,
  },
) {
  const received: ReceivedWebhook[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.statusCode = status();
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, listenOn.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: listenOn.url(port, '/hooks/bookings'),
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Volume for the statement-count tests: `perRoom` confirmed bookings of the week of 2027-03-01 in every room, on
 * different days, each for the next project of `projects` in turn. Written as rows (no saga) because only their number
 * matters to what those tests count.
 */
export async function addWeekBookings(
  t: TestHub,
  perRoom: number,
  tag: string,
  projects: readonly { id: string; host_platform_id: string }[],
): Promise<number> {
  const rooms = await t.databases.venues.db.selectFrom('room').select(['room.id']).orderBy('room.id').execute();
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
  for (let offset = 0; offset < rows.length; offset += 500)
    await t.databases.venues.db
      .insertInto('booking')
      .values(rows.slice(offset, offset + 500))
      .execute();
  return rows.length;
}

/**
 * A REMOTE project of Zhumadian (a committee of 7 with one tenderer representative), submitted by `agency` and FILED
 * by its supervisor through the gateway, evaluated over [starts, ends); returns its id.
 */
export async function filedThroughGateway(
  t: TestHub,
  agency: string,
  codePrefix: string,
  { starts, ends }: { starts: Date; ends: Date },
): Promise<string> {
  const submitted = await t.graphql<{ submitProject: { id: string } }>(
    as.agency(agency),
    `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }`,
    {
      input: {
        code: `${codePrefix}-${++counter}-${Math.random().toString(36).slice(2, 7)}`,
        name: '示例道路工程施工',
        category: 'CONSTRUCTION',
        department: 'HOUSING_AND_CONSTRUCTION',
        hostPlatformId: ZHUMADIAN,
        tenderer: '示例城投公司',
        agency,
        bidders: ['示例路桥公司'],
        budget: '500000000',
        mode: 'REMOTE',
        committeeSize: 7,
        tendererRepresentatives: 1,
        evaluationStartsAt: starts.toISOString(),
        evaluationEndsAt: ends.toISOString(),
      },
    },
  );
  expect(submitted.errors).toBeUndefined();
  const id = submitted.data!.submitProject.id;
  const filed = await t.graphql(
    as.supervisor('HOUSING_AND_CONSTRUCTION'),
    `mutation($id: ID!) { fileProject(projectId: $id, approve: true, note: "资料齐全") { status } }`,
    { id },
  );
  expect(filed.errors).toBeUndefined();
  return id;
}
