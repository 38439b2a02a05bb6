// The booking reads of the venues domain: by id, by project, by room over a window, and the schedule.
import { sql } from 'kysely';
import type { Booking, VenuesStore, Window } from './types';

/** The longest window the schedule and a room's bookings or free seats may be asked for. */
export const MAX_SCHEDULE_DAYS = 31;

export function bookingsByIds({ db }: VenuesStore, ids: readonly string[]): Promise<Booking[]> {
  return db
    .selectFrom('booking')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export function bookingsOfProjects({ db }: VenuesStore, projectIds: readonly string[]): Promise<Booking[]> {
  return db
    .selectFrom('booking')
    .selectAll()
    .where('project_id', 'in', [...projectIds])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** Bookings of these rooms whose windows overlap [from, to), every status. */
export function bookingsOfRooms({ db }: VenuesStore, roomIds: readonly string[], window: Window): Promise<Booking[]> {
  return db
    .selectFrom('booking')
    .selectAll()
    .where('room_id', 'in', [...roomIds])
    .where(sql<boolean>`tstzrange(starts_at, ends_at) && tstzrange(${window.from}, ${window.to})`)
    .orderBy('starts_at')
    .orderBy('id')
    .execute();
}

/**
 * Bookings overlapping [from, to). `platformId` keeps those of one platform's rooms; `visibleTo` keeps what a partner
 * platform may see: bookings of its own rooms and bookings of projects it hosts.
 */
export function schedule(
  { db }: VenuesStore,
  window: Window,
  filter: { platformId?: string; visibleTo?: string } = {},
): Promise<Booking[]> {
  const roomsOf = (platformId: string) =>
    db
      .selectFrom('room')
      .innerJoin('venue', 'venue.id', 'room.venue_id')
      .select('room.id')
      .where('venue.platform_id', '=', platformId);
  let query = db
    .selectFrom('booking')
    .selectAll('booking')
    .where(sql<boolean>`tstzrange(booking.starts_at, booking.ends_at) && tstzrange(${window.from}, ${window.to})`);
  if (filter.platformId) query = query.where('booking.room_id', 'in', roomsOf(filter.platformId));
  const visibleTo = filter.visibleTo;
  if (visibleTo) {
    query = query.where((eb) =>
      eb.or([eb('booking.room_id', 'in', roomsOf(visibleTo)), eb('booking.host_platform_id', '=', visibleTo)]),
    );
  }
  return query.orderBy('booking.starts_at').orderBy('booking.id').execute();
}
