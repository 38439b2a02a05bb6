// What the venues subgraph needs to let an expert see the booking of its own seat (lib/authorization.ts, AccessFacts):
// which experts were invited to a seat of each booking. One batched read per tick.
import type { Kysely } from 'kysely';
import { childrenLoader } from '../../lib/loaders';
import type { ExpertsDatabase } from './types';

export class SeatAccessReader {
  constructor(private readonly db: Kysely<ExpertsDatabase>) {}

  /** Every expert invited to a seat of the bookings, whatever the seat's status: an invitation names its room. */
  expertsOfBookings(bookingIds: readonly string[]): Promise<{ booking_id: string; expert_id: string }[]> {
    return this.db
      .selectFrom('committee_seat')
      .select(['booking_id', 'expert_id'])
      .where('booking_id', 'in', [...bookingIds])
      .where('expert_id', 'is not', null)
      .execute() as Promise<{ booking_id: string; expert_id: string }[]>;
  }

  /** A per-request loader of the experts seated in each booking. */
  loader() {
    return childrenLoader(
      (ids) => this.expertsOfBookings(ids),
      (row) => row.booking_id,
    );
  }
}
