import { sql, type Kysely } from 'kysely';

// The fee ledger (DOMAIN.md, Fees and settlement): who owes whom for a project, in fen. Entries are never updated
// (beyond being marked settled) nor deleted; a cancellation adds compensating entries.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table ledger_entry (
      id text primary key,
      project_id text not null references project(id),
      kind text not null check (kind in ('FEE_ADVANCE', 'PARTNER_PAYABLE', 'REVERSAL')),
      payer text not null check (payer ~ '^(agency|platform):.+$'),
      payee text not null check (payee ~ '^(agency|platform):.+$'),
      amount bigint not null check (amount > 0),
      reverses text,
      detail jsonb not null default '{}',
      settled_at timestamptz,
      created_at timestamptz not null default now(),
      check (payer <> payee),
      check ((kind = 'REVERSAL') = (reverses is not null)),
      unique (id, project_id, amount, payer, payee),
      -- A reversal pays back exactly what it reverses, between the same parties the other way round, once.
      unique (reverses),
      foreign key (reverses, project_id, amount, payee, payer) references ledger_entry (id, project_id, amount, payer, payee)
    )`.execute(db);
  // One advance and one payable per partner for a project: a step run twice cannot charge twice.
  await sql`create unique index ledger_entry_once_idx on ledger_entry (project_id, kind, payee) where kind <> 'REVERSAL'`.execute(
    db,
  );
  await sql`create index ledger_entry_project_idx on ledger_entry (project_id, created_at, id)`.execute(db);
  await sql`create index ledger_entry_payer_idx on ledger_entry (payer)`.execute(db);
  await sql`create index ledger_entry_payee_idx on ledger_entry (payee)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ledger_entry').ifExists().execute();
}
