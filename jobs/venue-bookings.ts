// The secondary-venue booking saga (副场选择): holds every room of an arrangement, waits for each partner's answer,
// then confirms all of it or releases all of it.
//
// arrangeVenues writes an 'arrange' outbox message with the project's state change. The 'arrange' job records the
// arrangement and adds a BullMQ flow: one 'hold' child per room and a parent 'decide' that runs once every hold has
// answered (a hold that fails for good is ignored as a dependency, and 'decide' counts its missing booking as a
// failure). A delayed 'expire' job fires at holdExpiresAt; a partner's confirmBooking/rejectBooking writes a 'settle'
// message; a 'sweep-holds' scheduler settles whatever is overdue should any of those be lost. Every one of them ends
// in VenuesService.concludeArrangement, which decides an arrangement once, under its row lock: never a mix.
import type { Job } from 'bullmq';
import type { Json } from '../lib/canonical-json';
import type { HubConfig } from '../lib/config';
import { codeOf } from '../lib/errors';
import type { OutboxMessage } from '../lib/outbox';
import type { Arrangement, Booking, SeatRequest } from '../subgraphs/venues/service';
import type { JobServices } from './handlers';
import { DEFAULT_JOB_OPTIONS } from './queues';
import type { JobHandler, JobSchedule, JobTools } from './runtime';

export const VENUE_BOOKINGS_QUEUE = 'venue-bookings';
const ACTOR = 'system:venue-bookings';
export const SWEEP_HOLDS_JOB = 'sweep-holds';

/** What arrangeVenues hands the saga, through the projects outbox. */
export interface ArrangeMessage {
  arrangementId: string;
  projectId: string;
  hostPlatformId: string;
  startsAt: string;
  endsAt: string;
  requests: SeatRequest[];
}

export function arrangeMessage(message: ArrangeMessage): OutboxMessage {
  return { queue: VENUE_BOOKINGS_QUEUE, name: 'arrange', data: { ...message } };
}

/** Job ids derived from the arrangement id, so a job added twice (a replayed 'arrange') is one job. */
export const sagaJobIds = {
  decide: (arrangementId: string) => `decide-${arrangementId}`,
  hold: (arrangementId: string, index: number) => `hold-${arrangementId}-${index}`,
  expire: (arrangementId: string) => `expire-${arrangementId}`,
};

export function venueBookingSchedules(config: HubConfig): JobSchedule[] {
  return [{ queue: VENUE_BOOKINGS_QUEUE, id: SWEEP_HOLDS_JOB, everyMs: config.HOLD_SWEEP_INTERVAL }];
}

export function createVenueBookingHandlers(services: JobServices): Record<string, JobHandler> {
  return {
    arrange: (job, tools) => startArrangement(services, tools, job.data as ArrangeMessage),
    hold: (job: Job<{ arrangementId: string; index: number }>) => holdOne(services, job.data.arrangementId, job.data.index),
    // Every hold has answered: a hold never made now counts as failed.
    decide: (job: Job<{ arrangementId: string }>) => settleArrangement(services, job.data.arrangementId, { final: true }),
    expire: (job: Job<{ arrangementId: string }>) => settleArrangement(services, job.data.arrangementId, { final: false }),
    settle: (job: Job<PartnerDecision>) => settlePartnerDecision(services, job.data),
    [SWEEP_HOLDS_JOB]: () => sweepOverdueHolds(services),
  };
}

async function startArrangement(services: JobServices, tools: JobTools, message: ArrangeMessage): Promise<string> {
  const arrangement = await services.venues.openArrangement({
    id: message.arrangementId,
    projectId: message.projectId,
    hostPlatformId: message.hostPlatformId,
    window: { from: new Date(message.startsAt), to: new Date(message.endsAt) },
    holdExpiresAt: new Date(Date.now() + services.config.HOLD_TTL),
    requests: message.requests,
  });
  if (arrangement.status !== 'PENDING') return arrangement.status;
  // This job may run after the project's cancellation job (a retry, or a dead worker's job taken over), whose release
  // found no arrangement to close. Opened first and checked after: either that release sees this arrangement, or this
  // check sees the cancellation and closes it before any hold.
  const [project] = await services.projects.projectsByIds([message.projectId]);
  if (project?.status === 'CANCELLED') {
    await services.venues.releaseProjectBookings(message.projectId, 'the arrangement started after the cancellation');
    return 'FAILED';
  }
  const queue = tools.queues[VENUE_BOOKINGS_QUEUE];
  const id = arrangement.id;
  await queue.add('expire', { arrangementId: id }, { jobId: sagaJobIds.expire(id), delay: Math.max(0, arrangement.hold_expires_at.getTime() - Date.now()) });
  if (!(await queue.getJob(sagaJobIds.decide(id)))) {
    await tools.flows.add(
      {
        name: 'decide',
        queueName: VENUE_BOOKINGS_QUEUE,
        data: { arrangementId: id },
        opts: { jobId: sagaJobIds.decide(id) },
        children: arrangement.requests.map((_request, index) => ({
          name: 'hold',
          queueName: VENUE_BOOKINGS_QUEUE,
          data: { arrangementId: id, index },
          opts: { jobId: sagaJobIds.hold(id, index), ignoreDependencyOnFailure: true },
        })),
      },
      { queuesOptions: { [VENUE_BOOKINGS_QUEUE]: { defaultJobOptions: DEFAULT_JOB_OPTIONS } } },
    );
  }
  return 'PENDING';
}

async function holdOne(services: JobServices, arrangementId: string, index: number): Promise<{ bookingId?: string; status: string }> {
  const { venues } = services;
  let outcome;
  try {
    outcome = await venues.holdSeats(arrangementId, index);
  } catch (error) {
    if (codeOf(error) !== 'CONFLICT') throw error;
    const failed = await venues.recordFailedHold(arrangementId, index, error instanceof Error ? error.message : String(error));
    await recordBooking(services, failed, 'VENUE_HOLD_FAILED', ACTOR);
    return { bookingId: failed.id, status: failed.status };
  }
  if (outcome.kind === 'closed') return { status: `arrangement ${outcome.arrangement.status}` };
  let booking = outcome.booking;
  await recordBooking(services, booking, 'VENUE_HELD', ACTOR);
  if (!outcome.needsDecision && booking.status === 'HELD') {
    try {
      booking = await venues.autoConfirmBooking(booking.id);
    } catch (error) {
      // Expired or released in the meantime: the arrangement's settlement takes it from here.
      if (codeOf(error) !== 'CONFLICT') throw error;
      return { bookingId: booking.id, status: 'HELD' };
    }
  }
  if (booking.status === 'CONFIRMED' && !outcome.needsDecision) await recordBooking(services, booking, 'VENUE_CONFIRMED', 'system:auto-confirm');
  return { bookingId: booking.id, status: booking.status };
}

interface PartnerDecision {
  arrangementId: string;
  bookingId: string;
  decision: 'CONFIRMED' | 'REJECTED';
  actor: string;
  reason: string | null;
}

async function settlePartnerDecision(services: JobServices, decision: PartnerDecision): Promise<string> {
  const [booking] = await services.venues.bookingsByIds([decision.bookingId]);
  if (booking) await recordBooking(services, { ...booking, reason: decision.reason }, decision.decision === 'CONFIRMED' ? 'VENUE_CONFIRMED' : 'VENUE_REJECTED', decision.actor);
  return settleArrangement(services, decision.arrangementId, { final: false });
}

async function sweepOverdueHolds(services: JobServices): Promise<number> {
  const overdue = await services.venues.overdueArrangements();
  for (const id of overdue) await settleArrangement(services, id, { final: true });
  return overdue.length;
}

/**
 * Decides the arrangement if it can be, then records what happened to each booking and moves the project: every
 * booking CONFIRMED → VENUES_CONFIRMED; otherwise every hold released and the project back to FILED with the reason.
 * Running it again (any job, any number of times) finds the arrangement decided and only completes what is missing.
 */
export async function settleArrangement(services: JobServices, arrangementId: string, options: { final: boolean }): Promise<string> {
  const { arrangement } = await services.venues.concludeArrangement(arrangementId, options);
  if (arrangement.status === 'PENDING') return 'PENDING';
  for (const booking of await services.venues.bookingsOfArrangement(arrangementId)) {
    if (booking.status === 'EXPIRED' || booking.status === 'RELEASED') await recordBooking(services, booking, `VENUE_${booking.status}`, ACTOR);
  }
  await moveProject(services, arrangement);
  return arrangement.status;
}

async function moveProject(services: JobServices, arrangement: Arrangement): Promise<void> {
  const { projects } = services;
  // A project that was cancelled, or has since started another arrangement, is not this arrangement's to move.
  const [project] = await projects.projectsByIds([arrangement.project_id]);
  if (project?.status !== 'VENUES_ARRANGING') return;
  const events = await projects.eventsOfProjects([arrangement.project_id]);
  const started = events.filter((event) => event.kind === 'VENUES_ARRANGING').pop();
  if ((started?.data as { arrangementId?: string } | null)?.arrangementId !== arrangement.id) return;
  const confirmed = arrangement.status === 'CONFIRMED';
  try {
    await projects.transition(arrangement.project_id, {
      to: confirmed ? 'VENUES_CONFIRMED' : 'FILED',
      from: ['VENUES_ARRANGING'],
      kind: confirmed ? 'VENUES_CONFIRMED' : 'VENUES_ARRANGEMENT_FAILED',
      actor: ACTOR,
      detail: confirmed ? 'every venue booking confirmed' : `venue arrangement failed, every hold released: ${arrangement.reason}`,
      data: { arrangementId: arrangement.id },
      key: `arrangement-${arrangement.status.toLowerCase()}:${arrangement.id}`,
    });
  } catch (error) {
    // Another run moved it first, or the project was cancelled in between.
    if (codeOf(error) !== 'CONFLICT') throw error;
  }
}

/** One timeline event per booking and status, keyed so that replays record it once. */
async function recordBooking(services: JobServices, booking: Booking, kind: string, actor: string): Promise<void> {
  const data: { [key: string]: Json } = { bookingId: booking.id, roomId: booking.room_id, role: booking.role, seats: booking.seats, status: booking.status };
  const what = `${booking.role === 'MAIN' ? 'main room' : `${booking.seats} seats at room`} ${booking.room_id}`;
  const detail = booking.reason ? `${what}: ${booking.reason}` : what;
  try {
    await services.projects.appendEvent(booking.project_id, { kind, actor, detail, data, key: `${kind.toLowerCase()}:${booking.id}` });
  } catch (error) {
    // An archived project takes no more events; the booking's own row still says what happened.
    if (codeOf(error) !== 'CONFLICT') throw error;
  }
}
