import { sql, type Kysely } from 'kysely';

// Every draw reads the pool by specialty; its administration writes it now and then. With GIN's fast update on, new
// experts wait in a pending list that every specialty scan reads in full until a vacuum merges it: a freshly loaded
// 30,000-expert pool made the scan of one specialty 3-4 times slower. Expert ids are printable ASCII, as the draw
// algorithm assumes: candidate digests join ids with newlines and order them by byte, and rounds send their lists to
// Postgres newline-joined.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter index expert_specialties_idx set (fastupdate = off)`.execute(db);
  await sql`select gin_clean_pending_list('expert_specialties_idx'::regclass)`.execute(db);
  await sql`alter table expert add constraint expert_id_printable_ascii check (id ~ '^[!-~]+$')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table expert drop constraint if exists expert_id_printable_ascii`.execute(db);
  await sql`alter index expert_specialties_idx reset (fastupdate)`.execute(db);
}
