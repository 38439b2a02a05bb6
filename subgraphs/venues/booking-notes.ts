// Every write of a booking row notes what it changed (lib/change-notes.ts): the booking, and the schedules that list it,
// by its room's platform, its project's host and its days. The gateway's response cache ends exactly the answers these
// name, so a booking write that skipped this would leave schedules stale: the three writers (holds, decisions, the
// saga's closing) all call it, in their transaction.
import type { Kysely } from 'kysely';
import { bookingChangeTags, someBookingChanged } from '../../lib/cache-tags';
import { changesNoted, noteChanged } from '../../lib/change-notes';
import type { Booking, VenuesDatabase } from './types';

type Written = Pick<Booking, 'id' | 'room_id' | 'host_platform_id' | 'starts_at' | 'ends_at'>;

/** `known`: the platform of each room, where the writer has it already (the holds do); otherwise it is looked up. */
export async function noteBookingsWritten(
  db: Kysely<VenuesDatabase>,
  bookings: readonly Written[],
  known?: ReadonlyMap<string, string>,
): Promise<void> {
  // Nobody collects (a command-line tool, a seed): nothing to look up.
  if (bookings.length === 0 || !changesNoted()) return;
  const roomIds = [...new Set(bookings.map((booking) => booking.room_id))];
  const platformOf =
    known && roomIds.every((id) => known.has(id))
      ? known
      : new Map(
          (
            await db
              .selectFrom('room')
              .innerJoin('venue', 'venue.id', 'room.venue_id')
              .select(['room.id', 'venue.platform_id'])
              .where('room.id', 'in', roomIds)
              .execute()
          ).map((room) => [room.id, room.platform_id]),
        );
  // A room not found (it cannot be: the booking references it) leaves a platform unknown: every schedule ends.
  if (bookings.some((booking) => !platformOf.has(booking.room_id))) noteChanged(someBookingChanged());
  noteChanged(
    bookingChangeTags(
      bookings.map((booking) => ({
        id: booking.id,
        platforms: [platformOf.get(booking.room_id) ?? booking.host_platform_id, booking.host_platform_id],
        startsAt: booking.starts_at,
        endsAt: booking.ends_at,
      })),
    ),
  );
}
