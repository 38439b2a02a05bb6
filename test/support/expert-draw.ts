// Helpers of the expert draw tests: FEE_ADVANCED projects made through the services and the booking saga, the
// drawExperts mutation, and waits on the draw's progress.
import { sql } from 'kysely';
import type { Identity } from '../../lib/identity';
import type { SubmitProjectInput } from '../../subgraphs/projects/rules';
import { arrangeVenues, recordArrangement } from '../../subgraphs/projects/steps/arrange-venues';
import { advanceEvaluationFee } from '../../subgraphs/projects/steps/fee-advance';
import type { SeatRequest } from '../../subgraphs/venues';
import { as, eventually, inDays, type TestHub } from './hub';

export const DRAW = `mutation($projectId: ID!, $seats: [SeatRequirementInput!]!, $nonce: String) {
  drawExperts(projectId: $projectId, seats: $seats, supervisorNonce: $nonce) { id status expertDraw { id status seedCommitment seed } }
}`;

export const HOST = '411700';
export const OPERATOR: Identity = { sub: 'test-operator', role: 'PLATFORM_OPERATOR', platform: HOST };
export const SUPERVISOR: Identity = {
  sub: 'test-supervisor',
  role: 'SUPERVISOR',
  platform: HOST,
  department: 'HOUSING_AND_CONSTRUCTION',
};
export const AGENCY = '示例招标代理有限公司';

let counter = 0;

export { inDays };

export interface BookingSpec {
  roomId: string;
  role: 'MAIN' | 'SECONDARY';
  seats: number;
}

export interface ProjectSpec {
  /** The host platform (default HOST); its operator submits, arranges and pays. */
  host?: string;
  mode?: 'LOCAL' | 'REMOTE';
  committeeSize?: number;
  tendererRepresentatives?: number;
  bidders?: string[];
  startsAt?: Date;
  endsAt?: Date;
  bookings: BookingSpec[];
}

/**
 * Submits, files, arranges and advances the fee of a project through the services, so it reaches FEE_ADVANCED only the
 * way the hub lets it: arrangeVenues checks the rooms (the main room is one of the host's, with a video terminal, and
 * every room has the free seats), the booking saga holds and confirms them, advanceEvaluationFee computes the fee and
 * writes the ledger. A hub with jobs runs the saga in its jobs; without, the saga's steps run here through the venues
 * service. A partner that confirms by hand gets its operator's confirmation.
 */
export async function feeAdvancedProject(t: TestHub, spec: ProjectSpec): Promise<string> {
  const { projects, venues } = t.hub.services;
  const host = spec.host ?? HOST;
  const hostOperator: Identity = { ...OPERATOR, platform: host };
  // Without a window, each project gets a day of its own: a MAIN booking takes every seat of its room.
  const day = 20 + ++counter;
  const startsAt = spec.startsAt ?? inDays(day, 1);
  const endsAt = spec.endsAt ?? inDays(day, 9);
  const input: SubmitProjectInput = {
    code: `ED-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 6)}`,
    name: '示例道路改造工程施工',
    category: 'CONSTRUCTION',
    department: 'HOUSING_AND_CONSTRUCTION',
    hostPlatformId: host,
    tenderer: '示例城市建设投资有限公司',
    agency: AGENCY,
    bidders: spec.bidders ?? ['河南示例路桥建设有限公司', '示例市政工程有限公司'],
    budget: 1_250_000_000n,
    mode: spec.mode ?? 'REMOTE',
    committeeSize: spec.committeeSize ?? 5,
    tendererRepresentatives: spec.tendererRepresentatives ?? 1,
    evaluationStartsAt: startsAt,
    evaluationEndsAt: endsAt,
  };
  const mains = spec.bookings.filter((booking) => booking.role === 'MAIN');
  if (mains.length !== 1)
    throw new Error(`feeAdvancedProject: a project books exactly one MAIN room, not ${mains.length}`);
  const project = await projects.submitProject(hostOperator, input);
  await projects.fileProject({ ...SUPERVISOR, platform: host }, project.id, true, null);
  const secondary = spec.bookings
    .filter((booking) => booking.role === 'SECONDARY')
    .map(({ roomId, seats }) => ({ roomId, seats }));
  await confirmVenues(t, hostOperator, project.id, mains[0].roomId, secondary);
  await advanceEvaluationFee({ projects, venues }, hostOperator, project.id);
  return project.id;
}

/**
 * Takes a FILED project to VENUES_CONFIRMED the hub's way: arrangeVenues by the host's operator, then the booking saga
 * (the hub's jobs, or its steps run here on a hub without jobs), each partner that decides by hand confirming.
 */
export async function confirmVenues(
  t: TestHub,
  hostOperator: Identity,
  projectId: string,
  mainRoomId: string,
  secondary: { roomId: string; seats: number }[],
): Promise<void> {
  const { projects, venues } = t.hub.services;
  await arrangeVenues({ projects, venues }, hostOperator, { projectId, mainRoomId, secondary });
  if (t.hub.jobs) {
    await confirmHeldBookings(t, projectId);
  } else {
    await runBookingSaga(t, projectId);
  }
  const arranged = await projectStatus(t, projectId);
  if (arranged !== 'VENUES_CONFIRMED')
    throw new Error(`confirmVenues: the venues of ${projectId} were not confirmed; it is ${arranged}`);
}

/** Each partner that confirms by hand confirms the project's HELD bookings, until the jobs' saga has decided. */
async function confirmHeldBookings(t: TestHub, projectId: string): Promise<void> {
  const { venues } = t.hub.services;
  const confirmed = new Set<string>();
  await eventually(
    async () => {
      const status = await projectStatus(t, projectId);
      if (status !== 'VENUES_ARRANGING') return status;
      for (const booking of await venues.bookingsOfProjects([projectId])) {
        if (booking.status !== 'HELD' || confirmed.has(booking.id)) continue;
        const [room] = await venues.roomsWithPlatform([booking.room_id]);
        await venues.confirmBooking(
          { sub: 'test-partner', role: 'PLATFORM_OPERATOR', platform: room.platform_id },
          booking.id,
        );
        confirmed.add(booking.id);
      }
      return undefined;
    },
    30_000,
    `the bookings of ${projectId} to be decided`,
  );
}

/**
 * The steps of the 'arrange' and 'settle' jobs (jobs/venue-bookings.ts) for a hub without jobs: the arrangement that
 * arrangeVenues started, held, confirmed by each partner that decides by hand, concluded, and reported to the project.
 */
async function runBookingSaga(t: TestHub, projectId: string): Promise<void> {
  const { projects, venues } = t.hub.services;
  const arranging = (await projects.eventsOfProjects([projectId]))
    .filter((event) => event.kind === 'VENUES_ARRANGING')
    .at(-1);
  const data = arranging?.data as { arrangementId: string; requests: SeatRequest[] } | undefined;
  if (!data) throw new Error(`runBookingSaga: project ${projectId} has no arrangement in progress`);
  const project = await projects.getProject(projectId);
  await venues.openArrangement({
    id: data.arrangementId,
    projectId,
    hostPlatformId: project.host_platform_id,
    window: { from: project.evaluation_starts_at, to: project.evaluation_ends_at },
    holdExpiresAt: new Date(venues.clock.now().getTime() + t.config.HOLD_TTL),
    requests: data.requests,
  });
  let { arrangement } = await venues.holdArrangement(data.arrangementId);
  if (arrangement.status === 'PENDING') {
    for (const booking of await venues.bookingsOfProjects([projectId])) {
      if (booking.status !== 'HELD') continue;
      const [room] = await venues.roomsWithPlatform([booking.room_id]);
      await venues.confirmBooking(
        { sub: 'test-partner', role: 'PLATFORM_OPERATOR', platform: room.platform_id },
        booking.id,
      );
    }
    ({ arrangement } = await venues.concludeArrangement(data.arrangementId, { final: false }));
  }
  if (arrangement.status === 'PENDING')
    throw new Error(`runBookingSaga: arrangement ${arrangement.id} is still PENDING after every partner confirmed`);
  await recordArrangement(projects, {
    projectId,
    arrangementId: arrangement.id,
    actor: 'test',
    events: [],
    decision: { status: arrangement.status, reason: arrangement.reason },
  });
  if (arrangement.status !== 'CONFIRMED')
    throw new Error(`runBookingSaga: arrangement ${arrangement.id} failed: ${arrangement.reason}`);
}

export async function projectStatus(t: TestHub, projectId: string): Promise<string> {
  const row = await t.databases.projects.db
    .selectFrom('project')
    .select('status')
    .where('id', '=', projectId)
    .executeTakeFirstOrThrow();
  return row.status;
}

/** Waits until the project's latest draw has invited every seat (or failed); returns the draw. */
export async function drawSettled(t: TestHub, projectId: string, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const latest = await t.databases.experts.db
        .selectFrom('draw')
        .select('id')
        .where('project_id', '=', projectId)
        .orderBy('requested_at', 'desc')
        .executeTakeFirst();
      if (!latest) return undefined;
      const pending = await t.databases.experts.db
        .selectFrom('committee_seat')
        .select('id')
        .where('draw_id', '=', latest.id)
        .where('invited_at', 'is', null)
        .where('live', '=', true)
        .execute();
      const seats = await t.databases.experts.db
        .selectFrom('committee_seat')
        .select('id')
        .where('draw_id', '=', latest.id)
        .execute();
      // Read after its seats: a draw that failed meanwhile withdrew them in the same transaction, and must not pass for seated.
      const draw = await t.databases.experts.db
        .selectFrom('draw')
        .selectAll()
        .where('id', '=', latest.id)
        .executeTakeFirstOrThrow();
      if (draw.status === 'FAILED') {
        return (await projectStatus(t, projectId)) === 'FEE_ADVANCED' ? draw : undefined;
      }
      return seats.length > 0 && pending.length === 0 ? draw : undefined;
    },
    timeoutMs,
    `the draw of ${projectId} to settle`,
  );
}

export function seatsOf(t: TestHub, drawId: string) {
  return t.databases.experts.db
    .selectFrom('committee_seat')
    .selectAll()
    .where('draw_id', '=', drawId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** A room of the host platform with at least `seats` seats, and rooms of another city. */
export async function roomsOf(t: TestHub, platformId: string) {
  return t.databases.venues.db
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .select(['room.id', 'room.seats'])
    .where('venue.platform_id', '=', platformId)
    .orderBy('room.id')
    .execute();
}

/**
 * Rooms that can be a main room (a video terminal) and seat `minSeats`, of every platform, each with its platform: tests
 * that need many projects at once, each with a room of its own, spread them over these (a MAIN booking takes every
 * seat of its room, so two projects never share a room over overlapping windows).
 */
export function mainRooms(t: TestHub, minSeats: number) {
  return t.databases.venues.db
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .select(['room.id', 'room.seats', 'venue.platform_id'])
    .where('room.video_terminal', '=', true)
    .where('room.seats', '>=', minSeats)
    .orderBy('room.id')
    .execute();
}

export const operator = as.operator(HOST);

let inputs = 0;

/**
 * A valid SubmitProjectInput (GraphQL variables) of a LOCAL project of HOST and AGENCY a month from now, with a code
 * unique to the run; `overrides` replace fields.
 */
export function projectInput(
  codePrefix: string,
  name: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    code: `${codePrefix}-${process.pid}-${++inputs}`,
    name,
    category: 'CONSTRUCTION',
    department: 'HOUSING_AND_CONSTRUCTION',
    hostPlatformId: HOST,
    tenderer: '示例城市建设投资有限公司',
    agency: AGENCY,
    bidders: ['河南示例路桥建设有限公司'],
    budget: '100000000',
    mode: 'LOCAL',
    committeeSize: 5,
    tendererRepresentatives: 1,
    evaluationStartsAt: inDays(30, 1).toISOString(),
    evaluationEndsAt: inDays(30, 9).toISOString(),
    ...overrides,
  };
}

/**
 * `experts` take `specialty`, and a LOCAL project of HOST (a room of 5 seats or more) draws four of them: the project,
 * its PENDING draw and the draw's seats.
 */
export async function drawFourOf(t: TestHub, experts: readonly string[], specialty: string) {
  await t.databases.experts.db
    .updateTable('expert')
    .set({ specialties: sql<string[]>`specialties || ${[specialty]}::text[]` })
    .where('id', 'in', [...experts])
    .execute();
  return drawFour(t, specialty);
}

/** A LOCAL project of HOST (a room of 5 seats or more) draws four experts of `specialty`: the project, its PENDING draw and the draw's seats. */
export async function drawFour(t: TestHub, specialty: string) {
  const [room] = (await roomsOf(t, HOST)).filter((candidate) => candidate.seats >= 5);
  const projectId = await feeAdvancedProject(t, {
    mode: 'LOCAL',
    bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
  });
  const drawn = await t.graphql(as.operator(HOST), DRAW, {
    projectId,
    seats: [{ roomId: room.id, specialty, count: 4 }],
  });
  expect(drawn.errors).toBeUndefined();
  const draw = await drawSettled(t, projectId);
  expect(draw.status).toBe('PENDING');
  return { projectId, draw, seats: await seatsOf(t, draw.id) };
}
