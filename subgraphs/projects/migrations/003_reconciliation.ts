import { sql, type Kysely } from 'kysely';

// Provincial reconciliation (DOMAIN.md): reports of a date range and the discrepancies each found.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table reconciliation_report (
      id text primary key,
      from_at timestamptz not null,
      to_at timestamptz not null,
      status text not null default 'PENDING' check (status in ('PENDING', 'RUNNING', 'DONE', 'FAILED')),
      trigger text not null check (trigger in ('ON_DEMAND', 'UPCOMING', 'NIGHTLY')),
      requested_by text not null,
      failure_reason text,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      generated_at timestamptz,
      check (to_at > from_at),
      check ((status = 'DONE') = (generated_at is not null)),
      check ((status = 'FAILED') = (failure_reason is not null))
    )`.execute(db);
  // Two reports of the same range never run at once: at most one is waiting or running; a second request joins it.
  await sql`create unique index reconciliation_report_one_live_per_range on reconciliation_report (from_at, to_at) where status in ('PENDING', 'RUNNING')`.execute(
    db,
  );
  await sql`create index reconciliation_report_latest_idx on reconciliation_report (generated_at desc, id desc) where status = 'DONE'`.execute(
    db,
  );
  await sql`
    create table reconciliation_discrepancy (
      report_id text not null references reconciliation_report(id),
      seq integer not null check (seq >= 1),
      kind text not null check (kind in ('WINDOW_MISMATCH', 'LIVE_BOOKING_OF_CLOSED_PROJECT', 'EXPIRED_HOLD',
        'SEAT_WITHOUT_CONFIRMED_BOOKING', 'INCOMPLETE_COMMITTEE', 'LEDGER_MISMATCH')),
      project_id text,
      project_code text,
      booking_id text,
      seat_id text,
      ledger_entry_id text,
      platform_id text,
      resolution text not null,
      detail text not null,
      primary key (report_id, seq)
    )`.execute(db);
  // The reconciliation pages through the projects whose evaluation window overlaps its range.
  await sql`create index project_evaluation_window_idx on project using gist (tstzrange(evaluation_starts_at, evaluation_ends_at))`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists project_evaluation_window_idx`.execute(db);
  await db.schema.dropTable('reconciliation_discrepancy').ifExists().execute();
  await db.schema.dropTable('reconciliation_report').ifExists().execute();
}
