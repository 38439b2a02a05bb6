// Step 3 of the workflow, 副场选择: the host's operator picks the main room and partner rooms; every rule is checked
// before anything is written, then the project moves to VENUES_ARRANGING and the booking saga (jobs/venue-bookings.ts)
// starts from an outbox message written in the same transaction. The saga reports back through recordArrangement.
import { actorOf, requirePlatform, requireRole } from '../../../lib/authz';
import { randomIds, type IdGenerator } from '../../../lib/clock';
import { badInput, conflict, notFound } from '../../../lib/errors';
import type { Identity } from '../../../lib/identity';
import type { Transaction } from 'kysely';
import { arrangeMessage, type ArrangeSeatRequest } from '../../../jobs/catalogue';
import type { ArrangementRoomFacts, BookingDesk, BookingWindow } from '../desks';
import type { NewEvent, Project, ProjectsService, TransitionRequest } from '../service';
import type { ProjectsDatabase } from '../types';

export interface SeatRequestInput {
  roomId: string;
  seats: number;
}

export interface ArrangeVenuesDependencies {
  projects: ProjectsService;
  venues: BookingDesk;
  ids?: IdGenerator;
}

/** More partner rooms than this is a typing mistake, not an evaluation. */
export const MAX_SECONDARY_VENUES = 20;

/**
 * Starts arranging a FILED project's venues: a MAIN booking of `mainRoomId` (all its seats) and SECONDARY seat
 * bookings at partner rooms, all for the project's evaluation window. Returns the project VENUES_ARRANGING at once.
 *
 * ```ts
 * await arrangeVenues({ projects, venues }, operator, { projectId, mainRoomId: 'room-411700-1', secondary: [{ roomId: 'room-411721-1', seats: 2 }] });
 * ```
 */
export async function arrangeVenues(
  deps: ArrangeVenuesDependencies,
  identity: Identity,
  args: { projectId: string; mainRoomId: string; secondary: SeatRequestInput[] },
): Promise<Project> {
  requireRole(identity, ['PLATFORM_OPERATOR'], "arrange a project's venues");
  // Checked under the project's lock, which the state change then keeps: the project is read once.
  return deps.projects.inTransaction(async (trx) => {
    const project = await deps.projects.lockIn(trx, args.projectId);
    const host = project.host_platform_id;
    requirePlatform(identity, host, `arrange the venues of project ${project.id}`);
    if (project.status !== 'FILED')
      throw conflict(`project ${project.code} is ${project.status}; venues are arranged for a FILED project`);

    const window = { from: project.evaluation_starts_at, to: project.evaluation_ends_at };
    const { requests, rooms } = await checkSeatRequests(deps.venues, project, window, args.mainRoomId, args.secondary);
    // A friendly early refusal; the holds themselves decide under the exclusion constraint.
    for (const request of requests) {
      const needed = request.seats;
      const available = rooms.get(request.roomId)?.free ?? 0;
      if (available < needed) {
        throw conflict(
          `room ${request.roomId} has ${available} free seats over the evaluation window and ${needed} are needed; choose another room${request.role === 'SECONDARY' ? ' or fewer seats' : ''}`,
        );
      }
    }

    const arrangementId = (deps.ids ?? randomIds).next('arr');
    const secondaryText = requests
      .filter((request) => request.role === 'SECONDARY')
      .map((request) => `${request.roomId}×${request.seats}`);
    const arranging: TransitionRequest = {
      to: 'VENUES_ARRANGING',
      from: ['FILED'],
      kind: 'VENUES_ARRANGING',
      actor: actorOf(identity),
      detail: `main room ${args.mainRoomId}${secondaryText.length ? `; secondary ${secondaryText.join(', ')}` : ''}`,
      data: { arrangementId, requests: requests.map((seatRequest) => ({ ...seatRequest })) },
      outbox: [
        arrangeMessage({
          arrangementId,
          projectId: project.id,
          hostPlatformId: host,
          startsAt: window.from.toISOString(),
          endsAt: window.to.toISOString(),
          requests,
        }),
      ],
    };
    return deps.projects.transitionIn(trx, project.id, arranging, project);
  });
}

/** The rules of DOMAIN.md for a venue arrangement, each refusal naming the argument to change. */
async function checkSeatRequests(
  venues: BookingDesk,
  project: Project,
  window: BookingWindow,
  mainRoomId: string,
  secondary: SeatRequestInput[],
): Promise<{ requests: ArrangeSeatRequest[]; rooms: Map<string, ArrangementRoomFacts> }> {
  const host = project.host_platform_id;
  if (project.mode === 'LOCAL' && secondary.length > 0)
    throw badInput('secondary', 'a LOCAL project books its main room only; pass an empty list');
  if (project.mode === 'REMOTE' && secondary.length === 0)
    throw badInput('secondary', 'a REMOTE project needs at least one secondary venue at a partner platform');
  if (secondary.length > MAX_SECONDARY_VENUES)
    throw badInput('secondary', `at most ${MAX_SECONDARY_VENUES} secondary venues`);

  const rooms = new Map(
    (await venues.roomsForArrangement(host, [mainRoomId, ...secondary.map((request) => request.roomId)], window)).map(
      (room) => [room.id, room],
    ),
  );
  const main = rooms.get(mainRoomId);
  if (!main) throw notFound('room', mainRoomId);
  if (main.platform_id !== host)
    throw badInput(
      'mainRoomId',
      `the main room must be a room of the host platform ${host}; room ${mainRoomId} belongs to ${main.platform_id}`,
    );
  if (!main.video_terminal)
    throw badInput('mainRoomId', `room ${mainRoomId} has no video terminal; choose a room with one`);

  const requests: ArrangeSeatRequest[] = [{ roomId: main.id, role: 'MAIN', seats: main.seats }];
  const seen = new Set<string>([main.id]);
  for (const [index, request] of secondary.entries()) {
    const field = `secondary[${index}]`;
    const room = rooms.get(request.roomId);
    if (!room) throw notFound('room', request.roomId);
    if (seen.has(room.id))
      throw badInput(`${field}.roomId`, `room ${room.id} is already in this arrangement; list each room once`);
    seen.add(room.id);
    if (room.platform_id === host)
      throw badInput(
        `${field}.roomId`,
        `a secondary venue is at a partner platform; room ${room.id} belongs to the host ${host}`,
      );
    if (!room.partner) {
      throw badInput(
        `${field}.roomId`,
        `platform ${room.platform_id} has no cooperation agreement with ${host}; choose a room of a partner (Platform.partners)`,
      );
    }
    if (!room.video_terminal)
      throw badInput(`${field}.roomId`, `room ${room.id} has no video terminal; choose a room with one`);
    if (!Number.isInteger(request.seats) || request.seats < 1)
      throw badInput(`${field}.seats`, 'must be a whole number of 1 or more');
    if (request.seats > room.seats)
      throw badInput(`${field}.seats`, `room ${room.id} has ${room.seats} seats; ask for at most that many`);
    requests.push({ roomId: room.id, role: 'SECONDARY', seats: request.seats });
  }
  return { requests, rooms };
}

/** What the booking saga reports to the project: what happened to its bookings, and the decision once there is one. */
export interface ArrangementReport {
  projectId: string;
  arrangementId: string;
  actor: string;
  /** What happened to the bookings, in order; keyed, so a report made twice records each once. */
  events: NewEvent[];
  /** Absent while a partner still has to answer. */
  decision?: { status: 'CONFIRMED' | 'FAILED'; reason: string | null };
}

/**
 * Records a report of the booking saga on the project's timeline and, once the arrangement is decided, ends step 3:
 * VENUES_CONFIRMED when every booking is confirmed, back to FILED with the reason otherwise, in one transaction under
 * the project's lock. A project that was cancelled, or has since started another arrangement, only gets the events.
 *
 * ```ts
 * await recordArrangement(projects, { projectId, arrangementId, actor: 'system:venue-bookings', events, decision: { status: 'CONFIRMED', reason: null } });
 * ```
 */
export async function recordArrangement(projects: ProjectsService, report: ArrangementReport): Promise<Project> {
  return projects.inTransaction(async (trx) => {
    const project = await projects.lockIn(trx, report.projectId);
    const { decision } = report;
    if (
      !decision ||
      project.status !== 'VENUES_ARRANGING' ||
      (await arrangementInProgressIn(trx, project.id)) !== report.arrangementId
    ) {
      await projects.appendEventsIn(trx, project.id, report.events, project);
      return project;
    }
    const confirmed = decision.status === 'CONFIRMED';
    const concluding: TransitionRequest = {
      to: confirmed ? 'VENUES_CONFIRMED' : 'FILED',
      from: ['VENUES_ARRANGING'],
      kind: confirmed ? 'VENUES_CONFIRMED' : 'VENUES_ARRANGEMENT_FAILED',
      actor: report.actor,
      detail: confirmed
        ? 'every venue booking confirmed'
        : `venue arrangement failed, every hold released: ${decision.reason}`,
      data: { arrangementId: report.arrangementId },
      key: `arrangement-${decision.status.toLowerCase()}:${report.arrangementId}`,
      events: report.events,
    };
    return projects.transitionIn(trx, project.id, concluding, project);
  });
}

/** The arrangement the project's latest VENUES_ARRANGING event started. */
async function arrangementInProgressIn(
  trx: Transaction<ProjectsDatabase>,
  projectId: string,
): Promise<string | undefined> {
  const started = await trx
    .selectFrom('project_event')
    .select('data')
    .where('project_id', '=', projectId)
    .where('kind', '=', 'VENUES_ARRANGING')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return (started?.data as { arrangementId?: string } | undefined)?.arrangementId;
}
