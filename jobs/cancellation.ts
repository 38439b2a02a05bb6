// What follows a project's cancellation (cancelProject writes a 'project-cancelled' outbox message with the state
// change): a list of steps, each idempotent, run in order. Add a step here for every domain that holds something for
// a project (committee seats, ledger entries...), calling that domain's service, never its tables.
import { CANCELLED_REASON } from '../subgraphs/venues';
import { reverseOpenLedgerEntries } from '../subgraphs/projects';
import { JOBS, type ProjectCancelled } from './catalogue';
import type { JobServices, QueueHandlers } from './contracts';

/** Runs on the venue-bookings queue: releasing the bookings is the first thing a cancellation must do. */
export const CANCELLATION_QUEUE = JOBS.projectCancelled.queue;
export const PROJECT_CANCELLED_JOB = JOBS.projectCancelled.name;
const ACTOR = 'system:cancellation';

interface CancellationStep {
  name: string;
  run(services: JobServices, cancelled: ProjectCancelled): Promise<void>;
}

export const CANCELLATION_STEPS: readonly CancellationStep[] = [
  {
    name: 'release venue bookings',
    async run({ venues, projects }, { projectId, reason }) {
      await venues.releaseProjectBookings(projectId, reason);
      // Recorded from the bookings' state, not from what this run released, so a run cut short is completed by a replay.
      const released = (await venues.bookingsOfProjects([projectId])).filter(
        (booking) => booking.status === 'RELEASED' && booking.reason?.startsWith(CANCELLED_REASON),
      );
      for (const booking of released) {
        await projects.appendEvent(projectId, {
          kind: 'VENUE_RELEASED',
          actor: ACTOR,
          detail: `${booking.role === 'MAIN' ? 'main room' : `${booking.seats} seats at room`} ${booking.room_id}: project cancelled`,
          data: { bookingId: booking.id, roomId: booking.room_id, seats: booking.seats },
          key: `venue_released:${booking.id}`,
        });
      }
    },
  },
  {
    name: 'reverse unsettled ledger entries',
    async run({ projects }, { projectId, reason }) {
      await reverseOpenLedgerEntries(projects, projectId, `project cancelled: ${reason}`, ACTOR);
    },
  },
  {
    name: 'release committee seats',
    async run({ experts, projects }, { projectId, reason }) {
      const cancelled = `project cancelled: ${reason}`;
      await experts.withdrawProjectSeats(projectId, cancelled);
      // Counted from the seats' state, so a replay after a crash records the same release once.
      const released = (await experts.seatsOfProject(projectId)).filter(
        (seat) => seat.status === 'WITHDRAWN' && seat.reason === cancelled,
      );
      if (released.length === 0) return;
      await projects.appendEvent(projectId, {
        kind: 'COMMITTEE_RELEASED',
        actor: ACTOR,
        detail: `${released.length} committee seat(s) released: project cancelled`,
        data: { seatIds: released.map((seat) => seat.id) },
        key: `committee_released:${projectId}`,
      });
    },
  },
];

export function createCancellationHandlers(
  services: JobServices,
): Pick<QueueHandlers<'venue-bookings'>, 'project-cancelled'> {
  return {
    [PROJECT_CANCELLED_JOB]: async (job) => {
      for (const step of CANCELLATION_STEPS) await step.run(services, job.data);
      return CANCELLATION_STEPS.map((step) => step.name);
    },
  };
}
