// Check-in at the closed evaluation area (现场服务): when and where a seat's expert checked in, and every attempt to
// enter, admitted or refused (who, where, when, why), for the supervisors.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table committee_seat add column checked_in_at timestamptz, add column checked_in_room_id text`.execute(
    db,
  );
  await sql`
    create table access_attempt (
      id bigserial primary key,
      at timestamptz not null,
      actor text not null,
      role text not null,
      expert_id text,
      project_id text,
      seat_id text,
      room_id text not null,
      admitted boolean not null,
      code text,
      reason text not null,
      check (admitted = (code is null))
    )`.execute(db);
  await sql`create index access_attempt_project_idx on access_attempt (project_id, at, id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('access_attempt').ifExists().execute();
  await sql`alter table committee_seat drop column if exists checked_in_room_id, drop column if exists checked_in_at`.execute(
    db,
  );
}
