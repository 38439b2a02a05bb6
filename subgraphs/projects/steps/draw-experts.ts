// Step 5 of the workflow, 专家抽取: the host's operator says how many experts of which specialty sit in which booked
// room; the hub commits to a seed at once and a job draws the committee (jobs/expert-draws.ts).
import { actorOf, requirePlatform, requireRole } from '../../../lib/authz';
import { badInput, conflict } from '../../../lib/errors';
import type { Identity } from '../../../lib/identity';
import { JOBS, jobMessage } from '../../../jobs/catalogue';
import type { BookingDesk, DrawDesk } from '../desks';
import type { Project, ProjectsService } from '../service';

export interface DrawExpertsDependencies {
  projects: ProjectsService;
  venues: BookingDesk;
  experts: DrawDesk;
}

export interface SeatRequirementInput {
  roomId: string;
  specialty: string;
  count: number;
}

const MAX_NONCE_LENGTH = 200;

/**
 * Requests the draw of a FEE_ADVANCED project's experts: checks the seats against the committee and the confirmed
 * bookings, creates the draw (its seed commitment readable at once) and moves the project to EXPERTS_DRAWING with the
 * draw job in its outbox. If the project cannot move, the draw is marked FAILED.
 *
 * ```ts
 * const project = await drawExperts({ projects, venues, experts }, operator, 'prj_…', [{ roomId: 'room-411700-1', specialty: 'LEGAL', count: 4 }], null);
 * ```
 */
export async function drawExperts(
  deps: DrawExpertsDependencies,
  identity: Identity,
  projectId: string,
  seats: readonly SeatRequirementInput[],
  supervisorNonce: string | null,
): Promise<Project> {
  requireRole(identity, ['PLATFORM_OPERATOR'], 'draw experts');
  const project = await deps.projects.getProject(projectId);
  requirePlatform(identity, project.host_platform_id, `draw the experts of project ${project.id}`);
  if (project.status !== 'FEE_ADVANCED')
    throw conflict(
      `project ${project.code} is ${project.status}; experts are drawn once its evaluation fee is advanced (FEE_ADVANCED)`,
    );
  const nonce = supervisorNonce?.trim() || null;
  if (nonce && nonce.length > MAX_NONCE_LENGTH)
    throw badInput('supervisorNonce', `must be at most ${MAX_NONCE_LENGTH} characters`);

  const bookings = (await deps.venues.bookingsOfProjects([project.id])).filter(
    (booking) => booking.status === 'CONFIRMED',
  );
  const bookingOfRoom = new Map(bookings.map((booking) => [booking.room_id, booking]));
  const rooms = new Map(
    (await deps.venues.roomsWithPlatform([...bookingOfRoom.keys()])).map((room) => [room.id, room]),
  );
  const expertSeats = project.committee_size - project.tenderer_representatives;
  if (seats.length === 0) throw badInput('seats', `list the rooms and specialties of the ${expertSeats} expert seats`);

  const seen = new Set<string>();
  const perRoom = new Map<string, number>();
  const groups = seats.map((requirement, i) => {
    const field = `seats[${i}]`;
    const booking = bookingOfRoom.get(requirement.roomId);
    const room = rooms.get(requirement.roomId);
    if (!booking || !room) {
      throw badInput(
        `${field}.roomId`,
        `room ${requirement.roomId} holds no confirmed booking of project ${project.code}; use one of ${[...bookingOfRoom.keys()].join(', ') || '(none: arrange the venues first)'}`,
      );
    }
    const specialty = requirement.specialty.trim();
    if (!specialty || specialty.length > 100)
      throw badInput(`${field}.specialty`, 'name a specialty of the pool, e.g. CIVIL_ENGINEERING');
    if (!Number.isInteger(requirement.count) || requirement.count < 1)
      throw badInput(`${field}.count`, 'must be a whole number of at least 1');
    const key = `${requirement.roomId}/${specialty}`;
    if (seen.has(key))
      throw badInput(
        field,
        `room ${requirement.roomId} and specialty ${specialty} are listed twice; give their seats in one entry`,
      );
    seen.add(key);
    const inRoom = (perRoom.get(requirement.roomId) ?? 0) + requirement.count;
    perRoom.set(requirement.roomId, inRoom);
    // A MAIN booking takes the whole room, and the tenderer's representatives sit there too.
    const capacity = booking.role === 'MAIN' ? booking.seats - project.tenderer_representatives : booking.seats;
    if (inRoom > capacity) {
      throw badInput(
        `${field}.count`,
        `room ${requirement.roomId} seats ${capacity} expert(s) for this project${booking.role === 'MAIN' ? ` (its ${booking.seats} seats less ${project.tenderer_representatives} tenderer representative(s))` : ''}; ${inRoom} asked`,
      );
    }
    return {
      bookingId: booking.id,
      roomId: room.id,
      platformId: room.platform_id,
      role: booking.role,
      specialty,
      seats: requirement.count,
    };
  });
  const total = groups.reduce((sum, group) => sum + group.seats, 0);
  if (total !== expertSeats) {
    throw badInput(
      'seats',
      `the counts add up to ${total}; they must add up to committeeSize - tendererRepresentatives = ${project.committee_size} - ${project.tenderer_representatives} = ${expertSeats}`,
    );
  }

  const [host] = await deps.venues.platformsByIds([project.host_platform_id]);
  const draw = await deps.experts.requestDraw({
    projectId: project.id,
    hostPlatformId: project.host_platform_id,
    hostParentId: host?.parent_id ?? null,
    department: project.department,
    mode: project.mode,
    startsAt: project.evaluation_starts_at,
    endsAt: project.evaluation_ends_at,
    supervisorNonce: nonce,
    groups,
  });
  try {
    return await deps.projects.transition(project.id, {
      to: 'EXPERTS_DRAWING',
      from: ['FEE_ADVANCED'],
      kind: 'EXPERT_DRAW_REQUESTED',
      actor: actorOf(identity),
      detail: `draw ${draw.id} of ${expertSeats} expert(s); seed commitment sha256 ${draw.seed_commitment}`,
      data: {
        drawId: draw.id,
        seedCommitment: draw.seed_commitment,
        supervisorNonce: nonce,
        seats: groups.map((group) => ({ roomId: group.roomId, specialty: group.specialty, count: group.seats })),
      },
      outbox: [jobMessage(JOBS.draw, { drawId: draw.id, projectId: project.id })],
    });
  } catch (error) {
    await deps.experts.failDraw(
      draw.id,
      `the project could not start drawing: ${error instanceof Error ? error.message : String(error)}`,
    );
    throw error;
  }
}
