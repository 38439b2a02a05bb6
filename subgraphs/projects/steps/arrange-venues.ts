// Step 3 of the workflow, 副场选择: the host's operator picks the main room and partner rooms; every rule is checked
// before anything is written, then the project moves to VENUES_ARRANGING and the booking saga (jobs/venue-bookings.ts)
// starts from an outbox message written in the same transaction.
import { actorOf, requirePlatform, requireRole } from '../../../lib/authz';
import { randomIds, type IdGenerator } from '../../../lib/clock';
import { badInput, conflict, notFound } from '../../../lib/errors';
import type { Identity } from '../../../lib/identity';
import { arrangeMessage } from '../../../jobs/venue-bookings';
import type { SeatRequest, VenuesService } from '../../venues/service';
import type { Project, ProjectsService } from '../service';

export interface SeatRequestInput {
  roomId: string;
  seats: number;
}

export interface ArrangeVenuesDependencies {
  projects: ProjectsService;
  venues: VenuesService;
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
  const project = await deps.projects.getProject(args.projectId);
  const host = project.host_platform_id;
  requirePlatform(identity, host, `arrange the venues of project ${project.code}`);
  if (project.status !== 'FILED') throw conflict(`project ${project.code} is ${project.status}; venues are arranged for a FILED project`);

  const requests = await checkSeatRequests(deps.venues, project, args.mainRoomId, args.secondary);
  const window = { from: project.evaluation_starts_at, to: project.evaluation_ends_at };
  // A friendly early refusal; the holds themselves decide under the exclusion constraint.
  const free = await deps.venues.freeSeats([...new Set(requests.map((request) => request.roomId))], window);
  for (const request of requests) {
    const needed = request.seats;
    const available = free.get(request.roomId) ?? 0;
    if (available < needed) {
      throw conflict(`room ${request.roomId} has ${available} free seats over the evaluation window and ${needed} are needed; choose another room${request.role === 'SECONDARY' ? ' or fewer seats' : ''}`);
    }
  }

  const arrangementId = (deps.ids ?? randomIds).next('arr');
  const secondaryText = requests.filter((request) => request.role === 'SECONDARY').map((request) => `${request.roomId}×${request.seats}`);
  return deps.projects.transition(project.id, {
    to: 'VENUES_ARRANGING',
    from: ['FILED'],
    kind: 'VENUES_ARRANGING',
    actor: actorOf(identity),
    detail: `main room ${args.mainRoomId}${secondaryText.length ? `; secondary ${secondaryText.join(', ')}` : ''}`,
    data: { arrangementId, requests: requests.map((request) => ({ ...request })) },
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
  });
}

/** The rules of DOMAIN.md for a venue arrangement, each refusal naming the argument to change. */
async function checkSeatRequests(venues: VenuesService, project: Project, mainRoomId: string, secondary: SeatRequestInput[]): Promise<SeatRequest[]> {
  const host = project.host_platform_id;
  if (project.mode === 'LOCAL' && secondary.length > 0) throw badInput('secondary', 'a LOCAL project books its main room only; pass an empty list');
  if (project.mode === 'REMOTE' && secondary.length === 0) throw badInput('secondary', 'a REMOTE project needs at least one secondary venue at a partner platform');
  if (secondary.length > MAX_SECONDARY_VENUES) throw badInput('secondary', `at most ${MAX_SECONDARY_VENUES} secondary venues`);

  const rooms = new Map((await venues.roomsWithPlatform([mainRoomId, ...secondary.map((request) => request.roomId)])).map((room) => [room.id, room]));
  const main = rooms.get(mainRoomId);
  if (!main) throw notFound('room', mainRoomId);
  if (main.platform_id !== host) throw badInput('mainRoomId', `the main room must be a room of the host platform ${host}; room ${mainRoomId} belongs to ${main.platform_id}`);
  if (!main.video_terminal) throw badInput('mainRoomId', `room ${mainRoomId} has no video terminal; choose a room with one`);

  const requests: SeatRequest[] = [{ roomId: main.id, role: 'MAIN', seats: main.seats }];
  const seen = new Set<string>([main.id]);
  for (const [index, request] of secondary.entries()) {
    const field = `secondary[${index}]`;
    const room = rooms.get(request.roomId);
    if (!room) throw notFound('room', request.roomId);
    if (seen.has(room.id)) throw badInput(`${field}.roomId`, `room ${room.id} is already in this arrangement; list each room once`);
    seen.add(room.id);
    if (room.platform_id === host) throw badInput(`${field}.roomId`, `a secondary venue is at a partner platform; room ${room.id} belongs to the host ${host}`);
    if (!(await venues.agreementBetween(host, room.platform_id))) {
      throw badInput(`${field}.roomId`, `platform ${room.platform_id} has no cooperation agreement with ${host}; choose a room of a partner (Platform.partners)`);
    }
    if (!room.video_terminal) throw badInput(`${field}.roomId`, `room ${room.id} has no video terminal; choose a room with one`);
    if (!Number.isInteger(request.seats) || request.seats < 1) throw badInput(`${field}.seats`, 'must be a whole number of 1 or more');
    if (request.seats > room.seats) throw badInput(`${field}.seats`, `room ${room.id} has ${room.seats} seats; ask for at most that many`);
    requests.push({ roomId: room.id, role: 'SECONDARY', seats: request.seats });
  }
  return requests;
}
