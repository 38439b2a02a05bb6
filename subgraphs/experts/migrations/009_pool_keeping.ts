import { sql, type Kysely } from 'kysely';

// The pool kept through the API (MASTER-DATA.md, "The expert pool"): a suspension's end and reason, retired experts
// (never drawn again, kept for the draws that name them), and the windows experts declare themselves unavailable
// (avoidance ground 9).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table expert drop constraint if exists expert_status_check`.execute(db);
  await sql`alter table expert add constraint expert_status_check check (status in ('ACTIVE', 'SUSPENDED', 'RETIRED'))`.execute(
    db,
  );
  await sql`alter table expert add column suspended_until timestamptz, add column suspension_reason text`.execute(db);
  await sql`
    create table unavailability (
      id text primary key,
      expert_id text not null references expert(id),
      during tstzrange not null check (not isempty(during) and not lower_inf(during) and not upper_inf(during)),
      reason text,
      declared_at timestamptz not null default now(),
      cancelled_at timestamptz
    )`.execute(db);
  await sql`create index unavailability_expert_idx on unavailability (expert_id)`.execute(db);
  // Ground 9 asks which experts declared a window overlapping the evaluation's: one probe of this index per draw.
  await sql`create index unavailability_during_idx on unavailability using gist (during) where cancelled_at is null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('unavailability').ifExists().execute();
  await sql`alter table expert drop column if exists suspended_until, drop column if exists suspension_reason`.execute(
    db,
  );
  await sql`update expert set status = 'SUSPENDED' where status = 'RETIRED'`.execute(db);
  await sql`alter table expert drop constraint if exists expert_status_check`.execute(db);
  await sql`alter table expert add constraint expert_status_check check (status in ('ACTIVE', 'SUSPENDED'))`.execute(
    db,
  );
}
