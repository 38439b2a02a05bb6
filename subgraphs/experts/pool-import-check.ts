// The checks of the pool import (pool-import.ts): every row of every file, every problem as
// `file:line: column: what is wrong`, in file and line order, so one run names all of them.
import { sql, type Kysely } from 'kysely';
import { readCsvTable, type CsvTableRow } from '../../lib/csv';
import { listSpecialties, unknownSpecialtyMessage } from './specialties';
import type { ExpertsDatabase } from './types';

export const EXPERT_COLUMNS = ['code', 'name', 'home_platform', 'specialties', 'employer', 'status'] as const;
export const EMPLOYMENT_COLUMNS = ['expert_code', 'employer', 'from', 'to'] as const;
export const CONFLICT_COLUMNS = ['expert_code', 'organisation', 'kind'] as const;
const CONFLICT_KINDS = ['KINSHIP', 'ECONOMIC_INTEREST', 'OTHER'] as const;
type ConflictKind = (typeof CONFLICT_KINDS)[number];
const STATUSES = ['ACTIVE', 'SUSPENDED'] as const;
type Status = (typeof STATUSES)[number];

/** The files' contents (text as read, BOM or not); employment and conflicts are optional. */
export interface ExpertFiles {
  experts: string;
  employment?: string | null;
  conflicts?: string | null;
}

/** Which platforms exist: the venues domain's (VenuesService.platformsByIds). */
export interface PlatformLookup {
  platformsByIds(ids: readonly string[]): Promise<{ id: string }[]>;
}

export interface ExpertRow {
  line: number;
  code: string;
  name: string;
  home: string;
  specialties: string[];
  employer: string;
  status: Status;
}
export interface EmploymentRow {
  code: string;
  employer: string;
  from: string;
  to: string | null;
}
export interface ConflictRow {
  code: string;
  organisation: string;
  kind: ConflictKind;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return (
    date.getUTCFullYear() === Number(match[1]) &&
    date.getUTCMonth() === Number(match[2]) - 1 &&
    date.getUTCDate() === Number(match[3])
  );
}

/** Checks every row of every file; returns the rows to import and every problem found. */
export async function checkFiles(db: Kysely<ExpertsDatabase>, platforms: PlatformLookup, files: ExpertFiles) {
  const errors: string[] = [];
  const bad = (file: string, line: number, column: string, problem: string) =>
    errors.push(`${file}:${line}: ${column}: ${problem}`);
  const value = (row: CsvTableRow, column: string) => row.values[column].trim();

  const expertsTable = readCsvTable('experts.csv', files.experts, EXPERT_COLUMNS);
  errors.push(...expertsTable.problems);
  const known = await listSpecialties(db);
  const knownSet = new Set(known);
  const homes = [
    ...new Set(expertsTable.rows.map((row) => value(row, 'home_platform')).filter((home) => /^\d{6}$/.test(home))),
  ];
  const existingPlatforms = new Set(
    homes.length ? (await platforms.platformsByIds(homes)).map((platform) => platform.id) : [],
  );

  const experts: ExpertRow[] = [];
  const lineOfCode = new Map<string, number>();
  for (const row of expertsTable.rows) {
    let ok = true;
    const fail = (column: string, problem: string) => {
      bad('experts.csv', row.line, column, problem);
      ok = false;
    };
    const code = value(row, 'code');
    if (!code) fail('code', 'is empty; give every expert its code');
    else if (code.length > 100) fail('code', 'is longer than 100 characters');
    else if (lineOfCode.has(code))
      fail('code', `${code} appears again (first on line ${lineOfCode.get(code)}); give each expert one row`);
    else lineOfCode.set(code, row.line);
    const name = value(row, 'name');
    if (!name) fail('name', 'is empty; give the expert its name');
    else if (name.length > 200) fail('name', 'is longer than 200 characters');
    const home = value(row, 'home_platform');
    if (!/^\d{6}$/.test(home))
      fail(
        'home_platform',
        `"${home}" is not a platform id: give the platform's six-digit region code, such as 411700`,
      );
    else if (!existingPlatforms.has(home))
      fail('home_platform', `no platform ${home} exists; see the platforms query for the ids`);
    const specialties = [
      ...new Set(
        value(row, 'specialties')
          .split(';')
          .map((name) => name.trim())
          .filter(Boolean),
      ),
    ];
    if (specialties.length === 0)
      fail('specialties', 'is empty; name at least one specialty, several separated by ";"');
    for (const specialty of specialties)
      if (!knownSet.has(specialty)) fail('specialties', unknownSpecialtyMessage(specialty, known));
    const employer = value(row, 'employer');
    if (employer.length > 200) fail('employer', 'is longer than 200 characters');
    const status = value(row, 'status');
    if (!(STATUSES as readonly string[]).includes(status))
      fail('status', `"${status}" is not a status: write ACTIVE or SUSPENDED`);
    if (ok) experts.push({ line: row.line, code, name, home, specialties, employer, status: status as Status });
  }

  // Employment and conflicts may name experts of the file or experts already in the pool.
  const employmentTable =
    files.employment != null ? readCsvTable('employment.csv', files.employment, EMPLOYMENT_COLUMNS) : null;
  const conflictsTable =
    files.conflicts != null ? readCsvTable('conflicts.csv', files.conflicts, CONFLICT_COLUMNS) : null;
  errors.push(...(employmentTable?.problems ?? []), ...(conflictsTable?.problems ?? []));
  const referenced = new Set(
    [...(employmentTable?.rows ?? []), ...(conflictsTable?.rows ?? [])].map((row) => value(row, 'expert_code')),
  );
  const outside = [...referenced].filter((code) => code && !lineOfCode.has(code));
  const inPool = new Set(
    outside.length
      ? (
          await db
            .selectFrom('expert')
            .select('code')
            .where('code', '=', sql<string>`any(${outside}::text[])`)
            .execute()
        ).map((row) => row.code)
      : [],
  );
  const knownCode = (file: string, row: CsvTableRow) => {
    const code = value(row, 'expert_code');
    if (!code) bad(file, row.line, 'expert_code', 'is empty; name the expert by its code');
    else if (!lineOfCode.has(code) && !inPool.has(code))
      bad(file, row.line, 'expert_code', `no expert ${code} in experts.csv or in the pool`);
    else return code;
    return null;
  };

  const employment: EmploymentRow[] = [];
  const employmentLine = new Map<string, number>();
  for (const row of employmentTable?.rows ?? []) {
    const before = errors.length;
    const code = knownCode('employment.csv', row);
    const employer = value(row, 'employer');
    if (!employer) bad('employment.csv', row.line, 'employer', 'is empty; name the employer');
    else if (employer.length > 200) bad('employment.csv', row.line, 'employer', 'is longer than 200 characters');
    const from = value(row, 'from');
    const to = value(row, 'to');
    if (!validDate(from)) bad('employment.csv', row.line, 'from', `"${from}" is not a date: write YYYY-MM-DD`);
    if (to && !validDate(to))
      bad(
        'employment.csv',
        row.line,
        'to',
        `"${to}" is not a date: write YYYY-MM-DD, or leave it empty for the current employer`,
      );
    else if (to && validDate(from) && to < from)
      bad('employment.csv', row.line, 'to', `${to} is before from (${from}); an employment ends after it starts`);
    const key = `${code}\u0000${employer}\u0000${from}`;
    if (errors.length === before && employmentLine.has(key))
      bad(
        'employment.csv',
        row.line,
        'from',
        `${code} at ${employer} from ${from} appears again (first on line ${employmentLine.get(key)})`,
      );
    if (errors.length === before) {
      employmentLine.set(key, row.line);
      employment.push({ code: code!, employer, from, to: to || null });
    }
  }

  const conflicts: ConflictRow[] = [];
  const conflictKeys = new Set<string>();
  for (const row of conflictsTable?.rows ?? []) {
    const before = errors.length;
    const code = knownCode('conflicts.csv', row);
    const organisation = value(row, 'organisation');
    if (!organisation) bad('conflicts.csv', row.line, 'organisation', 'is empty; name the organisation');
    else if (organisation.length > 200) bad('conflicts.csv', row.line, 'organisation', 'is longer than 200 characters');
    const kind = value(row, 'kind');
    if (!(CONFLICT_KINDS as readonly string[]).includes(kind))
      bad('conflicts.csv', row.line, 'kind', `"${kind}" is not a kind: write ${CONFLICT_KINDS.join(', ')}`);
    const key = `${code}\u0000${organisation}\u0000${kind}`;
    if (errors.length === before && !conflictKeys.has(key)) {
      conflictKeys.add(key);
      conflicts.push({ code: code!, organisation, kind: kind as ConflictKind });
    }
  }
  const rows = {
    experts: expertsTable.rows.length,
    employment: employmentTable?.rows.length ?? 0,
    conflicts: conflictsTable?.rows.length ?? 0,
  };
  return { errors: inFileOrder(errors), experts, employment, conflicts, rows };
}

const FILE_ORDER = ['experts.csv', 'employment.csv', 'conflicts.csv'];

/** Problems by file (experts, employment, conflicts), then line; problems of one line keep their order. */
function inFileOrder(errors: string[]): string[] {
  const key = (error: string) => {
    const [file, line] = error.split(':', 2);
    return [FILE_ORDER.indexOf(file), Number(line)];
  };
  return errors
    .map((error, index) => ({ error, index, key: key(error) }))
    .sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.index - b.index)
    .map((entry) => entry.error);
}
