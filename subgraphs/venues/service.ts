// The venues domain's service: platforms, their cooperation agreements, venues, rooms and seat bookings. A thin face
// over the files that do the work, named by what they do:
//   directory.ts     reference reads: platforms, agreements, venues, rooms, free seats
//   bookings.ts      booking reads and the schedule
//   booking-saga.ts  arrangements: open, conclude, release a cancelled project's bookings; booking-holds.ts: hold
//   rooms.ts         master data: venues and rooms created, changed, retired
//   blocks.ts        room blocks: seats a platform takes for its own use, as seat rows like bookings
//   decisions.ts     a partner platform confirms or rejects a held booking
//   webhooks.ts      deliveries to partner platforms, their attempts and retries
//   seats.ts         the SQL rule for a seat taken over a window
// The service alone holds the domain's database; nothing outside venues gets it.
import { sql, type Kysely } from 'kysely';
import { systemClock, type Clock } from '../../lib/clock';
import type { Identity } from '../../lib/identity';
import type { Connection } from '../../lib/pagination';
import * as saga from './booking-saga';
import * as holds from './booking-holds';
import type { ArrangementHolds, ArrangementOutcome, NewArrangement } from './booking-saga';
import * as blocks from './blocks';
import * as bookings from './bookings';
import * as decisions from './decisions';
import * as directory from './directory';
import * as rooms from './rooms';
import type {
  Agreement,
  Arrangement,
  ArrangementRoom,
  Booking,
  FeeRate,
  Platform,
  PlatformLevel,
  Room,
  RoomBlock,
  Venue,
  VenuesDatabase,
  VenuesStore,
  WebhookDelivery,
  Window,
} from './types';
import * as webhooks from './webhooks';
import * as agreements from './agreements';
import * as changeLog from './change-log';
import * as endpoints from './endpoints';
import { UNCONFIGURED_DELIVERY, type PartnerDeliverySettings } from './endpoints';
import * as feeRates from './fee-rates';
import type { ChangeFilter, ChangePage, ChangeSlice } from '../../lib/master-data-log';
import type { WebhookAttemptResult } from './webhooks';

export class VenuesService {
  private readonly store: VenuesStore;

  constructor(
    db: Kysely<VenuesDatabase>,
    readonly clock: Clock = systemClock,
    /** How webhooks are delivered (app/ builds it from the configuration); without it nothing is sent. */
    private readonly delivery: PartnerDeliverySettings = UNCONFIGURED_DELIVERY,
  ) {
    this.store = { db, clock };
  }

  // ---------------------------------------------------------------- reference reads (directory.ts)

  platformsByIds(ids: readonly string[]): Promise<Platform[]> {
    return directory.platformsByIds(this.store, ids);
  }

  /** Platforms of a level (or all), the province first, then by region code. */
  listPlatforms(level?: PlatformLevel): Promise<Platform[]> {
    return directory.listPlatforms(this.store, level);
  }

  childrenOfPlatforms(parentIds: readonly string[]): Promise<Platform[]> {
    return directory.childrenOfPlatforms(this.store, parentIds);
  }

  agreementsOfPlatforms(platformIds: readonly string[]): Promise<Agreement[]> {
    return directory.agreementsOfPlatforms(this.store, platformIds);
  }

  venuesByIds(ids: readonly string[]): Promise<Venue[]> {
    return directory.venuesByIds(this.store, ids);
  }

  venuesOfPlatforms(platformIds: readonly string[]): Promise<Venue[]> {
    return directory.venuesOfPlatforms(this.store, platformIds);
  }

  roomsByIds(ids: readonly string[]): Promise<Room[]> {
    return directory.roomsByIds(this.store, ids);
  }

  roomsOfVenues(venueIds: readonly string[]): Promise<Room[]> {
    return directory.roomsOfVenues(this.store, venueIds);
  }

  /** Each room with the platform it belongs to, for the rules that cross platform boundaries. */
  roomsWithPlatform(ids: readonly string[]): Promise<(Room & { platform_id: string })[]> {
    return directory.roomsWithPlatform(this.store, ids);
  }

  /** The rooms an arrangement asks for, with their platform, whether the host may book them, their free seats. */
  roomsForArrangement(hostId: string, roomIds: readonly string[], window: Window): Promise<ArrangementRoom[]> {
    return directory.roomsForArrangement(this.store, hostId, roomIds, window);
  }

  /** Free seats of each room over the whole of [from, to). */
  freeSeats(roomIds: readonly string[], window: Window): Promise<Map<string, number>> {
    return directory.freeSeats(this.store, roomIds, window);
  }

  // ---------------------------------------------------------------- master data
  // Writes of the reference data (createVenue, createRoom, room blocks, partner endpoints, fee rates) go here, one
  // line each, delegating to files of their own beside directory.ts (rooms.ts, endpoints.ts, ...).

  createVenue(identity: Identity, platformId: string, input: rooms.VenueInput): Promise<Venue> {
    return rooms.createVenue(this.store, identity, platformId, input);
  }

  createRoom(identity: Identity, venueId: string, input: rooms.RoomInput): Promise<Room> {
    return rooms.createRoom(this.store, identity, venueId, input);
  }

  /** Seats lowered below what a live future booking or block holds: CONFLICT naming them. */
  updateRoom(identity: Identity, roomId: string, patch: rooms.RoomPatch): Promise<Room> {
    return rooms.updateRoom(this.store, identity, roomId, patch);
  }

  /** A retired room is never offered again; one with live future bookings or blocks cannot be retired. */
  retireRoom(identity: Identity, roomId: string): Promise<Room> {
    return rooms.retireRoom(this.store, identity, roomId);
  }

  /** Creates, or moves and resizes, the block of (the room's platform, externalRef); its seats are seat rows. */
  putRoomBlock(identity: Identity, input: blocks.PutRoomBlock): Promise<RoomBlock> {
    return blocks.putRoomBlock(this.store, identity, input);
  }

  removeRoomBlock(identity: Identity, platformId: string, externalRef: string): Promise<RoomBlock> {
    return blocks.removeRoomBlock(this.store, identity, platformId, externalRef);
  }

  blocksByIds(ids: readonly string[]): Promise<RoomBlock[]> {
    return blocks.blocksByIds(this.store, ids);
  }

  /** Live blocks of these rooms overlapping [from, to). */
  blocksOfRooms(roomIds: readonly string[], window: Window): Promise<RoomBlock[]> {
    return blocks.blocksOfRooms(this.store, roomIds, window);
  }

  /** Live blocks overlapping [from, to), of one platform's rooms or all: the schedule's blocks. */
  scheduleBlocks(window: Window, filter: { platformId?: string; visibleTo?: string } = {}): Promise<RoomBlock[]> {
    return blocks.scheduleBlocks(this.store, window, filter);
  }

  /** Sets or clears a platform's partner endpoint (endpoints.ts), its address checked now and at every delivery. */
  setPartnerEndpoint(identity: Identity, platformId: string, url: string | null): Promise<Platform> {
    return endpoints.setPartnerEndpoint(this.store, this.delivery, identity, platformId, url);
  }

  /** Sends a signed ping to a platform's endpoint and returns its delivery. */
  testPartnerEndpoint(identity: Identity, platformId: string): Promise<WebhookDelivery> {
    return endpoints.testPartnerEndpoint(this.store, this.delivery, identity, platformId);
  }

  setCooperationAgreement(
    identity: Identity,
    platformId: string,
    partnerId: string,
    autoConfirm: boolean,
  ): Promise<Agreement> {
    return agreements.setCooperationAgreement(this.store, identity, platformId, partnerId, autoConfirm);
  }

  endCooperationAgreement(identity: Identity, platformId: string, partnerId: string): Promise<Platform> {
    return agreements.endCooperationAgreement(this.store, identity, platformId, partnerId);
  }

  setFeeRates(
    identity: Identity,
    args: { platformId: string; expertFeeRate: bigint; seatServiceFee: bigint; effectiveFrom: Date },
  ): Promise<Platform> {
    return feeRates.setFeeRates(this.store, identity, args);
  }

  /** Every version of each platform's rates, newest first. */
  feeRateHistory(platformIds: readonly string[]): Promise<FeeRate[]> {
    return feeRates.feeRateHistory(this.store, platformIds);
  }

  /** The rates of each platform in effect at an instant (the fee advance asks for its evaluation's start). */
  feeRatesAt(platformIds: readonly string[], at: Date): Promise<FeeRate[]> {
    return feeRates.feeRatesAt(this.store, platformIds, at);
  }

  /** A slice of this domain's change records, newest first (the experts subgraph merges them into masterDataChanges). */
  masterDataChanges(filter: ChangeFilter, page: ChangePage): Promise<ChangeSlice> {
    return changeLog.masterDataChanges(this.store, filter, page);
  }

  // ---------------------------------------------------------------- booking reads (bookings.ts)

  bookingsByIds(ids: readonly string[]): Promise<Booking[]> {
    return bookings.bookingsByIds(this.store, ids);
  }

  bookingsOfProjects(projectIds: readonly string[]): Promise<Booking[]> {
    return bookings.bookingsOfProjects(this.store, projectIds);
  }

  /** Bookings of these rooms whose windows overlap [from, to), every status. */
  bookingsOfRooms(roomIds: readonly string[], window: Window): Promise<Booking[]> {
    return bookings.bookingsOfRooms(this.store, roomIds, window);
  }

  /** Bookings overlapping [from, to), of one platform's rooms, or as a partner platform may see them. */
  schedule(window: Window, filter: { platformId?: string; visibleTo?: string } = {}): Promise<Booking[]> {
    return bookings.schedule(this.store, window, filter);
  }

  // ---------------------------------------------------------------- the booking saga's verbs (booking-saga.ts)

  /** Records an arrangement once; a second call with the same id returns the first one unchanged. */
  openArrangement(input: NewArrangement): Promise<Arrangement> {
    return saga.openArrangement(this.store, input);
  }

  getArrangement(id: string): Promise<Arrangement> {
    return saga.getArrangement(this.store, id);
  }

  /** PENDING arrangements whose holds are past their expiry: the sweep settles them. */
  overdueArrangements(limit = 100): Promise<string[]> {
    return saga.overdueArrangements(this.store, limit);
  }

  /** Holds every request of a PENDING arrangement and decides it if it can be, in one transaction; idempotent. */
  holdArrangement(arrangementId: string): Promise<ArrangementHolds> {
    return holds.holdArrangement(this.store, arrangementId);
  }

  /** Decides an arrangement if it can be decided, under its lock: confirmed, failed (releasing every live booking) or still PENDING. */
  concludeArrangement(arrangementId: string, options: { final: boolean }): Promise<ArrangementOutcome> {
    return saga.concludeArrangement(this.store, arrangementId, options);
  }

  /** Releases every live booking of a project (it was cancelled) and closes its pending arrangements so no hold follows. */
  releaseProjectBookings(projectId: string, reason: string): Promise<Booking[]> {
    return saga.releaseProjectBookings(this.store, projectId, reason);
  }

  // ---------------------------------------------------------------- partner decisions (decisions.ts)

  /** The room's platform confirms a held booking. */
  confirmBooking(identity: Identity, bookingId: string): Promise<Booking> {
    return decisions.confirmBooking(this.store, identity, bookingId);
  }

  /** The room's platform rejects a held booking, saying why; the whole arrangement then fails. */
  rejectBooking(identity: Identity, bookingId: string, reason: string): Promise<Booking> {
    return decisions.rejectBooking(this.store, identity, bookingId, reason);
  }

  // ---------------------------------------------------------------- webhooks to partner platforms (webhooks.ts)

  webhookDelivery(id: string): Promise<WebhookDelivery | undefined> {
    return webhooks.webhookDelivery(this.store, id);
  }

  /** The exact body a delivery posts: canonical JSON, so its signature is reproducible. */
  webhookBody(delivery: WebhookDelivery): string {
    return webhooks.webhookBody(delivery);
  }

  /** One signed attempt of a delivery through the address rules (lib/safe-delivery.ts); nothing is recorded. */
  attemptWebhook(delivery: WebhookDelivery, attempt: number): Promise<WebhookAttemptResult> {
    return endpoints.attemptDelivery(this.delivery, delivery, attempt);
  }

  /** Makes attempt `attempt` of a delivery and records it: the retries follow the configured policy. */
  async deliverWebhook(id: string, attempt: number): Promise<WebhookDelivery | undefined> {
    const delivery = await webhooks.webhookDelivery(this.store, id);
    if (!delivery || delivery.status !== 'PENDING' || delivery.attempts >= attempt) return delivery;
    const result = await endpoints.attemptDelivery(this.delivery, delivery, attempt);
    return webhooks.recordWebhookAttempt(this.store, id, attempt, result, {
      maxAttempts: this.delivery.maxAttempts,
      retryDelayMs: this.delivery.retryDelayMs,
    });
  }

  /** Records the outcome of an attempt once; queues the next one, or leaves the delivery DEAD after the last. */
  recordWebhookAttempt(
    id: string,
    attempt: number,
    result: WebhookAttemptResult,
    policy: { maxAttempts: number; retryDelayMs: number },
  ): Promise<WebhookDelivery | undefined> {
    return webhooks.recordWebhookAttempt(this.store, id, attempt, result, policy);
  }

  /** A platform's webhook deliveries, newest first. */
  webhookDeliveries(
    platformId: string,
    args: { first?: number | null; after?: string | null },
  ): Promise<Connection<WebhookDelivery>> {
    return webhooks.webhookDeliveries(this.store, platformId, args);
  }

  async ready(): Promise<boolean> {
    await sql`select 1`.execute(this.store.db);
    return true;
  }
}
