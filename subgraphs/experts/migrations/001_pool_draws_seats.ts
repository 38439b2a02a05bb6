import { sql, type Kysely } from 'kysely';
import { createOutboxTable } from '../../../lib/outbox';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists btree_gist with schema public`.execute(db);
  await sql`
    create table expert (
      id text primary key,
      code text not null unique,
      name text not null,
      phone text not null,
      home_platform_id text not null check (home_platform_id ~ '^[0-9]{6}$'),
      specialties text[] not null check (cardinality(specialties) > 0),
      employer text not null,
      -- Staff of a supervision department: its department and region (avoidance ground 4).
      supervision_department text,
      supervision_region text,
      status text not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED')),
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index expert_home_idx on expert (home_platform_id)`.execute(db);
  await sql`create index expert_specialties_idx on expert using gin (specialties)`.execute(db);
  // Past and present employment and board seats, with end dates (avoidance grounds 1 and 2).
  await sql`
    create table employment (
      id bigserial primary key,
      expert_id text not null references expert(id),
      organisation text not null,
      relation text not null check (relation in ('EMPLOYEE', 'BOARD_MEMBER')),
      started_on date not null,
      ended_on date,
      check (ended_on is null or ended_on >= started_on)
    )`.execute(db);
  await sql`create index employment_expert_idx on employment (expert_id)`.execute(db);
  await sql`create index employment_org_idx on employment (organisation)`.execute(db);
  // Organisations an expert declared a kinship or economic interest in (avoidance ground 3).
  await sql`
    create table declared_conflict (
      expert_id text not null references expert(id),
      organisation text not null,
      kind text not null check (kind in ('KINSHIP', 'ECONOMIC_INTEREST')),
      primary key (expert_id, organisation, kind)
    )`.execute(db);
  await sql`create index declared_conflict_org_idx on declared_conflict (organisation)`.execute(db);
  // Penalties for bidding offences (avoidance ground 5); open-ended when until is null.
  await sql`
    create table penalty (
      id bigserial primary key,
      expert_id text not null references expert(id),
      reason text not null,
      imposed_on date not null,
      until date
    )`.execute(db);
  await sql`create index penalty_expert_idx on penalty (expert_id)`.execute(db);
  await sql`
    create table draw (
      id text primary key,
      project_id text not null,
      status text not null check (status in ('PENDING', 'COMPLETED', 'FAILED')),
      seed_commitment text not null check (seed_commitment ~ '^[0-9a-f]{64}$'),
      seed text check (seed ~ '^[0-9a-f]{64}$'),
      seed_revealed boolean not null default false,
      supervisor_nonce text,
      failure_reason text,
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      requested_at timestamptz not null default now(),
      completed_at timestamptz
    )`.execute(db);
  await sql`create index draw_project_idx on draw (project_id)`.execute(db);
  await sql`
    create table committee_seat (
      id text primary key,
      draw_id text not null references draw(id),
      project_id text not null,
      booking_id text not null,
      room_id text not null,
      specialty text not null,
      round integer not null check (round >= 1),
      status text not null check (status in ('INVITED', 'ACCEPTED', 'DECLINED', 'REPLACED', 'CHECKED_IN', 'WITHDRAWN')),
      expert_id text references expert(id),
      during tstzrange not null,
      live boolean generated always as (status in ('INVITED', 'ACCEPTED', 'CHECKED_IN')) stored,
      invited_at timestamptz,
      answer_due_at timestamptz,
      responded_at timestamptz,
      reason text,
      created_at timestamptz not null default now(),
      -- No expert sits in two evaluations whose windows overlap.
      constraint committee_seat_expert_no_overlap exclude using gist (expert_id with =, during with &&) where (live)
    )`.execute(db);
  await sql`create index committee_seat_draw_idx on committee_seat (draw_id)`.execute(db);
  await sql`create index committee_seat_expert_idx on committee_seat (expert_id, created_at)`.execute(db);
  await createOutboxTable(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['outbox', 'committee_seat', 'draw', 'penalty', 'declared_conflict', 'employment', 'expert']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
