// `npm run migrate`: brings every domain schema to its latest migration.
import { loadConfig } from '../../lib/config';
import { migrateHub, openHubDatabases } from '../hub-databases';
import { createLogger } from '../../lib/logger';
import { runMain } from '../../lib/process';

const logger = createLogger('migrate');
runMain(logger, async () => {
  const databases = openHubDatabases(loadConfig());
  try {
    const applied = await migrateHub(databases);
    process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'already up to date\n');
  } finally {
    await databases.close();
  }
});
