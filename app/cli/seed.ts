// `npm run seed`: migrates the three domain schemas and fills them with the demo data when they are empty.
import { ConfigError, databaseUrl, loadConfig, type Domain } from '../../lib/config';
import { migrateDomain, openDomainDatabase } from '../../lib/db';
import { isDatabaseEmpty, seedDemoData } from '../seed';
import { expertsMigrations } from '../../subgraphs/experts/migrations';
import { projectsMigrations } from '../../subgraphs/projects/migrations';
import { venuesMigrations } from '../../subgraphs/venues/migrations';
import type { ExpertsDatabase } from '../../subgraphs/experts/types';
import type { ProjectsDatabase } from '../../subgraphs/projects/types';
import type { VenuesDatabase } from '../../subgraphs/venues/types';

function urlsOrExplain(): Record<Domain, string> | null {
  const config = loadConfig();
  try {
    return { venues: databaseUrl(config, 'venues'), experts: databaseUrl(config, 'experts'), projects: databaseUrl(config, 'projects') };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${error.message}\nnpm run seed needs a Postgres of your own: set DATABASE_URL (npm start uses an embedded Postgres instead and needs no seeding by hand).`);
    return null;
  }
}

async function main(): Promise<void> {
  const urls = urlsOrExplain();
  if (!urls) {
    process.exitCode = 1;
    return;
  }
  const venues = openDomainDatabase<VenuesDatabase>(urls.venues, 'venues');
  const experts = openDomainDatabase<ExpertsDatabase>(urls.experts, 'experts');
  const projects = openDomainDatabase<ProjectsDatabase>(urls.projects, 'projects');
  try {
    await migrateDomain(venues.db, 'venues', venuesMigrations);
    await migrateDomain(experts.db, 'experts', expertsMigrations);
    await migrateDomain(projects.db, 'projects', projectsMigrations);
    if (!(await isDatabaseEmpty(venues.db))) {
      console.log('already seeded: platforms exist, nothing written');
      return;
    }
    const started = Date.now();
    const counts = await seedDemoData({ venues: venues.db, experts: experts.db, projects: projects.db });
    console.log(`seeded in ${Date.now() - started} ms:`);
    for (const [table, count] of Object.entries(counts)) console.log(`  ${table.padEnd(22)} ${count}`);
  } finally {
    await Promise.all([venues.close(), experts.close(), projects.close()]);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
