import { sql, type Kysely } from 'kysely';
import { createOutboxTable } from '../../../lib/outbox';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table project (
      id text primary key,
      code text not null unique,
      name text not null,
      category text not null check (category in ('CONSTRUCTION', 'GOVERNMENT_PROCUREMENT', 'TRANSPORT', 'WATER_CONSERVANCY', 'OTHER')),
      department text not null check (department in ('FINANCE', 'HOUSING_AND_CONSTRUCTION', 'TRANSPORT', 'WATER_RESOURCES')),
      host_platform_id text not null check (host_platform_id ~ '^[0-9]{6}$'),
      tenderer text not null,
      agency text not null,
      bidders text[] not null check (cardinality(bidders) > 0),
      budget bigint not null check (budget >= 0),
      mode text not null check (mode in ('LOCAL', 'REMOTE')),
      committee_size integer not null check (committee_size >= 5 and committee_size % 2 = 1),
      tenderer_representatives integer not null check (tenderer_representatives >= 0),
      evaluation_starts_at timestamptz not null,
      evaluation_ends_at timestamptz not null,
      status text not null check (status in ('SUBMITTED', 'FILED', 'REJECTED', 'VENUES_ARRANGING', 'VENUES_CONFIRMED',
        'FEE_ADVANCED', 'EXPERTS_DRAWING', 'COMMITTEE_CONFIRMED', 'IN_EVALUATION', 'EVALUATED', 'ARCHIVED', 'CANCELLED')),
      fee_advance bigint check (fee_advance >= 0),
      submitted_by text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (evaluation_ends_at > evaluation_starts_at),
      check (3 * (committee_size - tenderer_representatives) >= 2 * committee_size)
    )`.execute(db);
  await sql`create index project_host_idx on project (host_platform_id, created_at desc, id desc)`.execute(db);
  await sql`create index project_status_idx on project (status, created_at desc, id desc)`.execute(db);
  await sql`create index project_agency_idx on project (agency, created_at desc, id desc)`.execute(db);
  await sql`create index project_created_idx on project (created_at desc, id desc)`.execute(db);
  await sql`create index project_window_idx on project (evaluation_starts_at)`.execute(db);
  // The timeline and tamper-evident archive in one: each event hashes the previous one (DOMAIN.md, The archive).
  await sql`
    create table project_event (
      id bigserial primary key,
      project_id text not null references project(id),
      seq integer not null check (seq >= 1),
      at timestamptz not null,
      kind text not null,
      actor text not null,
      detail text,
      data jsonb not null default '{}',
      prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
      hash text not null check (hash ~ '^[0-9a-f]{64}$'),
      -- A job that records what it did passes a key, so running it twice records it once.
      event_key text unique,
      unique (project_id, seq)
    )`.execute(db);
  await createOutboxTable(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['outbox', 'project_event', 'project']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
