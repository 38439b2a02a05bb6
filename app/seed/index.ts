// Writes the demo data into the three domain databases: each domain in one transaction, rows in chunks.
import type { InsertObject, Kysely, Transaction } from 'kysely';
import type { VenuesDatabase } from '../../subgraphs/venues';
import type { ExpertsDatabase } from '../../subgraphs/experts';
import type { ProjectsDatabase } from '../../subgraphs/projects';
import { generateDemoData, type DemoOptions } from './generate';

export { generateDemoData, SPECIALTIES, REFERENCE_DATE, type DemoData, type DemoOptions } from './generate';

export interface DomainDatabases {
  venues: Kysely<VenuesDatabase>;
  experts: Kysely<ExpertsDatabase>;
  projects: Kysely<ProjectsDatabase>;
}

/** Rows written per table, e.g. `{ platform: 29, expert: 3000, ... }`. */
export type SeedCounts = Record<string, number>;

// Multi-row inserts keep 3,000 experts to a few round trips; 1,000 rows stay far below Postgres's 65,535 parameters.
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
 * Inserts the deterministic demo data (platforms, venues, the expert pool, a few projects); call it on empty databases.
 *
 * ```ts
 * const counts = await seedDemoData({ venues, experts, projects }, { experts: 3000 });
 * ```
 */
export async function seedDemoData(dbs: DomainDatabases, options: DemoOptions = {}): Promise<SeedCounts> {
  const data = generateDemoData(options);
  const counts: SeedCounts = {};
  // Tables in foreign-key order within each domain; the domains do not reference each other.
  await dbs.venues.transaction().execute(async (trx) => {
    await insertInChunks(trx, 'platform', data.venues.platform, counts);
    await insertInChunks(trx, 'cooperation_agreement', data.venues.cooperation_agreement, counts);
    await insertInChunks(trx, 'venue', data.venues.venue, counts);
    await insertInChunks(trx, 'room', data.venues.room, counts);
    await insertInChunks(trx, 'seat', data.venues.seat, counts);
  });
  await dbs.experts.transaction().execute(async (trx) => {
    await insertInChunks(trx, 'expert', data.experts.expert, counts);
    await insertInChunks(trx, 'employment', data.experts.employment, counts);
    await insertInChunks(trx, 'declared_conflict', data.experts.declared_conflict, counts);
    await insertInChunks(trx, 'penalty', data.experts.penalty, counts);
  });
  await dbs.projects.transaction().execute(async (trx) => {
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
