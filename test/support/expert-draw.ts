// Helpers of the expert draw tests: FEE_ADVANCED projects made through the services, with CONFIRMED bookings written
// into the venues schema, the drawExperts mutation, and waits on the draw's progress.
import type { Identity } from '../../lib/identity';
import type { SubmitProjectInput } from '../../subgraphs/projects/rules';
import { as, eventually, inDays, type TestHub } from './hub';

export const DRAW = `mutation($projectId: ID!, $seats: [SeatRequirementInput!]!, $nonce: String) {
  drawExperts(projectId: $projectId, seats: $seats, supervisorNonce: $nonce) { id status expertDraw { id status seedCommitment seed } }
}`;

export const HOST = '411700';
export const OPERATOR: Identity = { sub: 'test-operator', role: 'PLATFORM_OPERATOR', platform: HOST };
export const SUPERVISOR: Identity = { sub: 'test-supervisor', role: 'SUPERVISOR', platform: HOST, department: 'HOUSING_AND_CONSTRUCTION' };
export const AGENCY = '示例招标代理有限公司';

let counter = 0;

export { inDays };

export interface BookingSpec {
  roomId: string;
  role: 'MAIN' | 'SECONDARY';
  seats: number;
}

export interface ProjectSpec {
  mode?: 'LOCAL' | 'REMOTE';
  committeeSize?: number;
  tendererRepresentatives?: number;
  bidders?: string[];
  startsAt?: Date;
  endsAt?: Date;
  bookings: BookingSpec[];
}

/** Submits, files and walks a project to FEE_ADVANCED through ProjectsService, with CONFIRMED bookings of its rooms. */
export async function feeAdvancedProject(t: TestHub, spec: ProjectSpec): Promise<string> {
  const { projects } = t.hub.services;
  const startsAt = spec.startsAt ?? inDays(20, 1);
  const endsAt = spec.endsAt ?? inDays(20, 9);
  const input: SubmitProjectInput = {
    code: `ED-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 6)}`,
    name: '示例道路改造工程施工',
    category: 'CONSTRUCTION',
    department: 'HOUSING_AND_CONSTRUCTION',
    hostPlatformId: HOST,
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
  const project = await projects.submitProject(OPERATOR, input);
  await projects.fileProject(SUPERVISOR, project.id, true, null);
  for (const to of ['VENUES_ARRANGING', 'VENUES_CONFIRMED', 'FEE_ADVANCED'] as const) {
    await projects.transition(project.id, { to, kind: `TEST_${to}`, actor: 'test' });
  }
  for (const [i, booking] of spec.bookings.entries()) {
    await t.databases.venues.db
      .insertInto('booking')
      .values({
        id: `bk-${project.id}-${i}`,
        arrangement_id: `arr-${project.id}`,
        room_id: booking.roomId,
        project_id: project.id,
        host_platform_id: HOST,
        role: booking.role,
        seats: booking.seats,
        starts_at: startsAt,
        ends_at: endsAt,
        status: 'CONFIRMED',
        hold_expires_at: null,
        reason: null,
      })
      .execute();
  }
  return project.id;
}

export async function projectStatus(t: TestHub, projectId: string): Promise<string> {
  const row = await t.databases.projects.db.selectFrom('project').select('status').where('id', '=', projectId).executeTakeFirstOrThrow();
  return row.status;
}

/** Waits until the project's latest draw has invited every seat (or failed); returns the draw. */
export async function drawSettled(t: TestHub, projectId: string, timeoutMs = 20_000) {
  return eventually(
    async () => {
      const latest = await t.databases.experts.db.selectFrom('draw').select('id').where('project_id', '=', projectId).orderBy('requested_at', 'desc').executeTakeFirst();
      if (!latest) return undefined;
      const pending = await t.databases.experts.db.selectFrom('committee_seat').select('id').where('draw_id', '=', latest.id).where('invited_at', 'is', null).where('live', '=', true).execute();
      const seats = await t.databases.experts.db.selectFrom('committee_seat').select('id').where('draw_id', '=', latest.id).execute();
      // Read after its seats: a draw that failed meanwhile withdrew them in the same transaction, and must not pass for seated.
      const draw = await t.databases.experts.db.selectFrom('draw').selectAll().where('id', '=', latest.id).executeTakeFirstOrThrow();
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
  return t.databases.experts.db.selectFrom('committee_seat').selectAll().where('draw_id', '=', drawId).orderBy('created_at').orderBy('id').execute();
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

export const operator = as.operator(HOST);

let inputs = 0;

/**
 * A valid SubmitProjectInput (GraphQL variables) of a LOCAL project of HOST and AGENCY a month from now, with a code
 * unique to the run; `overrides` replace fields.
 */
export function projectInput(codePrefix: string, name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
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
