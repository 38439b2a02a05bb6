import { sql, type Kysely } from 'kysely';

// Each draw writes its groups' candidate lists (13,000 ids for a province-wide specialty) and every replacement writes
// another: lz4 compresses them in under half pglz's time, for lists about a third larger. The stored text[] is the
// same either way. A server built without lz4 (some embedded builds) keeps pglz.
export async function up(db: Kysely<unknown>): Promise<void> {
  const supported = await sql<{
    lz4: boolean;
  }>`select 'lz4' = any(enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`.execute(db);
  if (!supported.rows[0]?.lz4) return;
  await sql`alter table draw_round alter column candidates set compression lz4, alter column host_region_candidates set compression lz4`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table draw_round alter column candidates set compression default, alter column host_region_candidates set compression default`.execute(
    db,
  );
}
