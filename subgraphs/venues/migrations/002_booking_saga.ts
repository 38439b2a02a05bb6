// The booking saga's own records: arrangements (one all-or-none set of holds), webhook deliveries to partners, and a
// deferred check that keeps booking_seat.live in step with its booking's status.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per arrangeVenues call: the saga decides it exactly once (PENDING → CONFIRMED | FAILED).
  await sql`
    create table arrangement (
      id text primary key,
      project_id text not null,
      host_platform_id text not null references platform(id),
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      hold_expires_at timestamptz not null,
      requests jsonb not null,
      booking_count integer not null check (booking_count > 0),
      status text not null default 'PENDING' check (status in ('PENDING', 'CONFIRMED', 'FAILED')),
      reason text,
      created_at timestamptz not null default now(),
      decided_at timestamptz,
      check (ends_at > starts_at),
      check ((status = 'PENDING') = (decided_at is null))
    )`.execute(db);
  await sql`create index arrangement_project_idx on arrangement (project_id)`.execute(db);
  await sql`create index arrangement_pending_idx on arrangement (hold_expires_at) where status = 'PENDING'`.execute(db);

  await sql`
    create table webhook_delivery (
      id text primary key,
      platform_id text not null references platform(id),
      booking_id text not null references booking(id),
      event text not null,
      url text not null,
      payload jsonb not null,
      status text not null default 'PENDING' check (status in ('PENDING', 'DELIVERED', 'DEAD')),
      attempts integer not null default 0 check (attempts >= 0),
      last_status_code integer,
      last_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      delivered_at timestamptz,
      unique (booking_id, event)
    )`.execute(db);
  await sql`create index webhook_delivery_platform_idx on webhook_delivery (platform_id, created_at desc, id desc)`.execute(
    db,
  );

  // A seat row counts against the exclusion constraint while live; a booking that is no longer HELD or CONFIRMED must
  // not keep live seats (nor a live booking dead ones). Checked at commit, so a transaction may update both in any order.
  await sql`
    create function booking_seat_live_in_step() returns trigger language plpgsql as $$
    declare
      checked_id text;
      disagreeing integer;
    begin
      if TG_TABLE_NAME = 'booking' then checked_id := NEW.id; else checked_id := NEW.booking_id; end if;
      select count(*) into disagreeing
        from booking_seat s join booking b on b.id = s.booking_id
        where s.booking_id = checked_id and s.live <> (b.status in ('HELD', 'CONFIRMED'));
      if disagreeing > 0 then
        raise exception 'booking % has seats whose live flag disagrees with its status', checked_id using errcode = '23514';
      end if;
      return null;
    end $$`.execute(db);
  await sql`
    create constraint trigger booking_live_in_step after insert or update of status on booking
    deferrable initially deferred for each row execute function booking_seat_live_in_step()`.execute(db);
  await sql`
    create constraint trigger booking_seat_live_in_step after insert or update of live on booking_seat
    deferrable initially deferred for each row execute function booking_seat_live_in_step()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists booking_seat_live_in_step on booking_seat`.execute(db);
  await sql`drop trigger if exists booking_live_in_step on booking`.execute(db);
  await sql`drop function if exists booking_seat_live_in_step()`.execute(db);
  await db.schema.dropTable('webhook_delivery').ifExists().execute();
  await db.schema.dropTable('arrangement').ifExists().execute();
}
