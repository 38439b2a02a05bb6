import { sql, type Kysely } from 'kysely';

// The draw lists a group's candidates from the specialty's roster (each expert's id and home platform) less the
// experts some ground avoids. Rosters change only when an expert is added, removed, or changes specialties or home,
// so a process keeps them between draws, labelled with the roster version its statement saw (eligibility.ts).
//
// The version is one row, set from a sequence by a statement trigger before any write that can change a roster. A
// number is never given twice (a sequence does not roll back), so a version names one committed state of the rosters
// (or a writer's own uncommitted one, which nobody else ever sees). The row's lock makes roster writers take turns,
// and, taken before a statement's first row, it cannot deadlock two writers over expert rows.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create sequence roster_version_seq`.execute(db);
  await sql`
    create table roster_version (
      singleton boolean primary key default true check (singleton),
      version bigint not null
    )`.execute(db);
  await sql`insert into roster_version (version) values (nextval('roster_version_seq'))`.execute(db);
  await sql`
    create function roster_version_bump() returns trigger language plpgsql set search_path from current as $$
    begin
      update roster_version set version = nextval('roster_version_seq');
      return null;
    end $$`.execute(db);
  await sql`
    create trigger expert_roster_version before insert or delete or truncate on expert
    for each statement execute function roster_version_bump()`.execute(db);
  await sql`
    create trigger expert_roster_version_update before update of id, specialties, home_platform_id on expert
    for each statement execute function roster_version_bump()`.execute(db);
  // The grounds read on the expert's own row, asked for as sets (who is avoided) rather than per candidate.
  await sql`create index expert_employer_idx on expert (employer)`.execute(db);
  await sql`create index expert_supervision_idx on expert (supervision_department, supervision_region) where supervision_department is not null`.execute(
    db,
  );
  await sql`create index expert_not_active_idx on expert (status) where status <> 'ACTIVE'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists expert_not_active_idx`.execute(db);
  await sql`drop index if exists expert_supervision_idx`.execute(db);
  await sql`drop index if exists expert_employer_idx`.execute(db);
  await sql`drop trigger if exists expert_roster_version_update on expert`.execute(db);
  await sql`drop trigger if exists expert_roster_version on expert`.execute(db);
  await sql`drop function if exists roster_version_bump()`.execute(db);
  await db.schema.dropTable('roster_version').ifExists().execute();
  await sql`drop sequence if exists roster_version_seq`.execute(db);
}
