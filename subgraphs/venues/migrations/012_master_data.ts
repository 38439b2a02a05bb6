// Venues' master data kept through the API (MASTER-DATA.md): the audit of its changes, fee rates versioned by the
// instant they take effect, and deliveries that belong to no booking (the ping testPartnerEndpoint sends).
import { sql, type Kysely } from 'kysely';

/** The instant of the first version of every platform's rates: before any evaluation the hub can hold. */
export const FIRST_RATES_FROM = '1970-01-01T00:00:00Z';

export async function up(db: Kysely<unknown>): Promise<void> {
  // The change records' table (lib/master-data-audit.ts) is made by 011_rooms_blocks, the first change that writes one.

  // A platform's rates over time; the version in effect at an instant is the latest whose effective_from is not after it.
  await sql`
    create table fee_rate (
      platform_id text not null references platform(id),
      effective_from timestamptz not null,
      expert_fee_rate bigint not null check (expert_fee_rate >= 0),
      seat_service_fee bigint not null check (seat_service_fee >= 0),
      created_at timestamptz not null default now(),
      primary key (platform_id, effective_from)
    )`.execute(db);
  // The platform columns were the only rates: they become each platform's first version.
  await sql`
    insert into fee_rate (platform_id, effective_from, expert_fee_rate, seat_service_fee)
    select id, ${FIRST_RATES_FROM}::timestamptz, expert_fee_rate, seat_service_fee from platform`.execute(db);
  // A platform written directly (the demo seed, the bench loader) gets its columns as its first version, kept in step
  // while they change; setFeeRates never writes those columns, it adds versions.
  await sql`
    create function platform_first_fee_rate() returns trigger language plpgsql as $$
    begin
      insert into fee_rate (platform_id, effective_from, expert_fee_rate, seat_service_fee)
      values (new.id, ${sql.lit(FIRST_RATES_FROM)}::timestamptz, new.expert_fee_rate, new.seat_service_fee)
      on conflict (platform_id, effective_from)
      do update set expert_fee_rate = excluded.expert_fee_rate, seat_service_fee = excluded.seat_service_fee;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger platform_first_fee_rate after insert or update of expert_fee_rate, seat_service_fee on platform
    for each row execute function platform_first_fee_rate()`.execute(db);

  // A ping belongs to no booking.
  await sql`alter table webhook_delivery alter column booking_id drop not null`.execute(db);
  await sql`alter table webhook_delivery add constraint webhook_delivery_booking_or_ping check (booking_id is not null or event = 'ping')`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from webhook_delivery where booking_id is null`.execute(db);
  await sql`alter table webhook_delivery drop constraint if exists webhook_delivery_booking_or_ping`.execute(db);
  await sql`alter table webhook_delivery alter column booking_id set not null`.execute(db);
  await sql`drop trigger if exists platform_first_fee_rate on platform`.execute(db);
  await sql`drop function if exists platform_first_fee_rate()`.execute(db);
  await db.schema.dropTable('fee_rate').ifExists().execute();
}
