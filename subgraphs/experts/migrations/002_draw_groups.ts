// Draw groups, the rounds that selected their experts (candidate lists with digests), what a draw needs to seal its
// committee without asking the projects domain, and the access audit of sealed reads.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Facts of the project copied onto the draw, so sealing is decided inside this domain at read time.
  await sql`
    alter table draw
      add column host_platform_id text,
      add column host_parent_id text,
      add column department text,
      add column mode text check (mode in ('LOCAL', 'REMOTE')),
      add column unsealed_at timestamptz,
      add column eligibility jsonb`.execute(db);
  // One group per room and specialty: how many experts of that specialty sit in that room.
  await sql`
    create table draw_group (
      draw_id text not null references draw(id),
      group_key text not null,
      booking_id text not null,
      room_id text not null,
      platform_id text not null check (platform_id ~ '^[0-9]{6}$'),
      role text not null check (role in ('MAIN', 'SECONDARY')),
      specialty text not null,
      seats integer not null check (seats > 0),
      primary key (draw_id, group_key)
    )`.execute(db);
  // Every selection, replacements and lost races included: what a verifier recomputes (docs/draw-algorithm.md).
  await sql`
    create table draw_round (
      draw_id text not null,
      group_key text not null,
      round integer not null check (round >= 1),
      candidates text[] not null,
      candidates_digest text not null check (candidates_digest ~ '^[0-9a-f]{64}$'),
      host_region_candidates text[] not null,
      host_quota integer check (host_quota >= 0),
      wanted integer not null check (wanted > 0),
      counter_start bigint not null check (counter_start >= 0),
      counter_end bigint not null,
      selected text[] not null,
      outcome text not null check (outcome in ('SEATED', 'LOST_RACE')),
      created_at timestamptz not null default now(),
      primary key (draw_id, group_key, round),
      foreign key (draw_id, group_key) references draw_group(draw_id, group_key),
      check (counter_end >= counter_start)
    )`.execute(db);
  await sql`
    alter table committee_seat
      add column group_key text,
      add column replaces_seat_id text unique references committee_seat(id)`.execute(db);
  await sql`create index committee_seat_project_idx on committee_seat (project_id, expert_id)`.execute(db);
  // Every allowed read of a sealed field: who, what, when, which project.
  await sql`
    create table sealed_access (
      id bigserial primary key,
      at timestamptz not null default now(),
      actor text not null,
      role text not null,
      field text not null,
      project_id text not null,
      draw_id text not null,
      seat_id text,
      expert_id text not null
    )`.execute(db);
  await sql`create index sealed_access_project_idx on sealed_access (project_id, at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sealed_access').ifExists().execute();
  await sql`drop index if exists committee_seat_project_idx`.execute(db);
  await sql`alter table committee_seat drop column if exists replaces_seat_id, drop column if exists group_key`.execute(
    db,
  );
  await db.schema.dropTable('draw_round').ifExists().execute();
  await db.schema.dropTable('draw_group').ifExists().execute();
  await sql`
    alter table draw drop column if exists eligibility, drop column if exists unsealed_at, drop column if exists mode,
      drop column if exists department, drop column if exists host_parent_id, drop column if exists host_platform_id`.execute(
    db,
  );
}
