// Starts the workers and the outbox relay alone (production: node dist/jobs/main.js).
import { loadConfig } from '../lib/config';
import { createServices, outboxSources } from '../lib/hub';
import { openHubDatabases } from '../lib/hub-databases';
import { createLogger } from '../lib/logger';
import { onShutdown, runMain } from '../lib/process';
import { createJobHandlers } from './handlers';
import { startJobs } from './runtime';

const logger = createLogger('jobs');
runMain(logger, async () => {
  const config = loadConfig();
  const databases = openHubDatabases(config);
  const services = createServices(config, logger, databases);
  const jobs = startJobs({ config, logger, outboxes: outboxSources(databases), handlers: createJobHandlers(services) });
  logger.info('workers and outbox relay running');
  onShutdown(logger, async () => {
    await jobs.stop();
    await databases.close();
  });
});
