// The venues domain: platforms, their cooperation agreements, venues, rooms and seat bookings.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { BookingTable, CooperationAgreementTable, PlatformLevel, PlatformTable, RoomTable, VenueTable, VenuesDatabase } from './types';

export type Platform = Selectable<PlatformTable>;
export type Agreement = Selectable<CooperationAgreementTable>;
export type Venue = Selectable<VenueTable>;
export type Room = Selectable<RoomTable>;
export type Booking = Selectable<BookingTable>;

export const LIVE_BOOKING_STATUSES = ['HELD', 'CONFIRMED'] as const;
export const MAX_SCHEDULE_DAYS = 31;

export interface Window {
  from: Date;
  to: Date;
}

export class VenuesService {
  constructor(readonly db: Kysely<VenuesDatabase>) {}

  platformsByIds(ids: readonly string[]): Promise<Platform[]> {
    return this.db.selectFrom('platform').selectAll().where('id', 'in', [...ids]).execute();
  }

  /** Platforms of a level (or all), the province first, then by region code. */
  listPlatforms(level?: PlatformLevel): Promise<Platform[]> {
    let query = this.db.selectFrom('platform').selectAll();
    if (level) query = query.where('level', '=', level);
    return query.orderBy('id').execute();
  }

  childrenOfPlatforms(parentIds: readonly string[]): Promise<Platform[]> {
    return this.db.selectFrom('platform').selectAll().where('parent_id', 'in', [...parentIds]).orderBy('id').execute();
  }

  agreementsOfPlatforms(platformIds: readonly string[]): Promise<Agreement[]> {
    return this.db.selectFrom('cooperation_agreement').selectAll().where('platform_id', 'in', [...platformIds]).orderBy('partner_id').execute();
  }

  /** The agreement under which `host` may book rooms of `partner`, if any. */
  async agreementBetween(hostId: string, partnerId: string): Promise<Agreement | undefined> {
    return this.db
      .selectFrom('cooperation_agreement')
      .selectAll()
      .where('platform_id', '=', hostId)
      .where('partner_id', '=', partnerId)
      .executeTakeFirst();
  }

  venuesByIds(ids: readonly string[]): Promise<Venue[]> {
    return this.db.selectFrom('venue').selectAll().where('id', 'in', [...ids]).execute();
  }

  venuesOfPlatforms(platformIds: readonly string[]): Promise<Venue[]> {
    return this.db.selectFrom('venue').selectAll().where('platform_id', 'in', [...platformIds]).orderBy('id').execute();
  }

  roomsByIds(ids: readonly string[]): Promise<Room[]> {
    return this.db.selectFrom('room').selectAll().where('id', 'in', [...ids]).execute();
  }

  roomsOfVenues(venueIds: readonly string[]): Promise<Room[]> {
    return this.db.selectFrom('room').selectAll().where('venue_id', 'in', [...venueIds]).orderBy('id').execute();
  }

  /** Each room with the platform it belongs to, for the rules that cross platform boundaries. */
  roomsWithPlatform(ids: readonly string[]): Promise<(Room & { platform_id: string })[]> {
    return this.db
      .selectFrom('room')
      .innerJoin('venue', 'venue.id', 'room.venue_id')
      .selectAll('room')
      .select('venue.platform_id')
      .where('room.id', 'in', [...ids])
      .execute();
  }

  bookingsByIds(ids: readonly string[]): Promise<Booking[]> {
    return this.db.selectFrom('booking').selectAll().where('id', 'in', [...ids]).execute();
  }

  bookingsOfProjects(projectIds: readonly string[]): Promise<Booking[]> {
    return this.db.selectFrom('booking').selectAll().where('project_id', 'in', [...projectIds]).orderBy('created_at').orderBy('id').execute();
  }

  /** Bookings of these rooms whose windows overlap [from, to), every status. */
  bookingsOfRooms(roomIds: readonly string[], window: Window): Promise<Booking[]> {
    return this.db
      .selectFrom('booking')
      .selectAll()
      .where('room_id', 'in', [...roomIds])
      .where(sql<boolean>`tstzrange(starts_at, ends_at) && tstzrange(${window.from}, ${window.to})`)
      .orderBy('starts_at')
      .orderBy('id')
      .execute();
  }

  /** Free seats of each room over the whole of [from, to): seats not held by any live booking overlapping it. */
  async freeSeats(roomIds: readonly string[], window: Window): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('room')
      .leftJoin('booking_seat', (join) =>
        join
          .onRef('booking_seat.room_id', '=', 'room.id')
          .on('booking_seat.live', '=', true)
          .on(sql<boolean>`booking_seat.during && tstzrange(${window.from}, ${window.to})`),
      )
      .select(['room.id', 'room.seats'])
      .select((eb) => eb.fn.count<string>(sql`distinct booking_seat.seat_no`).as('taken'))
      .where('room.id', 'in', [...roomIds])
      .groupBy(['room.id', 'room.seats'])
      .execute();
    return new Map(rows.map((row) => [row.id, row.seats - Number(row.taken)]));
  }

  /**
   * Bookings overlapping [from, to). `platformId` keeps those of one platform's rooms; `visibleTo` keeps what a partner
   * platform may see: bookings of its own rooms and bookings of projects it hosts.
   */
  schedule(window: Window, filter: { platformId?: string; visibleTo?: string } = {}): Promise<Booking[]> {
    const roomsOf = (platformId: string) =>
      this.db.selectFrom('room').innerJoin('venue', 'venue.id', 'room.venue_id').select('room.id').where('venue.platform_id', '=', platformId);
    let query = this.db
      .selectFrom('booking')
      .selectAll('booking')
      .where(sql<boolean>`tstzrange(booking.starts_at, booking.ends_at) && tstzrange(${window.from}, ${window.to})`);
    if (filter.platformId) query = query.where('booking.room_id', 'in', roomsOf(filter.platformId));
    const visibleTo = filter.visibleTo;
    if (visibleTo) {
      query = query.where((eb) => eb.or([eb('booking.room_id', 'in', roomsOf(visibleTo)), eb('booking.host_platform_id', '=', visibleTo)]));
    }
    return query.orderBy('booking.starts_at').orderBy('booking.id').execute();
  }

  async ready(): Promise<boolean> {
    await sql`select 1`.execute(this.db);
    return true;
  }
}
