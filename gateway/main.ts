// Starts the gateway alone (production: node dist/gateway/main.js).
// Tracing first (when configured): its instrumentation patches http and pg only for modules loaded after it.
import { startTracingIfConfigured, stopTracing } from '../lib/otel';
startTracingIfConfigured('hub-gateway');
import { loadConfig, subgraphUrl } from '../lib/config';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import { onShutdown, runMain } from '../lib/process';
import { startGateway } from './server';
import { isClusterPrimary, superviseWorkers } from './cluster';

const logger = createLogger('gateway');
runMain(logger, async () => {
  const config = loadConfig();
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  // GATEWAY_WORKERS > 1: this process only supervises; each worker runs the code below (gateway/cluster.ts).
  if (isClusterPrimary(config.GATEWAY_WORKERS)) return superviseWorkers(config.GATEWAY_WORKERS, logger);
  const gateway = await startGateway({
    config,
    logger,
    port: config.GATEWAY_PORT,
    metrics: createMetrics('gateway', { processDefaults: true }),
    subgraphUrls: {
      venues: subgraphUrl(config, 'venues'),
      experts: subgraphUrl(config, 'experts'),
      projects: subgraphUrl(config, 'projects'),
    },
  });
  onShutdown(logger, async () => {
    await gateway.stop();
    await stopTracing();
  });
});
