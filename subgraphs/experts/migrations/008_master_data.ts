import { sql, type Kysely } from 'kysely';
import { createMasterDataChangeTable } from '../../../lib/master-data-audit';

// The pool kept through the API (MASTER-DATA.md): the specialty list experts' specialties come from (seeded with the
// specialties the pool uses today, so existing experts stay valid), the audit of master-data changes, and the third
// conflict kind (OTHER) the API accepts.
export const INITIAL_SPECIALTIES = [
  'CIVIL_ENGINEERING',
  'ROAD_AND_BRIDGE',
  'WATER_CONSERVANCY',
  'ELECTRICAL',
  'HVAC',
  'COST_ESTIMATION',
  'IT_SYSTEMS',
  'MEDICAL_EQUIPMENT',
  'GOODS_PROCUREMENT',
  'LANDSCAPING',
  'MUNICIPAL_WORKS',
  'LEGAL',
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table specialty (name text primary key check (name = btrim(name) and name <> '' and position(';' in name) = 0))`.execute(
    db,
  );
  await sql`insert into specialty (name) select unnest(${[...INITIAL_SPECIALTIES]}::text[])`.execute(db);
  // Specialties experts already hold but the list above lacks (a pool loaded before the list existed) join the list.
  await sql`insert into specialty (name) select distinct unnest(specialties) from expert on conflict do nothing`.execute(
    db,
  );
  await createMasterDataChangeTable(db);
  await sql`alter table declared_conflict drop constraint if exists declared_conflict_kind_check`.execute(db);
  await sql`alter table declared_conflict add constraint declared_conflict_kind_check check (kind in ('KINSHIP', 'ECONOMIC_INTEREST', 'OTHER'))`.execute(
    db,
  );
  // The import matches employment rows by (expert, organisation, start): read by expert, this finds them.
  await sql`create index employment_expert_org_start_idx on employment (expert_id, organisation, started_on)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists employment_expert_org_start_idx`.execute(db);
  await sql`delete from declared_conflict where kind = 'OTHER'`.execute(db);
  await sql`alter table declared_conflict drop constraint if exists declared_conflict_kind_check`.execute(db);
  await sql`alter table declared_conflict add constraint declared_conflict_kind_check check (kind in ('KINSHIP', 'ECONOMIC_INTEREST'))`.execute(
    db,
  );
  await db.schema.dropTable('master_data_change').ifExists().execute();
  await db.schema.dropTable('specialty').ifExists().execute();
}
