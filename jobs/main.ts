// Starts the workers and the outbox relay alone (production: node dist/jobs/main.js).
// Tracing first (when configured): its instrumentation patches http and pg only for modules loaded after it.
import { startTracingIfConfigured, stopTracing } from '../lib/otel';
startTracingIfConfigured('hub-jobs');
import { loadConfig } from '../lib/config';
import { createServices, outboxSources } from '../app/hub';
import { openHubDatabases } from '../app/hub-databases';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import { onShutdown, runMain } from '../lib/process';
import { createJobHandlers } from './handlers';
import { startJobsHttp } from './http';
import { startJobs } from './runtime';

const logger = createLogger('jobs');
runMain(logger, async () => {
  const config = loadConfig();
  const databases = openHubDatabases(config);
  const services = createServices(config, logger, databases);
  const metrics = createMetrics('jobs', { processDefaults: true });
  metrics.observePools({
    venues: databases.venues.pool,
    experts: databases.experts.pool,
    projects: databases.projects.pool,
  });
  const jobs = startJobs({
    config,
    logger,
    outboxes: outboxSources(databases),
    handlers: createJobHandlers(services),
    metrics,
  });
  const http =
    config.JOBS_METRICS_PORT === 0
      ? null
      : await startJobsHttp({
          host: config.JOBS_HOST,
          port: config.JOBS_METRICS_PORT,
          metrics,
          ready: () => jobs.ready(),
        });
  logger.info({ port: http?.port }, 'workers and outbox relay running');
  onShutdown(logger, async () => {
    // Health stays up while the workers drain, so an orchestrator sees the process alive until it exits.
    await jobs.stop();
    await http?.stop();
    await databases.close();
    await stopTracing();
  });
});
