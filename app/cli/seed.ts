// `npm run seed`: migrates the three domain schemas (the one migrateHub) and fills them with the demo data when they are
// empty; the expert pool goes in through the bulk import, from the CSV files it leaves in .data/seed/ (HUB_DATA_DIR/seed/).
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../lib/config';
import { migrateHub, openHubDatabases, type HubDatabases } from '../hub-databases';
import { isDatabaseEmpty, seedCsvDir, seedDemoData } from '../seed';

const DATA_DIR = process.env.HUB_DATA_DIR ? resolve(process.env.HUB_DATA_DIR) : join(process.cwd(), '.data');

function openOrExplain(): HubDatabases | null {
  const config = loadConfig();
  try {
    return openHubDatabases(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(
      `${error.message}\nnpm run seed needs a Postgres of your own: set DATABASE_URL (npm start uses an embedded Postgres instead and needs no seeding by hand).`,
    );
    return null;
  }
}

async function main(): Promise<void> {
  const databases = openOrExplain();
  if (!databases) {
    process.exitCode = 1;
    return;
  }
  try {
    await migrateHub(databases);
    if (!(await isDatabaseEmpty(databases.venues.db))) {
      console.log('already seeded: platforms exist, nothing written');
      return;
    }
    const started = Date.now();
    const csvDir = seedCsvDir(DATA_DIR);
    const counts = await seedDemoData(
      { venues: databases.venues.db, experts: databases.experts.db, projects: databases.projects.db },
      { csvDir },
    );
    console.log(`seeded in ${Date.now() - started} ms (the expert pool imported from ${csvDir}):`);
    for (const [table, count] of Object.entries(counts)) console.log(`  ${table.padEnd(22)} ${count}`);
  } finally {
    await databases.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
