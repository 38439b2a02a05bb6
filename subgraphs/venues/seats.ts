// When a seat is taken: the one rule for "not free" over a window, as the SQL every seat read and hold shares.
import { sql, type ExpressionBuilder, type RawBuilder } from 'kysely';
import type { Arrangement, VenuesDatabase, Window } from './types';

/** A window as the tstzrange seat rows hold, [from, to). */
export function rangeOf(window: Window): RawBuilder<string> {
  return sql<string>`tstzrange(${window.from}, ${window.to})`;
}

/** An arrangement's evaluation window as the tstzrange its seat rows hold. */
export function windowOf(arrangement: Arrangement): RawBuilder<string> {
  return rangeOf({ from: arrangement.starts_at, to: arrangement.ends_at });
}

/** A seat row that keeps its seat taken at some moment of `range`: the one rule for "not free" over a window. */
export function takesSeatDuring(range: RawBuilder<string>): RawBuilder<boolean> {
  return sql<boolean>`(booking_seat.live and booking_seat.during && ${range})`;
}

/** The seats of the room `room.id` taken at some moment of `range` (a correlated subquery). */
export function takenSeats(eb: ExpressionBuilder<VenuesDatabase, 'room'>, range: RawBuilder<string>) {
  return eb
    .selectFrom('booking_seat')
    .select(eb.fn.count<string>(sql`distinct booking_seat.seat_no`).as('taken'))
    .whereRef('booking_seat.room_id', '=', 'room.id')
    .where(takesSeatDuring(range));
}
