// The secondary-venue booking saga (副场选择): holds every room of an arrangement, waits for each partner's answer,
// then confirms all of it or releases all of it.
//
// arrangeVenues writes an 'arrange' outbox message with the project's state change. The 'arrange' job records the
// arrangement, then holds every room and decides in one venues transaction (VenuesService.holdArrangement): an
// arrangement nobody has to answer for (the main room, partners that auto-confirm) is decided there and then. A delayed
// 'expire' job fires at holdExpiresAt; a partner's confirmBooking/rejectBooking writes a 'settle' message; a
// 'sweep-holds' scheduler settles whatever is overdue should any of those be lost. Every decision is made by
// VenuesService, once, under the arrangement's row lock: never a mix. Each job then reports to the project
// (recordArrangement): the bookings' events and, once decided, the project's state change, in one projects transaction.
import type { Json } from '../lib/canonical-json';
import type { HubConfig } from '../lib/config';
import { codeOf } from '../lib/errors';
import { recordArrangement, type NewEvent } from '../subgraphs/projects';
import type { Arrangement, Booking } from '../subgraphs/venues';
import type { BookingStatus } from '../subgraphs/venues';
import { JOBS, type ArrangeMessage, type PartnerDecision } from './catalogue';
import type { JobSchedule, JobServices, JobTools, QueueHandlers } from './contracts';

export type { ArrangeMessage } from './catalogue';
export const VENUE_BOOKINGS_QUEUE = JOBS.arrange.queue;
const ACTOR = 'system:venue-bookings';
const AUTO_CONFIRM_ACTOR = 'system:auto-confirm';
export const SWEEP_HOLDS_JOB = JOBS.sweepHolds.name;

/** The expiry job's id derived from the arrangement id, so a replayed 'arrange' adds it once. */
export function expireJobId(arrangementId: string): string {
  return `expire-${arrangementId}`;
}

export function venueBookingSchedules(config: HubConfig): JobSchedule[] {
  return [{ queue: VENUE_BOOKINGS_QUEUE, id: SWEEP_HOLDS_JOB, everyMs: config.HOLD_SWEEP_INTERVAL }];
}

/** The saga's jobs of the venue-bookings queue (the cancellation's job is jobs/cancellation.ts's). */
export function createVenueBookingHandlers(
  services: JobServices,
): Omit<QueueHandlers<'venue-bookings'>, 'project-cancelled'> {
  return {
    arrange: (job, tools) => startArrangement(services, tools, job.data),
    expire: (job) => settleArrangement(services, job.data.arrangementId, { final: false }),
    settle: (job) => settlePartnerDecision(services, job.data),
    [SWEEP_HOLDS_JOB]: () => sweepOverdueHolds(services),
  };
}

async function startArrangement(services: JobServices, tools: JobTools, message: ArrangeMessage): Promise<string> {
  const { venues } = services;
  const opened = await venues.openArrangement({
    id: message.arrangementId,
    projectId: message.projectId,
    hostPlatformId: message.hostPlatformId,
    window: { from: new Date(message.startsAt), to: new Date(message.endsAt) },
    holdExpiresAt: new Date(venues.clock.now().getTime() + services.config.HOLD_TTL),
    requests: message.requests,
  });
  if (opened.status === 'PENDING') {
    // This job may run after the project's cancellation job (a retry, or a dead worker's job taken over), whose release
    // found no arrangement to close. Opened first and checked after: either that release sees this arrangement, or this
    // check sees the cancellation and closes it before any hold.
    const [project] = await services.projects.projectsByIds([message.projectId]);
    if (project?.status === 'CANCELLED') {
      await venues.releaseProjectBookings(message.projectId, 'the arrangement started after the cancellation');
      return 'FAILED';
    }
  }
  // Added even when the holds decide at once: should every try of this job fail after the decision, the expiry still
  // reports it to the project (the sweep only looks at arrangements left PENDING).
  await tools.queues[JOBS.expireArrangement.queue].add(
    JOBS.expireArrangement.name,
    { arrangementId: opened.id },
    {
      jobId: expireJobId(opened.id),
      delay: Math.max(0, opened.hold_expires_at.getTime() - venues.clock.now().getTime()),
    },
  );
  // Run again after a crash, it holds nothing twice and completes the report the first run may not have made.
  const { arrangement, bookings, holds } = await venues.holdArrangement(opened.id);
  // What each hold did when it was made, whatever its booking's state now (a replay may find it released).
  const events = holds.flatMap(({ booking, outcome, needsDecision }) => {
    if (outcome === 'failed')
      return [bookingEvent(booking, 'VENUE_HOLD_FAILED', ACTOR, booking.status, booking.reason)];
    const held = bookingEvent(booking, 'VENUE_HELD', ACTOR, 'HELD', null);
    return needsDecision
      ? [held]
      : [held, bookingEvent(booking, 'VENUE_CONFIRMED', AUTO_CONFIRM_ACTOR, 'CONFIRMED', null)];
  });
  await report(services, arrangement, [...events, ...closedBookingEvents(arrangement, bookings)]);
  return arrangement.status;
}

async function settlePartnerDecision(services: JobServices, decision: PartnerDecision): Promise<string> {
  const { arrangement, bookings } = await services.venues.concludeArrangement(decision.arrangementId, { final: false });
  const booking = bookings.find((candidate) => candidate.id === decision.bookingId);
  const decided = booking
    ? [
        bookingEvent(
          booking,
          decision.decision === 'CONFIRMED' ? 'VENUE_CONFIRMED' : 'VENUE_REJECTED',
          decision.actor,
          decision.decision,
          decision.reason,
        ),
      ]
    : [];
  await report(services, arrangement, [...decided, ...closedBookingEvents(arrangement, bookings)]);
  return arrangement.status;
}

async function sweepOverdueHolds(services: JobServices): Promise<number> {
  const overdue = await services.venues.overdueArrangements();
  for (const id of overdue) await settleArrangement(services, id, { final: true });
  return overdue.length;
}

/**
 * Decides the arrangement if it can be, then reports it to the project: every booking CONFIRMED → VENUES_CONFIRMED;
 * otherwise every hold released and the project back to FILED with the reason. Running it again (any job, any number
 * of times) finds the arrangement decided and only completes what is missing.
 */
export async function settleArrangement(
  services: JobServices,
  arrangementId: string,
  options: { final: boolean },
): Promise<string> {
  const { arrangement, bookings } = await services.venues.concludeArrangement(arrangementId, options);
  if (arrangement.status !== 'PENDING') await report(services, arrangement, closedBookingEvents(arrangement, bookings));
  return arrangement.status;
}

/** The expiries and releases of a decided arrangement, recorded from the bookings' state so a replay completes them. */
function closedBookingEvents(arrangement: Arrangement, bookings: Booking[]): NewEvent[] {
  if (arrangement.status === 'PENDING') return [];
  return bookings.flatMap((booking) =>
    booking.status === 'EXPIRED' || booking.status === 'RELEASED'
      ? [bookingEvent(booking, `VENUE_${booking.status}`, ACTOR, booking.status, booking.reason)]
      : [],
  );
}

async function report(services: JobServices, arrangement: Arrangement, events: NewEvent[]): Promise<void> {
  const decision =
    arrangement.status === 'PENDING' ? undefined : { status: arrangement.status, reason: arrangement.reason };
  if (!decision && events.length === 0) return;
  try {
    await recordArrangement(services.projects, {
      projectId: arrangement.project_id,
      arrangementId: arrangement.id,
      actor: ACTOR,
      events,
      decision,
    });
  } catch (error) {
    // An archived project takes no more events; the bookings' own rows still say what happened.
    if (codeOf(error) !== 'CONFLICT') throw error;
  }
}

/** One timeline event per booking and kind, keyed so that replays record it once. */
function bookingEvent(
  booking: Booking,
  kind: string,
  actor: string,
  status: BookingStatus,
  reason: string | null,
): NewEvent {
  const data: { [key: string]: Json } = {
    bookingId: booking.id,
    roomId: booking.room_id,
    role: booking.role,
    seats: booking.seats,
    status,
  };
  const what = `${booking.role === 'MAIN' ? 'main room' : `${booking.seats} seats at room`} ${booking.room_id}`;
  const detail = reason ? `${what}: ${reason}` : what;
  return { kind, actor, detail, data, key: `${kind.toLowerCase()}:${booking.id}` };
}
