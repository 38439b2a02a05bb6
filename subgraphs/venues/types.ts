// Row types of schema "venues".
import type { ColumnType, Generated } from 'kysely';
import type { OutboxTable } from '../../lib/outbox';

export type PlatformLevel = 'PROVINCE' | 'CITY' | 'COUNTY';
export type BookingRole = 'MAIN' | 'SECONDARY';
export type BookingStatus = 'HELD' | 'CONFIRMED' | 'REJECTED' | 'EXPIRED' | 'RELEASED';
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
}
export interface RoomTable {
  id: string;
  venue_id: string;
  name: string;
  seats: number;
  video_terminal: boolean;
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
  booking_id: string;
  room_id: string;
  seat_no: number;
  /** tstzrange, written as '[start,end)'. */
  during: string;
  live: Generated<boolean>;
}

export interface VenuesDatabase {
  platform: PlatformTable;
  cooperation_agreement: CooperationAgreementTable;
  venue: VenueTable;
  room: RoomTable;
  seat: SeatTable;
  booking: BookingTable;
  booking_seat: BookingSeatTable;
  outbox: OutboxTable;
}
