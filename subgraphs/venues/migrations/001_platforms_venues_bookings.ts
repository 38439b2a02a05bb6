import { sql, type Kysely } from 'kysely';
import { createOutboxTable } from '../../../lib/outbox';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists btree_gist with schema public`.execute(db);
  await sql`
    create table platform (
      id text primary key check (id ~ '^[0-9]{6}$'),
      name text not null,
      name_en text not null,
      level text not null check (level in ('PROVINCE', 'CITY', 'COUNTY')),
      parent_id text references platform(id),
      expert_fee_rate bigint not null check (expert_fee_rate >= 0),
      seat_service_fee bigint not null check (seat_service_fee >= 0),
      webhook_url text,
      check ((level = 'PROVINCE') = (parent_id is null))
    )`.execute(db);
  await sql`create index platform_parent_idx on platform (parent_id)`.execute(db);
  await sql`
    create table cooperation_agreement (
      platform_id text not null references platform(id),
      partner_id text not null references platform(id),
      auto_confirm boolean not null,
      primary key (platform_id, partner_id),
      check (platform_id <> partner_id)
    )`.execute(db);
  await sql`
    create table venue (
      id text primary key,
      platform_id text not null references platform(id),
      name text not null
    )`.execute(db);
  await sql`create index venue_platform_idx on venue (platform_id)`.execute(db);
  await sql`
    create table room (
      id text primary key,
      venue_id text not null references venue(id),
      name text not null,
      seats integer not null check (seats > 0 and seats <= 200),
      video_terminal boolean not null
    )`.execute(db);
  await sql`create index room_venue_idx on room (venue_id)`.execute(db);
  await sql`
    create table seat (
      room_id text not null references room(id),
      seat_no integer not null check (seat_no > 0),
      primary key (room_id, seat_no)
    )`.execute(db);
  await sql`
    create table booking (
      id text primary key,
      arrangement_id text not null,
      room_id text not null references room(id),
      project_id text not null,
      host_platform_id text not null references platform(id),
      role text not null check (role in ('MAIN', 'SECONDARY')),
      seats integer not null check (seats > 0),
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      status text not null check (status in ('HELD', 'CONFIRMED', 'REJECTED', 'EXPIRED', 'RELEASED')),
      hold_expires_at timestamptz,
      reason text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (ends_at > starts_at),
      check (status <> 'HELD' or hold_expires_at is not null)
    )`.execute(db);
  await sql`create index booking_room_window_idx on booking using gist (room_id, tstzrange(starts_at, ends_at))`.execute(
    db,
  );
  await sql`create index booking_project_idx on booking (project_id)`.execute(db);
  await sql`create index booking_arrangement_idx on booking (arrangement_id)`.execute(db);
  await sql`create index booking_starts_idx on booking (starts_at)`.execute(db);
  // One row per seat a booking holds; the exclusion constraint makes a double-booked seat impossible.
  await sql`
    create table booking_seat (
      booking_id text not null references booking(id),
      room_id text not null,
      seat_no integer not null,
      during tstzrange not null,
      live boolean not null default true,
      primary key (booking_id, seat_no),
      foreign key (room_id, seat_no) references seat(room_id, seat_no),
      constraint booking_seat_no_overlap exclude using gist (room_id with =, seat_no with =, during with &&) where (live)
    )`.execute(db);
  await createOutboxTable(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'outbox',
    'booking_seat',
    'booking',
    'seat',
    'room',
    'venue',
    'cooperation_agreement',
    'platform',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
