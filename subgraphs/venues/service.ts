// The venues domain: platforms, their cooperation agreements, venues, rooms and seat bookings.
import { sql, type ExpressionBuilder, type Insertable, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import { actorOf } from '../../lib/authz';
import { canonicalJson } from '../../lib/canonical-json';
import { systemClock, type Clock } from '../../lib/clock';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { badInput, conflict, forbidden, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { writeOutbox } from '../../lib/outbox';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../lib/pagination';
import type {
  ArrangementStatus,
  ArrangementTable,
  BookingStatus,
  BookingTable,
  CooperationAgreementTable,
  PlatformLevel,
  PlatformTable,
  RoomTable,
  SeatRequest,
  VenueTable,
  VenuesDatabase,
  WebhookDeliveryTable,
} from './types';

export type Platform = Selectable<PlatformTable>;
export type Agreement = Selectable<CooperationAgreementTable>;
export type Venue = Selectable<VenueTable>;
export type Room = Selectable<RoomTable>;
export type Booking = Selectable<BookingTable>;
export type Arrangement = Selectable<ArrangementTable>;
export type WebhookDelivery = Selectable<WebhookDeliveryTable>;
/** A room as arrangeVenues checks it: its platform, whether the host may book it, its free seats over the window. */
export type ArrangementRoom = Room & { platform_id: string; partner: boolean; free: number };
export type { SeatRequest };

export const LIVE_BOOKING_STATUSES = ['HELD', 'CONFIRMED'] as const;
export const MAX_SCHEDULE_DAYS = 31;
/** Statuses a booking never leaves: its seats are free again. */
export const CLOSED_BOOKING_STATUSES: readonly BookingStatus[] = ['REJECTED', 'EXPIRED', 'RELEASED'];
/** Holds that lose a seat race (SQLSTATE 23P01) pick other seats this many times before reporting CONFLICT. */
export const HOLD_ATTEMPTS = 5;
/** The outbox message a partner's decision writes, so the saga settles the arrangement. */
export const SETTLE_JOB = { queue: 'venue-bookings', name: 'settle' } as const;
export const WEBHOOK_JOB = { queue: 'notifications', name: 'webhook' } as const;
export const DECISION_NEEDED_EVENT = 'booking.decision-needed';
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

export interface WebhookAttemptResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
}

type Decision = 'CONFIRMED' | 'REJECTED';
interface BookingMatch {
  statuses: BookingStatus[];
  arrangementId?: string;
  projectId?: string;
  /** Only holds whose expiry is at or before this instant. */
  expiredBy?: Date;
}
const DECIDERS = ['PLATFORM_OPERATOR', 'PARTNER_SYSTEM'] as const;

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

/** A window as the tstzrange seat rows hold, [from, to). */
function rangeOf(window: Window): RawBuilder<string> {
  return sql<string>`tstzrange(${window.from}, ${window.to})`;
}

/** An arrangement's evaluation window as the tstzrange its seat rows hold. */
function windowOf(arrangement: Arrangement): RawBuilder<string> {
  return rangeOf({ from: arrangement.starts_at, to: arrangement.ends_at });
}

/** A seat row that keeps its seat taken at some moment of `range`: the one rule for "not free" over a window. */
function takesSeatDuring(range: RawBuilder<string>): RawBuilder<boolean> {
  return sql<boolean>`(booking_seat.live and booking_seat.during && ${range})`;
}

/** The seats of the room `room.id` taken at some moment of `range` (a correlated subquery). */
function takenSeats(eb: ExpressionBuilder<VenuesDatabase, 'room'>, range: RawBuilder<string>) {
  return eb
    .selectFrom('booking_seat')
    .select(eb.fn.count<string>(sql`distinct booking_seat.seat_no`).as('taken'))
    .whereRef('booking_seat.room_id', '=', 'room.id')
    .where(takesSeatDuring(range));
}

/** The bookings with `updated` ones put in place of their earlier rows, by id. */
function byId(bookings: Booking[], updated: Booking[] = []): Booking[] {
  const merged = new Map(bookings.map((booking) => [booking.id, booking]));
  for (const booking of updated) merged.set(booking.id, booking);
  return [...merged.values()].sort((a, b) => a.id.localeCompare(b.id));
}

export interface Window {
  from: Date;
  to: Date;
}

export class VenuesService {
  constructor(
    readonly db: Kysely<VenuesDatabase>,
    readonly clock: Clock = systemClock,
  ) {}

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

  /**
   * The rooms an arrangement asks for, each with its platform, whether the host has a cooperation agreement with that
   * platform (`partner`), and its seats free over the whole window: what arrangeVenues checks, in one statement.
   */
  async roomsForArrangement(hostId: string, roomIds: readonly string[], window: Window): Promise<ArrangementRoom[]> {
    const rows = await this.db
      .selectFrom('room')
      .innerJoin('venue', 'venue.id', 'room.venue_id')
      .leftJoin('cooperation_agreement', (join) => join.onRef('cooperation_agreement.partner_id', '=', 'venue.platform_id').on('cooperation_agreement.platform_id', '=', hostId))
      .selectAll('room')
      .select(['venue.platform_id', 'cooperation_agreement.partner_id as agreement_partner'])
      .select((eb) => takenSeats(eb, rangeOf(window)).as('taken'))
      .where('room.id', 'in', [...roomIds])
      .execute();
    return rows.map(({ agreement_partner, taken, ...room }) => ({ ...room, partner: agreement_partner !== null, free: room.seats - Number(taken) }));
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
      .select(['room.id', 'room.seats'])
      .select((eb) => takenSeats(eb, rangeOf(window)).as('taken'))
      .where('room.id', 'in', [...roomIds])
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

  // ---------------------------------------------------------------- the booking saga's verbs

  /** Records an arrangement once; a second call with the same id returns the first one unchanged. */
  async openArrangement(input: NewArrangement): Promise<Arrangement> {
    const opened = await this.db
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
    return opened ?? this.getArrangement(input.id);
  }

  async getArrangement(id: string): Promise<Arrangement> {
    const arrangement = await this.db.selectFrom('arrangement').selectAll().where('id', '=', id).executeTakeFirst();
    if (!arrangement) throw notFound('arrangement', id);
    return arrangement;
  }

  /** PENDING arrangements whose holds are past their expiry: the sweep settles them. */
  async overdueArrangements(limit = 100): Promise<string[]> {
    const rows = await this.db
      .selectFrom('arrangement')
      .select('id')
      .where('status', '=', 'PENDING')
      .where('hold_expires_at', '<=', this.clock.now())
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
  async holdArrangement(arrangementId: string): Promise<ArrangementHolds> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => this.holdArrangementIn(trx, arrangementId));
      } catch (error) {
        if (sqlState(error) !== DB_ERRORS.exclusionViolation) throw error;
        if (attempt >= HOLD_ATTEMPTS) throw conflict(`the seats of this arrangement were taken by concurrent bookings ${HOLD_ATTEMPTS} times in a row; arrange again or choose other rooms`);
      }
    }
  }

  private async holdArrangementIn(trx: Transaction<VenuesDatabase>, arrangementId: string): Promise<ArrangementHolds> {
    // Lock order everywhere: arrangement, then its bookings. FOR UPDATE because the holds and the decision are one
    // transaction: a partner's decision (FOR SHARE) waits for both, and no hold follows a decision.
    const arrangement = await trx.selectFrom('arrangement').selectAll().where('id', '=', arrangementId).forUpdate().executeTakeFirst();
    if (!arrangement) throw notFound('arrangement', arrangementId);
    const existing = await trx.selectFrom('booking').selectAll().where('arrangement_id', '=', arrangementId).orderBy('id').execute();
    const rooms = await this.holdRoomsIn(trx, arrangement);
    const needsDecision = (request: SeatRequest) => request.role !== 'MAIN' && rooms.get(request.roomId)?.auto_confirm !== true;
    const made = new Set(existing.map((booking) => booking.id));
    const pending = arrangement.status === 'PENDING' ? arrangement.requests.flatMap((_request, index) => (made.has(bookingIdFor(arrangementId, index)) ? [] : [index])) : [];
    const inserted = pending.length > 0 ? await this.insertHoldsIn(trx, arrangement, pending, rooms, needsDecision) : [];
    // A hold that failed is a booking without seat rows; only an earlier run's bookings need looking up.
    const withSeats = existing.length > 0 ? await trx.selectFrom('booking_seat').select('booking_id').distinct().where('booking_id', 'in', [...made]).execute() : [];
    const held = new Set([...withSeats.map((row) => row.booking_id), ...inserted.filter((booking) => booking.status !== 'REJECTED').map((booking) => booking.id)]);
    const outcome = await this.decideIn(trx, arrangement, byId([...existing, ...inserted]), { final: true });
    const current = new Map(outcome.bookings.map((booking) => [booking.id, booking]));
    const holds = arrangement.requests.flatMap((request, index): HoldResult[] => {
      const booking = current.get(bookingIdFor(arrangementId, index));
      return booking ? [{ booking, outcome: held.has(booking.id) ? 'held' : 'failed', needsDecision: needsDecision(request) }] : [];
    });
    return { ...outcome, holds };
  }

  /**
   * The rooms an arrangement asks for, with their platform's webhook, whether its agreement with the host auto-confirms,
   * and their seats free over the arrangement's window (not held by a live booking overlapping it), in seat order.
   */
  private async holdRoomsIn(trx: Transaction<VenuesDatabase>, arrangement: Arrangement): Promise<Map<string, HoldRoom>> {
    const window = windowOf(arrangement);
    const rows = await trx
      .selectFrom('room')
      .innerJoin('venue', 'venue.id', 'room.venue_id')
      .innerJoin('platform', 'platform.id', 'venue.platform_id')
      .leftJoin('cooperation_agreement', (join) =>
        join.onRef('cooperation_agreement.partner_id', '=', 'venue.platform_id').on('cooperation_agreement.platform_id', '=', arrangement.host_platform_id),
      )
      .select(['room.id', 'room.seats', 'platform.id as platform_id', 'platform.webhook_url', 'cooperation_agreement.auto_confirm'])
      .select((eb) => {
        const free = eb
          .selectFrom('seat')
          .select('seat.seat_no')
          .whereRef('seat.room_id', '=', 'room.id')
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
      .where('room.id', 'in', arrangement.requests.map((request) => request.roomId))
      .execute();
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** Inserts the bookings of the requests at `indexes` and the seat rows of those that have enough free seats. */
  private async insertHoldsIn(
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
      seats.push(...available.splice(0, wanted).map((seat_no) => ({ booking_id: booking.id, room_id: room.id, seat_no })));
    }
    const inserted = await trx.insertInto('booking').values(bookings).returningAll().execute();
    if (seats.length > 0) {
      // In one order across transactions (room, then seat), so concurrent holds wait for each other without deadlocking.
      seats.sort((a, b) => a.room_id.localeCompare(b.room_id) || a.seat_no - b.seat_no);
      await trx.insertInto('booking_seat').values(seats.map((seat) => ({ ...seat, during: windowOf(arrangement) }))).execute();
    }
    for (const booking of inserted) {
      const room = rooms.get(booking.room_id);
      if (booking.status === 'HELD' && room?.webhook_url) await this.queueDecisionWebhookIn(trx, booking, room.platform_id, room.webhook_url);
    }
    return inserted;
  }

  /** The room's platform confirms a held booking (PLATFORM_OPERATOR or PARTNER_SYSTEM of that platform). */
  async confirmBooking(identity: Identity, bookingId: string): Promise<Booking> {
    await this.requireDecider(identity, bookingId, 'confirm');
    return this.decideBooking(bookingId, 'CONFIRMED', actorOf(identity), null);
  }

  /** The room's platform rejects a held booking, saying why; the whole arrangement then fails. */
  async rejectBooking(identity: Identity, bookingId: string, reason: string): Promise<Booking> {
    const trimmed = reason.trim();
    if (!trimmed) throw badInput('reason', 'say why the booking is rejected');
    if (trimmed.length > 500) throw badInput('reason', 'must be at most 500 characters');
    await this.requireDecider(identity, bookingId, 'reject');
    return this.decideBooking(bookingId, 'REJECTED', actorOf(identity), trimmed);
  }

  private async requireDecider(identity: Identity, bookingId: string, verb: string): Promise<void> {
    if (!(DECIDERS as readonly string[]).includes(identity.role)) {
      throw forbidden(`only a PLATFORM_OPERATOR or PARTNER_SYSTEM of the room's platform may ${verb} a booking; your role is ${identity.role}`);
    }
    const [booking] = await this.bookingsByIds([bookingId]);
    if (!booking) throw notFound('booking', bookingId);
    const [room] = await this.roomsWithPlatform([booking.room_id]);
    if (room?.platform_id !== identity.platform) {
      throw forbidden(`booking ${bookingId} is of a room of platform ${room?.platform_id}; only that platform may ${verb} it, your token is for ${identity.platform}`);
    }
  }

  /**
   * HELD → CONFIRMED | REJECTED. Deciding the same way twice is a no-op; any other state, or a hold past its expiry, is
   * CONFLICT. An outbox message in the same transaction makes the saga settle the arrangement.
   */
  private async decideBooking(bookingId: string, decision: Decision, actor: string, reason: string | null): Promise<Booking> {
    return this.db.transaction().execute(async (trx) => {
      const [unlocked] = await trx.selectFrom('booking').select('arrangement_id').where('id', '=', bookingId).execute();
      if (!unlocked) throw notFound('booking', bookingId);
      await trx.selectFrom('arrangement').select('id').where('id', '=', unlocked.arrangement_id).forShare().execute();
      const booking = await trx.selectFrom('booking').selectAll().where('id', '=', bookingId).forUpdate().executeTakeFirstOrThrow();
      if (booking.status === decision) return booking;
      const verb = decision === 'CONFIRMED' ? 'confirmed' : 'rejected';
      if (booking.status !== 'HELD') throw conflict(`booking ${bookingId} is ${booking.status}; only a HELD booking can be ${verb}`);
      const now = this.clock.now();
      if (booking.hold_expires_at && booking.hold_expires_at.getTime() <= now.getTime()) {
        throw conflict(`the hold of booking ${bookingId} expired at ${booking.hold_expires_at.toISOString()}; the host must arrange venues again`);
      }
      const updated = await trx
        .updateTable('booking')
        .set({ status: decision, reason, updated_at: now })
        .where('id', '=', bookingId)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (decision === 'REJECTED') await trx.updateTable('booking_seat').set({ live: false }).where('booking_id', '=', bookingId).execute();
      await writeOutbox<VenuesDatabase>(trx, { ...SETTLE_JOB, data: { arrangementId: booking.arrangement_id, bookingId, decision, actor, reason } });
      return updated;
    });
  }

  /**
   * Decides an arrangement if it can be decided: holds past their expiry expire; any booking REJECTED, EXPIRED or
   * RELEASED (or, when `final`, a hold that was never made) fails it and releases every live booking; all CONFIRMED
   * confirms it. Otherwise it stays PENDING. One transaction under the arrangement's lock: never a mix.
   */
  async concludeArrangement(arrangementId: string, options: { final: boolean }): Promise<ArrangementOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const arrangement = await trx.selectFrom('arrangement').selectAll().where('id', '=', arrangementId).forUpdate().executeTakeFirst();
      if (!arrangement) throw notFound('arrangement', arrangementId);
      const bookings = await trx.selectFrom('booking').selectAll().where('arrangement_id', '=', arrangementId).orderBy('id').execute();
      return this.decideIn(trx, arrangement, bookings, options);
    });
  }

  /** concludeArrangement's decision, for an arrangement locked FOR UPDATE and its bookings read under that lock. */
  private async decideIn(trx: Transaction<VenuesDatabase>, arrangement: Arrangement, bookings: Booking[], options: { final: boolean }): Promise<ArrangementOutcome> {
    if (arrangement.status !== 'PENDING') return { arrangement, bookings };
    const now = this.clock.now();
    let current = bookings;
    const overdue = (booking: Booking) => booking.status === 'HELD' && booking.hold_expires_at !== null && booking.hold_expires_at.getTime() <= now.getTime();
    if (current.some(overdue)) {
      const reason = `the hold expired at ${arrangement.hold_expires_at.toISOString()} before the partner decided`;
      current = byId(current, await this.closeBookingsIn(trx, { arrangementId: arrangement.id, statuses: ['HELD'], expiredBy: now }, 'EXPIRED', reason));
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
      current = byId(current, await this.closeBookingsIn(trx, { arrangementId: arrangement.id, statuses: ['HELD', 'CONFIRMED'] }, 'RELEASED', `arrangement failed: ${reason}`));
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
  async releaseProjectBookings(projectId: string, reason: string): Promise<Booking[]> {
    return this.db.transaction().execute(async (trx) => {
      const now = this.clock.now();
      await trx
        .updateTable('arrangement')
        .set({ status: 'FAILED', reason: `${CANCELLED_REASON}: ${reason}`.slice(0, 1000), decided_at: now })
        .where('project_id', '=', projectId)
        .where('status', '=', 'PENDING')
        .execute();
      return this.closeBookingsIn(trx, { projectId, statuses: ['HELD', 'CONFIRMED'] }, 'RELEASED', `${CANCELLED_REASON}: ${reason}`);
    });
  }

  /** Moves the matching live bookings to a closed status and frees their seats, in the caller's transaction. */
  private async closeBookingsIn(trx: Transaction<VenuesDatabase>, match: BookingMatch, status: 'EXPIRED' | 'RELEASED', reason: string): Promise<Booking[]> {
    let query = trx
      .updateTable('booking')
      .set({ status, reason: reason.slice(0, 1000), updated_at: this.clock.now() })
      .where('status', 'in', match.statuses);
    if (match.arrangementId) query = query.where('arrangement_id', '=', match.arrangementId);
    if (match.projectId) query = query.where('project_id', '=', match.projectId);
    if (match.expiredBy) query = query.where('hold_expires_at', '<=', match.expiredBy);
    const closed = await query.returningAll().execute();
    if (closed.length > 0) {
      await trx.updateTable('booking_seat').set({ live: false }).where('booking_id', 'in', closed.map((booking) => booking.id)).execute();
    }
    return closed;
  }

  // ---------------------------------------------------------------- webhooks to partner platforms

  /** A delivery row and its first job, in the hold's transaction, for a partner platform with a webhook URL. */
  private async queueDecisionWebhookIn(trx: Transaction<VenuesDatabase>, booking: Booking, platformId: string, url: string): Promise<void> {
    const id = `whd_${booking.id}`;
    // Seat counts, windows and ids only: a partner learns nothing about who will sit there.
    const payload = {
      event: DECISION_NEEDED_EVENT,
      deliveryId: id,
      booking: {
        id: booking.id,
        roomId: booking.room_id,
        platformId,
        projectId: booking.project_id,
        hostPlatformId: booking.host_platform_id,
        role: booking.role,
        seats: booking.seats,
        startsAt: booking.starts_at.toISOString(),
        endsAt: booking.ends_at.toISOString(),
        holdExpiresAt: booking.hold_expires_at?.toISOString() ?? null,
      },
      respondWith: ['confirmBooking(bookingId)', 'rejectBooking(bookingId, reason)'],
    };
    await trx
      .insertInto('webhook_delivery')
      .values({ id, platform_id: platformId, booking_id: booking.id, event: DECISION_NEEDED_EVENT, url, payload: JSON.stringify(payload), last_status_code: null, last_error: null, delivered_at: null })
      .onConflict((oc) => oc.columns(['booking_id', 'event']).doNothing())
      .execute();
    await writeOutbox<VenuesDatabase>(trx, { ...WEBHOOK_JOB, data: { deliveryId: id, attempt: 1 } });
  }

  async webhookDelivery(id: string): Promise<WebhookDelivery | undefined> {
    return this.db.selectFrom('webhook_delivery').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The exact body a delivery posts: canonical JSON, so its signature is reproducible. */
  webhookBody(delivery: WebhookDelivery): string {
    return canonicalJson(delivery.payload as Parameters<typeof canonicalJson>[0]);
  }

  /**
   * Records the outcome of attempt `attempt` (once: a replayed attempt changes nothing). A failure before the last
   * attempt queues the next one after `retryDelayMs`; the last failure leaves the delivery DEAD, the dead letter.
   */
  async recordWebhookAttempt(id: string, attempt: number, result: WebhookAttemptResult, policy: { maxAttempts: number; retryDelayMs: number }): Promise<WebhookDelivery | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const now = this.clock.now();
      const dead = !result.delivered && attempt >= policy.maxAttempts;
      const updated = await trx
        .updateTable('webhook_delivery')
        .set({
          attempts: attempt,
          status: result.delivered ? 'DELIVERED' : dead ? 'DEAD' : 'PENDING',
          last_status_code: result.statusCode,
          last_error: result.error?.slice(0, 500) ?? null,
          updated_at: now,
          delivered_at: result.delivered ? now : null,
        })
        .where('id', '=', id)
        .where('status', '=', 'PENDING')
        .where('attempts', '=', attempt - 1)
        .returningAll()
        .executeTakeFirst();
      if (updated && !result.delivered && !dead) {
        await writeOutbox<VenuesDatabase>(trx, { ...WEBHOOK_JOB, data: { deliveryId: id, attempt: attempt + 1 }, delayMs: policy.retryDelayMs * 2 ** (attempt - 1) });
      }
      return updated;
    });
  }

  /** A platform's webhook deliveries, newest first. */
  async webhookDeliveries(platformId: string, args: { first?: number | null; after?: string | null }): Promise<Connection<WebhookDelivery>> {
    const limit = pageSize(args.first);
    const cursor = decodeCursor(args.after, 2);
    const total = await this.db
      .selectFrom('webhook_delivery')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('platform_id', '=', platformId)
      .executeTakeFirstOrThrow();
    let query = this.db.selectFrom('webhook_delivery').selectAll().where('platform_id', '=', platformId);
    if (cursor) {
      const [createdAt, id] = cursor as [string, string];
      query = query.where(sql<boolean>`(created_at, id) < (${new Date(createdAt)}, ${id})`);
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    return toConnection(rows, limit, Number(total.count), (row) => [row.created_at.toISOString(), row.id]);
  }

  async ready(): Promise<boolean> {
    await sql`select 1`.execute(this.db);
    return true;
  }
}
