import { sql, type Kysely } from 'kysely';

// How tenderers are admitted (OCDS tender.procurementMethod), as the agency submits it; projects before it were open.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table project add column procurement_method text not null default 'OPEN'
      check (procurement_method in ('OPEN', 'SELECTIVE', 'LIMITED', 'DIRECT'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table project drop column procurement_method`.execute(db);
}
