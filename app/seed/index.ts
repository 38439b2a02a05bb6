// Writes the demo data into the three domain databases. Platforms, venues and projects are inserted directly, each domain
// in one transaction; the expert pool has one way in, the bulk import: the seed writes experts.csv, employment.csv and
// conflicts.csv and loads them with importExpertFiles, as `npm run import-experts` does, then records through the
// experts service what those files cannot carry (phones, supervision posts, board seats, penalties). Idempotent: a
// domain already seeded is left alone and the import and details write only what differs, so seeding twice writes
// nothing the second time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InsertObject, Kysely, Transaction } from 'kysely';
import { systemClock } from '../../lib/clock';
import type { ChangeActor } from '../../lib/master-data-audit';
import { VenuesService, type VenuesDatabase } from '../../subgraphs/venues';
import { ExpertsService, importExpertFiles, type ExpertsDatabase } from '../../subgraphs/experts';
import type { ProjectsDatabase } from '../../subgraphs/projects';
import { generateDemoData, type DemoOptions } from './generate';
import { demoPoolFiles, readExpertFiles, writeExpertFiles } from './expert-files';

export { generateDemoData, SPECIALTIES, REFERENCE_DATE, type DemoData, type DemoOptions } from './generate';
export { demoPoolFiles, readExpertFiles, writeExpertFiles, EXPERT_FILE_NAMES } from './expert-files';

export interface DomainDatabases {
  venues: Kysely<VenuesDatabase>;
  experts: Kysely<ExpertsDatabase>;
  projects: Kysely<ProjectsDatabase>;
}

export interface SeedOptions extends DemoOptions {
  /**
   * Where the pool's CSV files are written and kept (npm start and npm run seed: `.data/seed/`). Without it they go to
   * a temporary directory removed after the import.
   */
  csvDir?: string;
}

/** Rows written per table, e.g. `{ platform: 29, expert: 3000, ... }`; zero for a table already seeded. */
export type SeedCounts = Record<string, number>;

/** The demo pool's loader as recorded in masterDataChanges. */
export const SEED_ACTOR: ChangeActor = { sub: 'seed:demo', role: 'PROVINCIAL_ADMIN', platform: '410000' };

/** The directory of a hub's data dir (HUB_DATA_DIR, `.data/` of the checkout) that keeps the seed's CSV files. */
export const seedCsvDir = (dataDir: string): string => join(dataDir, 'seed');

// Multi-row inserts keep the tables to a few round trips; 1,000 rows stay far below Postgres's 65,535 parameters.
const CHUNK = 1000;

async function insertInChunks<DB, T extends keyof DB & string>(
  trx: Transaction<DB>,
  table: T,
  rows: InsertObject<DB, T>[],
  counts: SeedCounts,
): Promise<void> {
  for (let start = 0; start < rows.length; start += CHUNK) {
    await trx
      .insertInto(table)
      .values(rows.slice(start, start + CHUNK))
      .execute();
  }
  counts[table] = rows.length;
}

/**
 * Loads the deterministic demo data (platforms, venues, the expert pool, a few projects).
 *
 * ```ts
 * const counts = await seedDemoData({ venues, experts, projects }, { csvDir: '.data/seed' });
 * ```
 */
export async function seedDemoData(dbs: DomainDatabases, options: SeedOptions = {}): Promise<SeedCounts> {
  const data = generateDemoData(options);
  const tables = [data.venues, data.experts, data.projects].flatMap((domain) => Object.keys(domain));
  const counts: SeedCounts = Object.fromEntries(tables.map((table) => [table, 0]));
  // Tables in foreign-key order within each domain; the domains do not reference each other.
  await dbs.venues.transaction().execute(async (trx) => {
    if (await trx.selectFrom('platform').select('id').limit(1).executeTakeFirst()) return;
    await insertInChunks(trx, 'platform', data.venues.platform, counts);
    await insertInChunks(trx, 'cooperation_agreement', data.venues.cooperation_agreement, counts);
    await insertInChunks(trx, 'venue', data.venues.venue, counts);
    await insertInChunks(trx, 'room', data.venues.room, counts);
    await insertInChunks(trx, 'seat', data.venues.seat, counts);
  });

  // The pool through the import's files, on disk, read back as the import CLI reads them.
  const pool = demoPoolFiles(data.experts);
  const dir = options.csvDir ?? mkdtempSync(join(tmpdir(), 'hub-seed-'));
  try {
    writeExpertFiles(dir, pool.files);
    const report = await importExpertFiles(dbs.experts, new VenuesService(dbs.venues), readExpertFiles(dir), {
      actor: SEED_ACTOR,
      newExpertId: (code) => pool.idOfCode.get(code) ?? `exp-${code}`,
    });
    if (report.errors.length > 0)
      throw new Error(`the demo pool's files in ${dir} were refused:\n${report.errors.slice(0, 20).join('\n')}`);
    const details = await new ExpertsService(dbs.experts, systemClock).recordPoolDetails(pool.details, SEED_ACTOR);
    counts.expert = report.created;
    counts.employment = report.employmentAdded + details.boardSeats;
    counts.declared_conflict = report.conflictsAdded;
    counts.penalty = details.penalties;
  } finally {
    if (options.csvDir === undefined) rmSync(dir, { recursive: true, force: true });
  }

  await dbs.projects.transaction().execute(async (trx) => {
    if (await trx.selectFrom('project').select('id').limit(1).executeTakeFirst()) return;
    await insertInChunks(trx, 'project', data.projects.project, counts);
    await insertInChunks(trx, 'project_event', data.projects.project_event, counts);
  });
  return counts;
}

/** True when no platform exists yet: the venues domain is seeded first, so it stands for all three. */
export async function isDatabaseEmpty(venuesDb: Kysely<VenuesDatabase>): Promise<boolean> {
  const row = await venuesDb.selectFrom('platform').select('id').limit(1).executeTakeFirst();
  return row === undefined;
}
