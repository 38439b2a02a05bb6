import { sql, type Kysely } from 'kysely';

// A reconciliation finds rooms whose bookings and blocks together hold more than their seats: a kind of its own.
const KINDS_BEFORE = sql`('WINDOW_MISMATCH', 'LIVE_BOOKING_OF_CLOSED_PROJECT', 'EXPIRED_HOLD',
  'SEAT_WITHOUT_CONFIRMED_BOOKING', 'INCOMPLETE_COMMITTEE', 'LEDGER_MISMATCH')`;
const KINDS_AFTER = sql`('WINDOW_MISMATCH', 'LIVE_BOOKING_OF_CLOSED_PROJECT', 'EXPIRED_HOLD',
  'SEAT_WITHOUT_CONFIRMED_BOOKING', 'INCOMPLETE_COMMITTEE', 'ROOM_OVERBOOKED', 'LEDGER_MISMATCH')`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table reconciliation_discrepancy drop constraint reconciliation_discrepancy_kind_check`.execute(db);
  await sql`alter table reconciliation_discrepancy add constraint reconciliation_discrepancy_kind_check
    check (kind in ${KINDS_AFTER})`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from reconciliation_discrepancy where kind = 'ROOM_OVERBOOKED'`.execute(db);
  await sql`alter table reconciliation_discrepancy drop constraint reconciliation_discrepancy_kind_check`.execute(db);
  await sql`alter table reconciliation_discrepancy add constraint reconciliation_discrepancy_kind_check
    check (kind in ${KINDS_BEFORE})`.execute(db);
}
