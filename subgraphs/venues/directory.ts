// The reference reads of the venues domain: platforms, their cooperation agreements, venues and rooms.
// Master-data writes (venues, rooms, room blocks, partner endpoints, fee rates) go in files of their own beside this one.
import type { ArrangementRoom, Agreement, Platform, PlatformLevel, Room, Venue, VenuesStore, Window } from './types';
import { rangeOf, takenSeats } from './seats';

export function platformsByIds({ db }: VenuesStore, ids: readonly string[]): Promise<Platform[]> {
  return db
    .selectFrom('platform')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

/** Platforms of a level (or all), the province first, then by region code. */
export function listPlatforms({ db }: VenuesStore, level?: PlatformLevel): Promise<Platform[]> {
  let query = db.selectFrom('platform').selectAll();
  if (level) query = query.where('level', '=', level);
  return query.orderBy('id').execute();
}

export function childrenOfPlatforms({ db }: VenuesStore, parentIds: readonly string[]): Promise<Platform[]> {
  return db
    .selectFrom('platform')
    .selectAll()
    .where('parent_id', 'in', [...parentIds])
    .orderBy('id')
    .execute();
}

export function agreementsOfPlatforms({ db }: VenuesStore, platformIds: readonly string[]): Promise<Agreement[]> {
  return db
    .selectFrom('cooperation_agreement')
    .selectAll()
    .where('platform_id', 'in', [...platformIds])
    .orderBy('partner_id')
    .execute();
}

export function venuesByIds({ db }: VenuesStore, ids: readonly string[]): Promise<Venue[]> {
  return db
    .selectFrom('venue')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export function venuesOfPlatforms({ db }: VenuesStore, platformIds: readonly string[]): Promise<Venue[]> {
  return db
    .selectFrom('venue')
    .selectAll()
    .where('platform_id', 'in', [...platformIds])
    .orderBy('id')
    .execute();
}

export function roomsByIds({ db }: VenuesStore, ids: readonly string[]): Promise<Room[]> {
  return db
    .selectFrom('room')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export function roomsOfVenues({ db }: VenuesStore, venueIds: readonly string[]): Promise<Room[]> {
  return db
    .selectFrom('room')
    .selectAll()
    .where('venue_id', 'in', [...venueIds])
    .orderBy('id')
    .execute();
}

/** Each room with the platform it belongs to, for the rules that cross platform boundaries. */
export function roomsWithPlatform(
  { db }: VenuesStore,
  ids: readonly string[],
): Promise<(Room & { platform_id: string })[]> {
  return db
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .selectAll('room')
    .select('venue.platform_id')
    .where('room.id', 'in', [...ids])
    .execute();
}

/**
 * The rooms an arrangement asks for, each with its platform, whether the host has a cooperation agreement with that
 * platform (`partner`), and its seats free over the whole window: what arrangeVenues checks, in one statement.
 */
export async function roomsForArrangement(
  { db }: VenuesStore,
  hostId: string,
  roomIds: readonly string[],
  window: Window,
): Promise<ArrangementRoom[]> {
  const rows = await db
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .leftJoin('cooperation_agreement', (join) =>
      join
        .onRef('cooperation_agreement.partner_id', '=', 'venue.platform_id')
        .on('cooperation_agreement.platform_id', '=', hostId),
    )
    .selectAll('room')
    .select(['venue.platform_id', 'cooperation_agreement.partner_id as agreement_partner'])
    .select((eb) => takenSeats(eb, rangeOf(window)).as('taken'))
    .where('room.id', 'in', [...roomIds])
    // A retired room is never offered again: to an arrangement it does not exist.
    .where('room.retired_at', 'is', null)
    .execute();
  return rows.map(({ agreement_partner, taken, ...room }) => ({
    ...room,
    partner: agreement_partner !== null,
    free: room.seats - Number(taken),
  }));
}

/** Free seats of each room over the whole of [from, to): seats not held by any live booking or block overlapping it. */
export async function freeSeats(
  { db }: VenuesStore,
  roomIds: readonly string[],
  window: Window,
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('room')
    .select(['room.id', 'room.seats', 'room.retired_at'])
    .select((eb) => takenSeats(eb, rangeOf(window)).as('taken'))
    .where('room.id', 'in', [...roomIds])
    .execute();
  // Seats held by bookings and room blocks alike (both are seat rows); a retired room has none free.
  return new Map(rows.map((row) => [row.id, row.retired_at === null ? Math.max(0, row.seats - Number(row.taken)) : 0]));
}
