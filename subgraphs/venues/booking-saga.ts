// The booking saga's verbs on the venues side: an arrangement is opened, its rooms are held in one transaction, and it
// is concluded (confirmed, or failed with every live booking released) under its row lock; a cancelled project's
// bookings are released. The partners' decisions are in decisions.ts, their webhooks in webhooks.ts.
import type { Transaction } from 'kysely';
import { notFound } from '../../lib/errors';
import { noteBookingsWritten } from './booking-notes';
import {
  CLOSED_BOOKING_STATUSES,
  LIVE_BOOKING_STATUSES,
  type Arrangement,
  type ArrangementStatus,
  type Booking,
  type BookingStatus,
  type SeatRequest,
  type VenuesDatabase,
  type VenuesStore,
  type Window,
} from './types';

/** Holds that lose a seat race (SQLSTATE 23P01) pick other seats this many times before reporting CONFLICT. */
export const HOLD_ATTEMPTS = 5;
/** The outbox message a partner's decision writes, so the saga settles the arrangement. */
export const SETTLE_JOB = { queue: 'venue-bookings', name: 'settle' } as const;
/** How the reason of a booking released by a cancellation starts. */
export const CANCELLED_REASON = 'project cancelled';

/** The booking id of an arrangement's i-th hold: deterministic, so holds made twice are made once. */
export function bookingIdFor(arrangementId: string, index: number): string {
  return `bk_${arrangementId}_${index}`;
}

export interface NewArrangement {
  id: string;
  projectId: string;
  hostPlatformId: string;
  window: Window;
  holdExpiresAt: Date;
  requests: SeatRequest[];
}

/** What holding an arrangement did with one of its requests. */
export interface HoldResult {
  booking: Booking;
  /** 'held': its seats were held (CONFIRMED at once when no decision is needed); 'failed': they were not free. */
  outcome: 'held' | 'failed';
  /** The room's partner confirms by hand: a SECONDARY booking whose agreement does not confirm by itself. */
  needsDecision: boolean;
}

export interface ArrangementOutcome {
  arrangement: Arrangement;
  /** Every booking of the arrangement as the call left it, by id. */
  bookings: Booking[];
}

export interface ArrangementHolds extends ArrangementOutcome {
  /** One per request that has a booking (made now or by an earlier run), in request order. */
  holds: HoldResult[];
}

interface BookingMatch {
  statuses: readonly BookingStatus[];
  arrangementId?: string;
  projectId?: string;
  /** Only holds whose expiry is at or before this instant. */
  expiredBy?: Date;
}

/** The bookings with `updated` ones put in place of their earlier rows, by id. */
export function byId(bookings: Booking[], updated: Booking[] = []): Booking[] {
  const merged = new Map(bookings.map((booking) => [booking.id, booking]));
  for (const booking of updated) merged.set(booking.id, booking);
  return [...merged.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** Records an arrangement once; a second call with the same id returns the first one unchanged. */
export async function openArrangement(store: VenuesStore, input: NewArrangement): Promise<Arrangement> {
  const opened = await store.db
    .insertInto('arrangement')
    .values({
      id: input.id,
      project_id: input.projectId,
      host_platform_id: input.hostPlatformId,
      starts_at: input.window.from,
      ends_at: input.window.to,
      hold_expires_at: input.holdExpiresAt,
      requests: JSON.stringify(input.requests),
      booking_count: input.requests.length,
      reason: null,
      decided_at: null,
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
  return opened ?? getArrangement(store, input.id);
}

export async function getArrangement({ db }: VenuesStore, id: string): Promise<Arrangement> {
  const arrangement = await db.selectFrom('arrangement').selectAll().where('id', '=', id).executeTakeFirst();
  if (!arrangement) throw notFound('arrangement', id);
  return arrangement;
}

/** PENDING arrangements whose holds are past their expiry: the sweep settles them. */
export async function overdueArrangements({ db, clock }: VenuesStore, limit = 100): Promise<string[]> {
  const rows = await db
    .selectFrom('arrangement')
    .select('id')
    .where('status', '=', 'PENDING')
    .where('hold_expires_at', '<=', clock.now())
    .orderBy('hold_expires_at')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Decides an arrangement if it can be decided: holds past their expiry expire; any booking REJECTED, EXPIRED or
 * RELEASED (or, when `final`, a hold that was never made) fails it and releases every live booking; all CONFIRMED
 * confirms it. Otherwise it stays PENDING. One transaction under the arrangement's lock: never a mix.
 */
export function concludeArrangement(
  store: VenuesStore,
  arrangementId: string,
  options: { final: boolean },
): Promise<ArrangementOutcome> {
  return store.db.transaction().execute(async (trx) => {
    const { arrangement, bookings } = await lockArrangementIn(trx, arrangementId);
    return decideIn(store, trx, arrangement, bookings, options);
  });
}

/**
 * The arrangement locked FOR UPDATE and its bookings read under that lock. Lock order everywhere: arrangement, then its
 * bookings; a partner's decision (FOR SHARE) waits for whoever holds it.
 */
export async function lockArrangementIn(
  trx: Transaction<VenuesDatabase>,
  arrangementId: string,
): Promise<{ arrangement: Arrangement; bookings: Booking[] }> {
  const arrangement = await trx
    .selectFrom('arrangement')
    .selectAll()
    .where('id', '=', arrangementId)
    .forUpdate()
    .executeTakeFirst();
  if (!arrangement) throw notFound('arrangement', arrangementId);
  const bookings = await trx
    .selectFrom('booking')
    .selectAll()
    .where('arrangement_id', '=', arrangementId)
    .orderBy('id')
    .execute();
  return { arrangement, bookings };
}

/** concludeArrangement's decision, for an arrangement locked FOR UPDATE and its bookings read under that lock. */
export async function decideIn(
  store: VenuesStore,
  trx: Transaction<VenuesDatabase>,
  arrangement: Arrangement,
  bookings: Booking[],
  options: { final: boolean },
): Promise<ArrangementOutcome> {
  if (arrangement.status !== 'PENDING') return { arrangement, bookings };
  const now = store.clock.now();
  let current = bookings;
  const overdue = (booking: Booking) =>
    booking.status === 'HELD' && booking.hold_expires_at !== null && booking.hold_expires_at.getTime() <= now.getTime();
  if (current.some(overdue)) {
    const reason = `the hold expired at ${arrangement.hold_expires_at.toISOString()} before the partner decided`;
    current = byId(
      current,
      await closeBookingsIn(
        store,
        trx,
        { arrangementId: arrangement.id, statuses: ['HELD'], expiredBy: now },
        'EXPIRED',
        reason,
      ),
    );
  }
  const failed = current.find((booking) => CLOSED_BOOKING_STATUSES.includes(booking.status));
  const missing = arrangement.booking_count - current.length;
  let status: ArrangementStatus = 'PENDING';
  let reason: string | null = null;
  if (failed) {
    status = 'FAILED';
    reason = `booking of room ${failed.room_id} ${failed.status}${failed.reason ? `: ${failed.reason}` : ''}`;
  } else if (options.final && missing > 0) {
    status = 'FAILED';
    reason = `${missing} of ${arrangement.booking_count} holds could not be made`;
  } else if (missing === 0 && current.every((booking) => booking.status === 'CONFIRMED')) {
    status = 'CONFIRMED';
  }
  if (status === 'PENDING') return { arrangement, bookings: current };
  if (status === 'FAILED') {
    const released = await closeBookingsIn(
      store,
      trx,
      { arrangementId: arrangement.id, statuses: LIVE_BOOKING_STATUSES },
      'RELEASED',
      `arrangement failed: ${reason}`,
    );
    current = byId(current, released);
  }
  const decided = await trx
    .updateTable('arrangement')
    .set({ status, reason, decided_at: now })
    .where('id', '=', arrangement.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { arrangement: decided, bookings: current };
}

/** Releases every live booking of a project (it was cancelled) and closes its pending arrangements so no hold follows. */
export function releaseProjectBookings(store: VenuesStore, projectId: string, reason: string): Promise<Booking[]> {
  return store.db.transaction().execute(async (trx) => {
    const now = store.clock.now();
    await trx
      .updateTable('arrangement')
      .set({ status: 'FAILED', reason: `${CANCELLED_REASON}: ${reason}`.slice(0, 1000), decided_at: now })
      .where('project_id', '=', projectId)
      .where('status', '=', 'PENDING')
      .execute();
    return closeBookingsIn(
      store,
      trx,
      { projectId, statuses: LIVE_BOOKING_STATUSES },
      'RELEASED',
      `${CANCELLED_REASON}: ${reason}`,
    );
  });
}

/** Moves the matching live bookings to a closed status and frees their seats, in the caller's transaction. */
async function closeBookingsIn(
  { clock }: VenuesStore,
  trx: Transaction<VenuesDatabase>,
  match: BookingMatch,
  status: 'EXPIRED' | 'RELEASED',
  reason: string,
): Promise<Booking[]> {
  let query = trx
    .updateTable('booking')
    .set({ status, reason: reason.slice(0, 1000), updated_at: clock.now() })
    .where('status', 'in', match.statuses);
  if (match.arrangementId) query = query.where('arrangement_id', '=', match.arrangementId);
  if (match.projectId) query = query.where('project_id', '=', match.projectId);
  if (match.expiredBy) query = query.where('hold_expires_at', '<=', match.expiredBy);
  const closed = await query.returningAll().execute();
  await noteBookingsWritten(trx, closed);
  if (closed.length > 0) {
    await trx
      .updateTable('booking_seat')
      .set({ live: false })
      .where(
        'booking_id',
        'in',
        closed.map((booking) => booking.id),
      )
      .execute();
  }
  return closed;
}
