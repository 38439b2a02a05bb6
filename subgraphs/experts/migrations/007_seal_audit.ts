import { sql, type Kysely } from 'kysely';

// The access audit keeps one row per (actor, seat, field, minute) with how many reads it stands for: an expert paging
// through its invitations wrote 15,030 rows in 101 requests, one per field per seat per alias. Older rows (minute null)
// stay as they were, one read each. A check-in attempt records the seat the caller holds on the project, so a refusal
// names the caller, not the seat the request named.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table sealed_access
      add column reads integer not null default 1 check (reads >= 1),
      add column last_at timestamptz,
      add column minute timestamptz`.execute(db);
  await sql`create unique index sealed_access_minute_idx on sealed_access (actor, draw_id, seat_id, field, minute) where minute is not null`.execute(
    db,
  );
  await sql`alter table access_attempt add column caller_seat_id text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table access_attempt drop column if exists caller_seat_id`.execute(db);
  await sql`drop index if exists sealed_access_minute_idx`.execute(db);
  await sql`alter table sealed_access drop column if exists minute, drop column if exists last_at, drop column if exists reads`.execute(
    db,
  );
}
