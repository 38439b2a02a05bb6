// The job catalogue: every queue, every job name it runs and that job's payload, in one place. The domains import this
// file (and nothing else of jobs/) to write outbox messages; the handler table (jobs/handlers.ts) is typed from it, so a
// queue, job name or payload the catalogue does not list does not compile at either end.
import type { OutboxMessage } from '../lib/outbox';
import { QUEUE_NAMES } from '../lib/queue-names';

/** One seat request of an arrangement, as the booking saga holds it (booking i holds requests[i]). */
export interface ArrangeSeatRequest {
  roomId: string;
  role: 'MAIN' | 'SECONDARY';
  seats: number;
}

/** What arrangeVenues hands the booking saga. */
export interface ArrangeMessage {
  arrangementId: string;
  projectId: string;
  hostPlatformId: string;
  /** ISO instants of the evaluation window. */
  startsAt: string;
  endsAt: string;
  requests: ArrangeSeatRequest[];
}

/** A partner's answer to a held booking, written by the venues domain with the booking's change. */
export interface PartnerDecision {
  arrangementId: string;
  bookingId: string;
  decision: 'CONFIRMED' | 'REJECTED';
  actor: string;
  reason: string | null;
}

/** What cancelProject hands the cancellation steps. */
export interface ProjectCancelled {
  projectId: string;
  reason: string;
}

/** A scheduled job's payload: empty at first; a reconciliation keeps the report it opened on its job. */
export interface ScheduledRun {
  reportId?: string;
}

/** Per queue, per job name, the payload. A type (not an interface) so that it fits lib/outbox's JobCatalogueShape. */
export type JobCatalogue = {
  'venue-bookings': {
    arrange: ArrangeMessage;
    expire: { arrangementId: string };
    settle: PartnerDecision;
    'sweep-holds': ScheduledRun;
    /** Releasing the bookings is the first thing a cancellation does, so it runs on this queue. */
    'project-cancelled': ProjectCancelled;
  };
  'expert-draws': {
    draw: { drawId: string; projectId: string };
    replace: { seatId: string };
    'invitation-timeout': { seatId: string };
    'committee-complete': { drawId: string };
    'record-access-attempt': { attemptId: string };
  };
  notifications: {
    webhook: { deliveryId: string; attempt: number };
    invitation: { seatId: string };
  };
  reconciliation: {
    reconcile: { reportId: string };
    'reconcile-upcoming': ScheduledRun;
    'reconcile-nightly': ScheduledRun;
  };
};

export type QueueName = keyof JobCatalogue;
export type JobName<Q extends QueueName> = keyof JobCatalogue[Q] & string;
export type JobData<Q extends QueueName, N extends JobName<Q>> = JobCatalogue[Q][N];

// The names themselves live in lib/ so that the gateway's /queues dashboard can list them without importing jobs/.
export { QUEUE_NAMES };
/** Both lists name the same queues: a queue catalogued here but not named in lib/queue-names.ts, or the other way round, does not compile. */
type SameQueues<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
export const QUEUES_AGREE: SameQueues<QueueName, (typeof QUEUE_NAMES)[number]> = true;

export function isQueueName(value: string): value is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(value);
}

/** An outbox message of the hub: only a catalogued queue, job name and payload compile. */
export type HubJobMessage = OutboxMessage<JobCatalogue>;

/** A job of the catalogue, named by its queue and name (spread it with its data into an outbox message). */
export interface JobRef<Q extends QueueName, N extends JobName<Q>> {
  readonly queue: Q;
  readonly name: N;
}

function job<Q extends QueueName, N extends JobName<Q>>(queue: Q, name: N): JobRef<Q, N> {
  return { queue, name };
}

/** Every job by a name the code uses. */
export const JOBS = {
  arrange: job('venue-bookings', 'arrange'),
  expireArrangement: job('venue-bookings', 'expire'),
  settleArrangement: job('venue-bookings', 'settle'),
  sweepHolds: job('venue-bookings', 'sweep-holds'),
  projectCancelled: job('venue-bookings', 'project-cancelled'),
  draw: job('expert-draws', 'draw'),
  replaceDeclined: job('expert-draws', 'replace'),
  invitationTimeout: job('expert-draws', 'invitation-timeout'),
  committeeComplete: job('expert-draws', 'committee-complete'),
  accessAttempt: job('expert-draws', 'record-access-attempt'),
  webhook: job('notifications', 'webhook'),
  invitation: job('notifications', 'invitation'),
  reconcile: job('reconciliation', 'reconcile'),
  reconcileUpcoming: job('reconciliation', 'reconcile-upcoming'),
  reconcileNightly: job('reconciliation', 'reconcile-nightly'),
} as const;

/**
 * The outbox message of a catalogued job.
 *
 * ```ts
 * jobMessage(JOBS.projectCancelled, { projectId, reason }); // { queue: 'venue-bookings', name: 'project-cancelled', data }
 * ```
 */
export function jobMessage<Q extends QueueName, N extends JobName<Q>>(
  ref: JobRef<Q, N>,
  data: JobData<Q, N>,
  delayMs?: number,
): HubJobMessage {
  const message = { queue: ref.queue, name: ref.name, data, ...(delayMs === undefined ? {} : { delayMs }) };
  // Correlated generics: TypeScript cannot narrow the union member from Q and N, which the parameters already tie.
  return message as unknown as HubJobMessage;
}

/** The booking saga's start, written with the project's move to VENUES_ARRANGING. */
export const arrangeMessage = (message: ArrangeMessage): HubJobMessage => jobMessage(JOBS.arrange, message);

/** The cancellation's follow-up, written with the project's move to CANCELLED. */
export const projectCancelledMessage = (message: ProjectCancelled): HubJobMessage =>
  jobMessage(JOBS.projectCancelled, message);
