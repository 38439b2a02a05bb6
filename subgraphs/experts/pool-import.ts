// Bulk import of an existing expert pool (MASTER-DATA.md, "Bulk import"): experts.csv, and when given employment.csv and
// conflicts.csv. All or nothing: every file is checked first and every bad row reported as `file:line: column: what is
// wrong`; only a clean set of files is written, in one transaction, with one audited change naming the files' sha256.
// Idempotent by expert code: an expert already in the pool is updated where the file differs, employment rows are
// matched by (expert, employer, from) and conflicts by (expert, organisation, kind), so the same files again change
// nothing. Rows are written a few thousand at a time through unnest(), never one statement per row.
import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { hubError } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { actorOf, recordMasterDataChange, type ChangeActor } from '../../lib/master-data-audit';
import {
  checkFiles,
  type EmploymentRow,
  type ExpertFiles,
  type ExpertRow,
  type PlatformLookup,
} from './pool-import-check';
import type { ExpertsDatabase } from './types';

export {
  CONFLICT_COLUMNS,
  EMPLOYMENT_COLUMNS,
  EXPERT_COLUMNS,
  type ExpertFiles,
  type PlatformLookup,
} from './pool-import-check';

/** Rows per statement: each statement passes one array per column, whatever the count. */
const BATCH = 5000;

export interface ImportProgress {
  phase: 'checking' | 'experts' | 'employment' | 'conflicts';
  done: number;
  total: number;
}

export interface ImportOptions {
  actor: ChangeActor;
  /** Check and count, write nothing. */
  dryRun?: boolean;
  onProgress?: (progress: ImportProgress) => void;
  /** The id of a new expert, given its code (default `exp-` and 16 random hex digits). */
  newExpertId?: (code: string) => string;
}

export interface ImportReport {
  dryRun: boolean;
  /** sha256 over the files' own sha256s (`<file> <hex>` lines, in file order): the audit record's note names it. */
  sha256: string;
  files: { name: string; sha256: string; rows: number }[];
  /** Experts of experts.csv new to the pool, changed (the row, or its employment or conflicts), or left as they were. */
  created: number;
  updated: number;
  unchanged: number;
  employmentAdded: number;
  employmentUpdated: number;
  conflictsAdded: number;
  /** Every bad row, `file:line: column: what is wrong`; when any, nothing was written. */
  errors: string[];
  /** True when the changes were written (not a dry run, no errors, something to change). */
  applied: boolean;
  /** The audited change written, when applied. */
  changeId: string | null;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
}

/** The rows of `items` a batch at a time, reporting progress after each. */
async function inBatches<T>(
  items: readonly T[],
  write: (batch: T[]) => Promise<void>,
  progress: (done: number) => void,
): Promise<void> {
  for (let start = 0; start < items.length; start += BATCH) {
    await write(items.slice(start, start + BATCH));
    progress(Math.min(start + BATCH, items.length));
  }
}

/**
 * Imports the files into the pool (or, with `dryRun`, says what it would change). Never throws for bad rows: the report
 * lists them and nothing is written. Concurrent imports run one after the other.
 *
 * ```ts
 * const report = await importExpertFiles(db, venues, { experts: readFileSync('experts.csv', 'utf8') }, { actor });
 * ```
 */
export async function importExpertFiles(
  db: Kysely<ExpertsDatabase>,
  platforms: PlatformLookup,
  files: ExpertFiles,
  options: ImportOptions,
): Promise<ImportReport> {
  const progress = options.onProgress ?? (() => undefined);
  const present = [
    { name: 'experts.csv', text: files.experts },
    ...(files.employment != null ? [{ name: 'employment.csv', text: files.employment }] : []),
    ...(files.conflicts != null ? [{ name: 'conflicts.csv', text: files.conflicts }] : []),
  ].map((file) => ({ name: file.name, sha256: sha256(file.text) }));
  const combined = sha256(present.map((file) => `${file.name} ${file.sha256}\n`).join(''));
  progress({ phase: 'checking', done: 0, total: 1 });
  const checked = await checkFiles(db, platforms, files);
  progress({ phase: 'checking', done: 1, total: 1 });
  const report: ImportReport = {
    dryRun: options.dryRun === true,
    sha256: combined,
    files: present.map((file) => ({
      ...file,
      rows: checked.rows[file.name.replace('.csv', '') as keyof typeof checked.rows],
    })),
    created: 0,
    updated: 0,
    unchanged: 0,
    employmentAdded: 0,
    employmentUpdated: 0,
    conflictsAdded: 0,
    errors: checked.errors,
    applied: false,
    changeId: null,
  };
  if (checked.errors.length > 0) return report;
  const newId = options.newExpertId ?? (() => `exp-${randomBytes(8).toString('hex')}`);

  const run = async (trx: Transaction<ExpertsDatabase>) => {
    await sql`select pg_advisory_xact_lock(hashtext('experts.pool-import'))`.execute(trx);
    const codes = [
      ...new Set([
        ...checked.experts.map((row) => row.code),
        ...checked.employment.map((row) => row.code),
        ...checked.conflicts.map((row) => row.code),
      ]),
    ];
    const existing = await trx
      .selectFrom('expert')
      .select(['id', 'code', 'name', 'home_platform_id', 'specialties', 'employer', 'status'])
      .where('code', '=', sql<string>`any(${codes}::text[])`)
      .execute();
    const byCode = new Map(existing.map((row) => [row.code, row]));
    const idOf = new Map(existing.map((row) => [row.code, row.id]));
    const inserts: (ExpertRow & { id: string })[] = [];
    const updates: (ExpertRow & { id: string })[] = [];
    const changedCodes = new Set<string>();
    for (const row of checked.experts) {
      const current = byCode.get(row.code);
      if (!current) {
        const id = newId(row.code);
        idOf.set(row.code, id);
        inserts.push({ ...row, id });
      } else if (
        current.name !== row.name ||
        current.home_platform_id !== row.home ||
        !sameSet(current.specialties, row.specialties) ||
        current.employer !== row.employer ||
        current.status !== row.status
      ) {
        updates.push({ ...row, id: current.id });
        changedCodes.add(row.code);
      }
    }

    // Suspending an expert who holds live seats on evaluations not yet over would leave committees with a suspended
    // member: refused here as in suspendExpert, naming the projects (suspendExpert with withdrawSeats replaces them).
    const suspending = updates.filter(
      (row) => row.status === 'SUSPENDED' && byCode.get(row.code)!.status !== 'SUSPENDED',
    );
    if (suspending.length > 0) {
      const held = await trx
        .selectFrom('committee_seat')
        .select(['expert_id', sql<string>`string_agg(distinct project_id, ', ' order by project_id)`.as('projects')])
        .where('live', '=', true)
        .where(sql<boolean>`upper(during) > now()`)
        .where('expert_id', '=', sql<string>`any(${suspending.map((row) => row.id)}::text[])`)
        .groupBy('expert_id')
        .execute();
      const projectsOf = new Map(held.map((row) => [row.expert_id, row.projects]));
      for (const row of suspending) {
        const projects = projectsOf.get(row.id);
        if (projects)
          report.errors.push(
            `experts.csv:${row.line}: status: ${row.code} holds live seats on evaluations not yet over (projects ${projects}); suspend the expert with suspendExpert(withdrawSeats: true), which replaces those seats, then import again`,
          );
      }
      if (report.errors.length > 0) return;
    }

    // Employment matched by (expert, employer, from); only the end date of a matched row can change.
    // Only experts already in the pool have rows to match; new ones get all of theirs.
    const involvedIds = [
      ...new Set(
        [...checked.employment, ...checked.conflicts].flatMap((row) =>
          byCode.has(row.code) ? [byCode.get(row.code)!.id] : [],
        ),
      ),
    ];
    const currentEmployment = involvedIds.length
      ? await trx
          .selectFrom('employment')
          .select([
            'id',
            'expert_id',
            'organisation',
            sql<string>`started_on::text`.as('started_on'),
            sql<string | null>`ended_on::text`.as('ended_on'),
          ])
          .where('relation', '=', 'EMPLOYEE')
          .where('expert_id', '=', sql<string>`any(${involvedIds}::text[])`)
          .execute()
      : [];
    const employmentByKey = new Map(
      currentEmployment.map((row) => [`${row.expert_id}\u0000${row.organisation}\u0000${row.started_on}`, row]),
    );
    const employmentInserts: { expertId: string; row: EmploymentRow }[] = [];
    const employmentUpdates: { id: string; to: string | null }[] = [];
    for (const row of checked.employment) {
      const expertId = idOf.get(row.code)!;
      const current = employmentByKey.get(`${expertId}\u0000${row.employer}\u0000${row.from}`);
      if (!current) employmentInserts.push({ expertId, row });
      else if (current.ended_on !== row.to) employmentUpdates.push({ id: current.id, to: row.to });
      else continue;
      changedCodes.add(row.code);
    }
    const currentConflicts = involvedIds.length
      ? await trx
          .selectFrom('declared_conflict')
          .select(['expert_id', 'organisation', 'kind'])
          .where('expert_id', '=', sql<string>`any(${involvedIds}::text[])`)
          .execute()
      : [];
    const conflictKeys = new Set(
      currentConflicts.map((row) => `${row.expert_id}\u0000${row.organisation}\u0000${row.kind}`),
    );
    const conflictInserts = checked.conflicts.flatMap((row) => {
      const expertId = idOf.get(row.code)!;
      if (conflictKeys.has(`${expertId}\u0000${row.organisation}\u0000${row.kind}`)) return [];
      changedCodes.add(row.code);
      return [{ expertId, row }];
    });

    const newCodes = new Set(inserts.map((row) => row.code));
    report.created = inserts.length;
    report.updated = [...changedCodes].filter((code) => !newCodes.has(code)).length;
    report.unchanged = checked.experts.filter((row) => !newCodes.has(row.code) && !changedCodes.has(row.code)).length;
    report.employmentAdded = employmentInserts.length;
    report.employmentUpdated = employmentUpdates.length;
    report.conflictsAdded = conflictInserts.length;
    if (options.dryRun || (inserts.length === 0 && changedCodes.size === 0)) return;

    const expertsTotal = inserts.length + updates.length;
    await inBatches(
      inserts,
      async (batch) => {
        await sql`
        insert into expert (id, code, name, phone, home_platform_id, specialties, employer, status)
        select t.id, t.code, t.name, '', t.home, string_to_array(t.specialties, ';'), t.employer, t.status
        from unnest(${batch.map((r) => r.id)}::text[], ${batch.map((r) => r.code)}::text[], ${batch.map((r) => r.name)}::text[], ${batch.map((r) => r.home)}::text[],
                    ${batch.map((r) => r.specialties.join(';'))}::text[], ${batch.map((r) => r.employer)}::text[], ${batch.map((r) => r.status)}::text[])
          as t(id, code, name, home, specialties, employer, status)`.execute(trx);
      },
      (done) => progress({ phase: 'experts', done, total: expertsTotal }),
    );
    await inBatches(
      updates,
      async (batch) => {
        await sql`
        update expert e set name = t.name, home_platform_id = t.home, specialties = string_to_array(t.specialties, ';'), employer = t.employer, status = t.status
        from unnest(${batch.map((r) => r.id)}::text[], ${batch.map((r) => r.name)}::text[], ${batch.map((r) => r.home)}::text[],
                    ${batch.map((r) => r.specialties.join(';'))}::text[], ${batch.map((r) => r.employer)}::text[], ${batch.map((r) => r.status)}::text[])
          as t(id, name, home, specialties, employer, status)
        where e.id = t.id`.execute(trx);
      },
      (done) => progress({ phase: 'experts', done: inserts.length + done, total: expertsTotal }),
    );
    const employmentTotal = employmentInserts.length + employmentUpdates.length;
    await inBatches(
      employmentInserts,
      async (batch) => {
        await sql`
        insert into employment (expert_id, organisation, relation, started_on, ended_on)
        select t.expert_id, t.organisation, 'EMPLOYEE', t.started_on, t.ended_on
        from unnest(${batch.map((r) => r.expertId)}::text[], ${batch.map((r) => r.row.employer)}::text[], ${batch.map((r) => r.row.from)}::date[], ${batch.map((r) => r.row.to)}::date[])
          as t(expert_id, organisation, started_on, ended_on)`.execute(trx);
      },
      (done) => progress({ phase: 'employment', done, total: employmentTotal }),
    );
    await inBatches(
      employmentUpdates,
      async (batch) => {
        await sql`
        update employment e set ended_on = t.ended_on
        from unnest(${batch.map((r) => r.id)}::bigint[], ${batch.map((r) => r.to)}::date[]) as t(id, ended_on)
        where e.id = t.id`.execute(trx);
      },
      (done) => progress({ phase: 'employment', done: employmentInserts.length + done, total: employmentTotal }),
    );
    await inBatches(
      conflictInserts,
      async (batch) => {
        await sql`
        insert into declared_conflict (expert_id, organisation, kind)
        select * from unnest(${batch.map((r) => r.expertId)}::text[], ${batch.map((r) => r.row.organisation)}::text[], ${batch.map((r) => r.row.kind)}::text[])
        on conflict do nothing`.execute(trx);
      },
      (done) => progress({ phase: 'conflicts', done, total: conflictInserts.length }),
    );

    // One record for the whole import: counts and the files' digests (no names or employers, which are sealed).
    report.changeId = await recordMasterDataChange(trx, {
      actor: options.actor,
      entityType: 'ExpertImport',
      entityId: combined,
      before: null,
      after: {
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        employmentAdded: report.employmentAdded,
        employmentUpdated: report.employmentUpdated,
        conflictsAdded: report.conflictsAdded,
        files: report.files,
      },
      note: `sha256 ${combined}`,
    });
    report.applied = true;
  };
  await db.transaction().execute(run);
  return report;
}

/** One line saying what an import did or would do (the CLI's summary, the mutation's log). */
export function summarizeImport(report: ImportReport): string {
  if (report.errors.length > 0)
    return `refused: ${report.errors.length} bad row${report.errors.length === 1 ? '' : 's'}, nothing written`;
  const changes =
    report.created + report.updated + report.employmentAdded + report.employmentUpdated + report.conflictsAdded;
  const counts = `${report.created} created, ${report.updated} updated, ${report.unchanged} unchanged; employment ${report.employmentAdded} added, ${report.employmentUpdated} updated; conflicts ${report.conflictsAdded} added`;
  if (changes === 0) return `no changes: the pool already holds these files (${report.unchanged} experts unchanged)`;
  return `${report.dryRun ? 'dry run, would write' : 'imported'}: ${counts} (sha256 ${report.sha256})`;
}

/**
 * Platforms as the pool knows them, for a process that cannot read the venues domain: every home platform of an expert
 * and every platform a draw seated experts on. Prefer the venues domain's platform list (PlatformLookup of VenuesService).
 */
export function poolPlatforms(db: Kysely<ExpertsDatabase>): PlatformLookup {
  return {
    async platformsByIds(ids) {
      if (ids.length === 0) return [];
      const { rows } = await sql<{ id: string }>`
        select id from unnest(${[...ids]}::text[]) as wanted(id)
        where exists (select 1 from expert where home_platform_id = wanted.id) or exists (select 1 from draw_group where platform_id = wanted.id)`.execute(
        db,
      );
      return rows;
    },
  };
}

const MESSAGE_ROWS = 50;

/** Mutation.importExperts: a refused import is BAD_USER_INPUT listing every bad row (all of them in extensions.problems). */
export async function importExpertsMutation(
  db: Kysely<ExpertsDatabase>,
  platforms: PlatformLookup,
  identity: Identity,
  args: { experts: string; employment?: string | null; conflicts?: string | null; dryRun?: boolean | null },
): Promise<ImportReport> {
  const report = await importExpertFiles(
    db,
    platforms,
    { experts: args.experts, employment: args.employment, conflicts: args.conflicts },
    { actor: actorOf(identity), dryRun: args.dryRun === true },
  );
  if (report.errors.length > 0 && !report.dryRun) {
    const shown = report.errors.slice(0, MESSAGE_ROWS).join('\n');
    const more =
      report.errors.length > MESSAGE_ROWS
        ? `\n... and ${report.errors.length - MESSAGE_ROWS} more (extensions.problems lists every one)`
        : '';
    throw hubError(
      'BAD_USER_INPUT',
      `the import was refused and nothing was written; fix these ${report.errors.length} rows and import again:\n${shown}${more}`,
      {
        field: 'experts',
        problems: report.errors,
      },
    );
  }
  return report;
}
