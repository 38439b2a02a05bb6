// Row types of schema "venues", the rows as the domain hands them out, and the statuses every part agrees on.
import type { ColumnType, Generated, Kysely, Selectable } from 'kysely';
import type { Clock } from '../../lib/clock';
import type { MasterDataChangeTable } from '../../lib/master-data-audit';
import type { OutboxTable } from '../../lib/outbox';

export type PlatformLevel = 'PROVINCE' | 'CITY' | 'COUNTY';
export type BookingRole = 'MAIN' | 'SECONDARY';
export type BookingStatus = 'HELD' | 'CONFIRMED' | 'REJECTED' | 'EXPIRED' | 'RELEASED';
/** Statuses whose booking keeps its seats taken: the one definition of a live booking. */
export const LIVE_BOOKING_STATUSES: readonly BookingStatus[] = ['HELD', 'CONFIRMED'];
/** Statuses a booking never leaves: its seats are free again. */
export const CLOSED_BOOKING_STATUSES: readonly BookingStatus[] = ['REJECTED', 'EXPIRED', 'RELEASED'];
/** int8 columns arrive from pg as strings; they are written as numbers, bigints or strings. */
export type Fen = ColumnType<string, string | number | bigint, string | number | bigint>;

export interface PlatformTable {
  id: string;
  name: string;
  name_en: string;
  level: PlatformLevel;
  parent_id: string | null;
  expert_fee_rate: Fen;
  seat_service_fee: Fen;
  webhook_url: string | null;
}
export interface CooperationAgreementTable {
  platform_id: string;
  partner_id: string;
  auto_confirm: boolean;
}
export interface VenueTable {
  id: string;
  platform_id: string;
  name: string;
  address: ColumnType<string | null, string | null | undefined, string | null>;
}
export interface RoomTable {
  id: string;
  venue_id: string;
  name: string;
  seats: number;
  video_terminal: boolean;
  /** Set when the room was retired: it is never offered again. */
  retired_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}
export interface SeatTable {
  room_id: string;
  seat_no: number;
}
export interface BookingTable {
  id: string;
  arrangement_id: string;
  room_id: string;
  project_id: string;
  host_platform_id: string;
  role: BookingRole;
  seats: number;
  starts_at: Date;
  ends_at: Date;
  status: BookingStatus;
  hold_expires_at: Date | null;
  reason: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export interface BookingSeatTable {
  id: Generated<string>;
  /** Exactly one of booking_id and block_id is set. */
  booking_id: ColumnType<string | null, string | null | undefined, string | null>;
  block_id: ColumnType<string | null, string | null | undefined, string | null>;
  room_id: string;
  seat_no: number;
  /** tstzrange, written as '[start,end)'. */
  during: string;
  live: Generated<boolean>;
}

/** Seats of a room taken for the room's platform's own use (a local evaluation), kept by its operators or system. */
export interface RoomBlockTable {
  id: string;
  platform_id: string;
  external_ref: string;
  room_id: string;
  seats: number;
  starts_at: Date;
  ends_at: Date;
  reason: string;
  removed_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type ArrangementStatus = 'PENDING' | 'CONFIRMED' | 'FAILED';
/** One hold an arrangement asks for: a room, its role, and (for a SECONDARY) how many seats. */
export interface SeatRequest {
  roomId: string;
  role: BookingRole;
  seats: number;
}
export interface ArrangementTable {
  id: string;
  project_id: string;
  host_platform_id: string;
  starts_at: Date;
  ends_at: Date;
  hold_expires_at: Date;
  /** jsonb: SeatRequest[], in the order of the holds (booking i holds requests[i]). */
  requests: ColumnType<SeatRequest[], string, string>;
  booking_count: number;
  status: Generated<ArrangementStatus>;
  reason: string | null;
  created_at: Generated<Date>;
  decided_at: Date | null;
}
export type WebhookDeliveryStatus = 'PENDING' | 'DELIVERED' | 'DEAD';
export interface WebhookDeliveryTable {
  id: string;
  platform_id: string;
  /** null for a ping (testPartnerEndpoint). */
  booking_id: string | null;
  event: string;
  url: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  delivered_at: Date | null;
}

/** A version of a platform's rates, in effect from `effective_from` until the next version's. */
export interface FeeRateTable {
  platform_id: string;
  effective_from: Date;
  expert_fee_rate: Fen;
  seat_service_fee: Fen;
  created_at: Generated<Date>;
}

export interface VenuesDatabase {
  platform: PlatformTable;
  cooperation_agreement: CooperationAgreementTable;
  venue: VenueTable;
  room: RoomTable;
  seat: SeatTable;
  booking: BookingTable;
  booking_seat: BookingSeatTable;
  room_block: RoomBlockTable;
  master_data_change: MasterDataChangeTable;
  arrangement: ArrangementTable;
  webhook_delivery: WebhookDeliveryTable;
  outbox: OutboxTable;
  fee_rate: FeeRateTable;
}

export type Platform = Selectable<PlatformTable>;
export type Agreement = Selectable<CooperationAgreementTable>;
export type Venue = Selectable<VenueTable>;
export type Room = Selectable<RoomTable>;
export type Booking = Selectable<BookingTable>;
export type RoomBlock = Selectable<RoomBlockTable>;
export type Arrangement = Selectable<ArrangementTable>;
export type WebhookDelivery = Selectable<WebhookDeliveryTable>;
export type FeeRate = Selectable<FeeRateTable>;
/** A room as arrangeVenues checks it: its platform, whether the host may book it, its free seats over the window. */
export type ArrangementRoom = Room & { platform_id: string; partner: boolean; free: number };

/** A time window, [from, to). */
export interface Window {
  from: Date;
  to: Date;
}

/** What every part of the domain works with: its own database and clock. Never handed outside the domain. */
export interface VenuesStore {
  db: Kysely<VenuesDatabase>;
  clock: Clock;
}
