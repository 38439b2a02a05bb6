// The demo pool as the bulk import's files (MASTER-DATA.md, "Bulk import"): experts.csv, employment.csv and
// conflicts.csv, written to a directory a user can open, and read back from it exactly as `npm run import-experts`
// reads them. What those columns cannot carry (phones, supervision posts, board seats, penalties) becomes the
// PoolDetails the experts service records after the import.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toCsv } from '../../lib/csv';
import { DEPARTMENTS, type Department } from '../../lib/identity';
import type { ExpertFiles, PoolDetails } from '../../subgraphs/experts';
import type { DemoData } from './generate';

export const EXPERT_FILE_NAMES = ['experts.csv', 'employment.csv', 'conflicts.csv'] as const;

export interface DemoPoolFiles {
  files: { experts: string; employment: string; conflicts: string };
  details: PoolDetails;
  /** The generator's id of each expert code, so the imported pool keeps the demo's ids (exp-00001, ...). */
  idOfCode: Map<string, string>;
}

const isDepartment = (value: string | null | undefined): value is Department =>
  (DEPARTMENTS as readonly (string | null | undefined)[]).includes(value);

/** The demo pool's rows as the three CSV files and the details beyond them. */
export function demoPoolFiles(pool: DemoData['experts']): DemoPoolFiles {
  const codeOf = new Map(pool.expert.map((expert) => [expert.id, expert.code]));
  const code = (expertId: string): string => {
    const found = codeOf.get(expertId);
    if (found === undefined) throw new Error(`demo data: no expert ${expertId}`);
    return found;
  };
  const experts = toCsv([
    ['code', 'name', 'home_platform', 'specialties', 'employer', 'status'],
    ...pool.expert.map((e) => [
      e.code,
      e.name,
      e.home_platform_id,
      e.specialties.join(';'),
      e.employer,
      e.status ?? 'ACTIVE',
    ]),
  ]);
  const employment = toCsv([
    ['expert_code', 'employer', 'from', 'to'],
    ...pool.employment
      .filter((row) => row.relation === 'EMPLOYEE')
      .map((row) => [code(row.expert_id), row.organisation, row.started_on, row.ended_on ?? '']),
  ]);
  const conflicts = toCsv([
    ['expert_code', 'organisation', 'kind'],
    ...pool.declared_conflict.map((row) => [code(row.expert_id), row.organisation, row.kind]),
  ]);
  const details: PoolDetails = {
    phones: pool.expert.map((e) => ({ code: e.code, phone: e.phone })),
    supervision: pool.expert.flatMap((e) =>
      isDepartment(e.supervision_department) && e.supervision_region
        ? [{ code: e.code, department: e.supervision_department, region: e.supervision_region }]
        : [],
    ),
    boardSeats: pool.employment
      .filter((row) => row.relation === 'BOARD_MEMBER')
      .map((row) => ({
        code: code(row.expert_id),
        organisation: row.organisation,
        from: row.started_on,
        to: row.ended_on ?? null,
      })),
    penalties: pool.penalty.map((row) => ({
      code: code(row.expert_id),
      reason: row.reason,
      imposedOn: row.imposed_on,
      until: row.until ?? null,
    })),
  };
  return {
    files: { experts, employment, conflicts },
    details,
    idOfCode: new Map(pool.expert.map((expert) => [expert.code, expert.id])),
  };
}

/** Writes the three files into `dir` (created when missing), replacing what an earlier seed wrote there. */
export function writeExpertFiles(dir: string, files: DemoPoolFiles['files']): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'experts.csv'), files.experts, 'utf8');
  writeFileSync(join(dir, 'employment.csv'), files.employment, 'utf8');
  writeFileSync(join(dir, 'conflicts.csv'), files.conflicts, 'utf8');
}

/** Reads a directory of import files the way `npm run import-experts -- DIR` does: experts.csv, the others if present. */
export function readExpertFiles(dir: string): ExpertFiles {
  const optional = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null);
  return {
    experts: readFileSync(join(dir, 'experts.csv'), 'utf8'),
    employment: optional('employment.csv'),
    conflicts: optional('conflicts.csv'),
  };
}
