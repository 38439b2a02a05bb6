import { sql, type Kysely } from 'kysely';

// The avoidance grounds that read committee seats (overlap, 30-day count) scan sets by time, not by expert: index them so.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index committee_seat_live_during_idx on committee_seat using gist (during) where live`.execute(db);
  await sql`
    create index committee_seat_recent_idx on committee_seat (created_at) include (expert_id)
    where expert_id is not null and status <> 'WITHDRAWN'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists committee_seat_recent_idx`.execute(db);
  await sql`drop index if exists committee_seat_live_during_idx`.execute(db);
}
