// The booking saga's verbs on the venues side: an arrangement is opened, its rooms are held in one transaction, and it
// is concluded (confirmed, or failed with every live booking released) under its row lock; a cancelled project's
// bookings are released. The partners' decisions are in decisions.ts, their webhooks in webhooks.ts.
import { sql, type Insertable, type Transaction } from 'kysely';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { conflict, notFound } from '../../lib/errors';
import { takesSeatDuring, windowOf } from './seats';
import {
  CLOSED_BOOKING_STATUSES,
  LIVE_BOOKING_STATUSES,
  type Arrangement,
  type ArrangementStatus,
  type Booking,
  type BookingStatus,
  type BookingTable,
  type SeatRequest,
  type VenuesDatabase,
  type VenuesStore,
  type Window,
} from './types';
import { queueDecisionWebhookIn } from './webhooks';

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

/** A requested room as a hold needs it. */
interface HoldRoom {
  id: string;
  seats: number;
  platform_id: string;
  webhook_url: string | null;
  /** Null when the room's platform has no agreement with the host (its own rooms). */
  auto_confirm: boolean | null;
  free_seats: number[];
}

/** The bookings with `updated` ones put in place of their earlier rows, by id. */
function byId(bookings: Booking[], updated: Booking[] = []): Booking[] {
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
 * Holds every request of a PENDING arrangement and decides it if it can be, in one transaction: each request gets
 * free seats of its room (a MAIN booking every seat), CONFIRMED at once when nobody has to decide (the host's main
 * room, a partner whose agreement auto-confirms) and HELD for the partner otherwise; a room without enough free seats
 * gets a REJECTED booking without seats, which fails the arrangement and releases the rest. A lost seat race is retried
 * with other seats; losing it HOLD_ATTEMPTS times is CONFLICT. Idempotent: booking ids are derived from the arrangement
 * and the request's index, so a second call holds nothing again and reports what the first one made.
 *
 * ```ts
 * const { arrangement, holds } = await venues.holdArrangement('arr_…');
 * ```
 */
export async function holdArrangement(store: VenuesStore, arrangementId: string): Promise<ArrangementHolds> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.db.transaction().execute((trx) => holdArrangementIn(store, trx, arrangementId));
    } catch (error) {
      if (sqlState(error) !== DB_ERRORS.exclusionViolation) throw error;
      if (attempt >= HOLD_ATTEMPTS)
        throw conflict(
          `the seats of this arrangement were taken by concurrent bookings ${HOLD_ATTEMPTS} times in a row; arrange again or choose other rooms`,
        );
    }
  }
}

async function holdArrangementIn(
  store: VenuesStore,
  trx: Transaction<VenuesDatabase>,
  arrangementId: string,
): Promise<ArrangementHolds> {
  // Lock order everywhere: arrangement, then its bookings. FOR UPDATE because the holds and the decision are one
  // transaction: a partner's decision (FOR SHARE) waits for both, and no hold follows a decision.
  const arrangement = await trx
    .selectFrom('arrangement')
    .selectAll()
    .where('id', '=', arrangementId)
    .forUpdate()
    .executeTakeFirst();
  if (!arrangement) throw notFound('arrangement', arrangementId);
  const existing = await trx
    .selectFrom('booking')
    .selectAll()
    .where('arrangement_id', '=', arrangementId)
    .orderBy('id')
    .execute();
  const rooms = await holdRoomsIn(trx, arrangement);
  const needsDecision = (request: SeatRequest) =>
    request.role !== 'MAIN' && rooms.get(request.roomId)?.auto_confirm !== true;
  const made = new Set(existing.map((booking) => booking.id));
  const pending =
    arrangement.status === 'PENDING'
      ? arrangement.requests.flatMap((_request, index) => (made.has(bookingIdFor(arrangementId, index)) ? [] : [index]))
      : [];
  const inserted = pending.length > 0 ? await insertHoldsIn(trx, arrangement, pending, rooms, needsDecision) : [];
  // A hold that failed is a booking without seat rows; only an earlier run's bookings need looking up.
  const withSeats =
    existing.length > 0
      ? await trx
          .selectFrom('booking_seat')
          .select('booking_id')
          .distinct()
          .where('booking_id', 'in', [...made])
          .execute()
      : [];
  const held = new Set([
    ...withSeats.map((row) => row.booking_id),
    ...inserted.filter((booking) => booking.status !== 'REJECTED').map((booking) => booking.id),
  ]);
  const outcome = await decideIn(store, trx, arrangement, byId([...existing, ...inserted]), { final: true });
  const current = new Map(outcome.bookings.map((booking) => [booking.id, booking]));
  const holds = arrangement.requests.flatMap((request, index): HoldResult[] => {
    const booking = current.get(bookingIdFor(arrangementId, index));
    return booking
      ? [{ booking, outcome: held.has(booking.id) ? 'held' : 'failed', needsDecision: needsDecision(request) }]
      : [];
  });
  return { ...outcome, holds };
}

/**
 * The rooms an arrangement asks for, with their platform's webhook, whether its agreement with the host auto-confirms,
 * and their seats free over the arrangement's window (not held by a live booking overlapping it), in seat order.
 */
async function holdRoomsIn(trx: Transaction<VenuesDatabase>, arrangement: Arrangement): Promise<Map<string, HoldRoom>> {
  const window = windowOf(arrangement);
  const rows = await trx
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .innerJoin('platform', 'platform.id', 'venue.platform_id')
    .leftJoin('cooperation_agreement', (join) =>
      join
        .onRef('cooperation_agreement.partner_id', '=', 'venue.platform_id')
        .on('cooperation_agreement.platform_id', '=', arrangement.host_platform_id),
    )
    .select([
      'room.id',
      'room.seats',
      'platform.id as platform_id',
      'platform.webhook_url',
      'cooperation_agreement.auto_confirm',
    ])
    .select((eb) => {
      const free = eb
        .selectFrom('seat')
        .select('seat.seat_no')
        .whereRef('seat.room_id', '=', 'room.id')
        // A retired room offers no seats; a room whose seats were lowered keeps its higher seat rows unused.
        .whereRef('seat.seat_no', '<=', 'room.seats')
        .where('room.retired_at', 'is', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('booking_seat')
                .select('booking_seat.seat_no')
                .whereRef('booking_seat.room_id', '=', 'seat.room_id')
                .whereRef('booking_seat.seat_no', '=', 'seat.seat_no')
                .where(takesSeatDuring(window)),
            ),
          ),
        )
        .orderBy('seat.seat_no');
      return sql<number[]>`array(${free})`.as('free_seats');
    })
    .where(
      'room.id',
      'in',
      arrangement.requests.map((request) => request.roomId),
    )
    // Against updateRoom and retireRoom (FOR UPDATE): a room's seats do not change under a hold.
    .modifyEnd(sql`for share of room`)
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}

/** Inserts the bookings of the requests at `indexes` and the seat rows of those that have enough free seats. */
async function insertHoldsIn(
  trx: Transaction<VenuesDatabase>,
  arrangement: Arrangement,
  indexes: number[],
  rooms: Map<string, HoldRoom>,
  needsDecision: (request: SeatRequest) => boolean,
): Promise<Booking[]> {
  // Copies: seats are taken off as requests get them, so two requests for one room never pick the same seats.
  const freeOf = new Map([...rooms.values()].map((room) => [room.id, [...room.free_seats]]));
  const bookings: Insertable<BookingTable>[] = [];
  const seats: { booking_id: string; room_id: string; seat_no: number }[] = [];
  for (const index of indexes) {
    const request = arrangement.requests[index];
    const room = rooms.get(request.roomId);
    if (!room) throw notFound('room', request.roomId);
    const wanted = request.role === 'MAIN' ? room.seats : request.seats;
    const available = freeOf.get(room.id) ?? [];
    const booking = {
      id: bookingIdFor(arrangement.id, index),
      arrangement_id: arrangement.id,
      room_id: room.id,
      project_id: arrangement.project_id,
      host_platform_id: arrangement.host_platform_id,
      role: request.role,
      starts_at: arrangement.starts_at,
      ends_at: arrangement.ends_at,
      hold_expires_at: arrangement.hold_expires_at,
    };
    if (available.length < wanted) {
      const reason = `room ${room.id} has ${available.length} of the ${wanted} seats asked free over the evaluation window; choose fewer seats or another room`;
      bookings.push({ ...booking, seats: request.seats, status: 'REJECTED', reason });
      continue;
    }
    bookings.push({ ...booking, seats: wanted, status: needsDecision(request) ? 'HELD' : 'CONFIRMED', reason: null });
    seats.push(
      ...available.splice(0, wanted).map((seat_no) => ({ booking_id: booking.id, room_id: room.id, seat_no })),
    );
  }
  const inserted = await trx.insertInto('booking').values(bookings).returningAll().execute();
  if (seats.length > 0) {
    // In one order across transactions (room, then seat), so concurrent holds wait for each other without deadlocking.
    seats.sort((a, b) => a.room_id.localeCompare(b.room_id) || a.seat_no - b.seat_no);
    await trx
      .insertInto('booking_seat')
      .values(seats.map((seat) => ({ ...seat, during: windowOf(arrangement) })))
      .execute();
  }
  for (const booking of inserted) {
    const room = rooms.get(booking.room_id);
    if (booking.status === 'HELD' && room?.webhook_url)
      await queueDecisionWebhookIn(trx, booking, room.platform_id, room.webhook_url);
  }
  return inserted;
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
    return decideIn(store, trx, arrangement, bookings, options);
  });
}

/** concludeArrangement's decision, for an arrangement locked FOR UPDATE and its bookings read under that lock. */
async function decideIn(
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
