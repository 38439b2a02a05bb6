// The booking saga's hold: every requested room of an arrangement held in one transaction (all or none), seats picked
// from the free ones and retried when a concurrent hold takes them first (the exclusion constraint decides).
import { sql, type Insertable, type Transaction } from 'kysely';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { conflict, notFound } from '../../lib/errors';
import { takesSeatDuring, windowOf } from './seats';
import {
  type Arrangement,
  type Booking,
  type BookingTable,
  type SeatRequest,
  type VenuesDatabase,
  type VenuesStore,
} from './types';
import { noteBookingsWritten } from './booking-notes';
import { queueDecisionWebhookIn } from './webhooks';

/** Holds that lose a seat race (SQLSTATE 23P01) pick other seats this many times before reporting CONFLICT. */
import {
  bookingIdFor,
  byId,
  decideIn,
  HOLD_ATTEMPTS,
  lockArrangementIn,
  type ArrangementHolds,
  type HoldResult,
} from './booking-saga';

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
  // FOR UPDATE because the holds and the decision are one transaction: a partner's decision (FOR SHARE) waits for
  // both, and no hold follows a decision.
  const { arrangement, bookings: existing } = await lockArrangementIn(trx, arrangementId);
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
  await noteBookingsWritten(trx, inserted, new Map([...rooms].map(([id, room]) => [id, room.platform_id])));
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
