// Rooms kept through the API (up to 500 seats, retired rather than deleted) and room blocks: a block takes seats through
// the same seat rows and exclusion constraint as bookings, so a block and bookings together never exceed the room.
import { sql, type Kysely } from 'kysely';
import { createMasterDataChangeTable } from '../../../lib/master-data-audit';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table room drop constraint if exists room_seats_check`.execute(db);
  await sql`alter table room add constraint room_seats_check check (seats between 1 and 500)`.execute(db);
  await sql`alter table room add column retired_at timestamptz`.execute(db);
  await sql`alter table venue add column address text`.execute(db);

  await sql`
    create table room_block (
      id text primary key,
      platform_id text not null references platform(id),
      external_ref text not null,
      room_id text not null references room(id),
      seats integer not null check (seats between 1 and 500),
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      reason text not null,
      removed_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (platform_id, external_ref),
      check (ends_at > starts_at)
    )`.execute(db);
  await sql`create index room_block_room_window_idx on room_block using gist (room_id, tstzrange(starts_at, ends_at))`.execute(
    db,
  );
  await sql`create index room_block_window_idx on room_block using gist (tstzrange(starts_at, ends_at))`.execute(db);

  // A seat row belongs to a booking or to a block, never both; the exclusion constraint stays the one guarantee.
  await sql`alter table booking_seat drop constraint booking_seat_pkey`.execute(db);
  await sql`alter table booking_seat alter column booking_id drop not null`.execute(db);
  await sql`alter table booking_seat add column block_id text references room_block(id)`.execute(db);
  await sql`alter table booking_seat add column id bigint generated always as identity primary key`.execute(db);
  await sql`alter table booking_seat add constraint booking_seat_one_holder check (num_nonnulls(booking_id, block_id) = 1)`.execute(
    db,
  );
  await sql`create unique index booking_seat_booking_seat_key on booking_seat (booking_id, seat_no) where booking_id is not null`.execute(
    db,
  );
  await sql`create index booking_seat_block_idx on booking_seat (block_id) where block_id is not null`.execute(db);

  // Live in step: a booking's seats are live exactly while it is HELD or CONFIRMED; a block's while it is not removed.
  await sql`
    create or replace function booking_seat_live_in_step() returns trigger language plpgsql as $$
    declare
      booking_checked text;
      block_checked text;
      disagreeing integer;
    begin
      if TG_TABLE_NAME = 'booking' then
        booking_checked := NEW.id;
      else
        booking_checked := NEW.booking_id;
        block_checked := NEW.block_id;
      end if;
      if booking_checked is not null then
        select count(*) into disagreeing
          from booking_seat s join booking b on b.id = s.booking_id
          where s.booking_id = booking_checked and s.live <> (b.status in ('HELD', 'CONFIRMED'));
        if disagreeing > 0 then
          raise exception 'booking % has seats whose live flag disagrees with its status', booking_checked using errcode = '23514';
        end if;
      end if;
      if block_checked is not null then
        select count(*) into disagreeing
          from booking_seat s join room_block k on k.id = s.block_id
          where s.block_id = block_checked and s.live <> (k.removed_at is null);
        if disagreeing > 0 then
          raise exception 'room block % has seats whose live flag disagrees with its removal', block_checked using errcode = '23514';
        end if;
      end if;
      return null;
    end $$`.execute(db);

  // The master-data change records of this schema (lib/master-data-audit.ts), unless an earlier migration made them.
  const existing = await sql<{ name: string | null }>`select to_regclass('master_data_change')::text as name`.execute(
    db,
  );
  if (!existing.rows[0]?.name) await createMasterDataChangeTable(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from booking_seat where block_id is not null`.execute(db);
  await sql`alter table booking_seat drop constraint booking_seat_one_holder`.execute(db);
  await sql`drop index if exists booking_seat_booking_seat_key`.execute(db);
  await sql`alter table booking_seat drop column id`.execute(db);
  await sql`alter table booking_seat drop column block_id`.execute(db);
  await sql`alter table booking_seat alter column booking_id set not null`.execute(db);
  await sql`alter table booking_seat add primary key (booking_id, seat_no)`.execute(db);
  await db.schema.dropTable('room_block').ifExists().execute();
  await sql`alter table venue drop column address`.execute(db);
  await sql`alter table room drop column retired_at`.execute(db);
}
