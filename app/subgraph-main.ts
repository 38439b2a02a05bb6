// The production entry of one subgraph: config, its database (and any domain whose service it calls), its server, shutdown.
import type { Kysely } from 'kysely';
import { databaseUrl, loadConfig, type Domain, type HubConfig } from '../lib/config';
import { openDomainDatabase, type DomainDatabase } from '../lib/db';
import { stopTracing } from '../lib/otel';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import { onShutdown, runMain } from '../lib/process';
import { startSubgraph, type SubgraphContext, type SubgraphDefinition } from '../lib/subgraph';

/** Opens another domain's database for calls into that domain's service (never its tables). */
export type OpenDomain = <DB>(domain: Domain) => Kysely<DB>;

export function runSubgraphMain<DB, C extends SubgraphContext>(
  domain: Domain,
  define: (db: Kysely<DB>, open: OpenDomain, config: HubConfig) => SubgraphDefinition<C>,
): void {
  const logger = createLogger(domain);
  runMain(logger, async () => {
    const config = loadConfig();
    const opened: DomainDatabase<unknown>[] = [];
    const pools: Record<string, DomainDatabase<unknown>['pool']> = {};
    const open: OpenDomain = <T>(other: Domain) => {
      const database = openDomainDatabase<T>(databaseUrl(config, other), other, config.PG_POOL_SIZE);
      opened.push(database as DomainDatabase<unknown>);
      pools[other] = database.pool;
      return database.db;
    };
    const port = { venues: config.VENUES_PORT, experts: config.EXPERTS_PORT, projects: config.PROJECTS_PORT }[domain];
    const definition = define(open<DB>(domain), open, config);
    const metrics = createMetrics(domain, { processDefaults: true });
    metrics.observePools(pools);
    const running = await startSubgraph(definition, config, logger, port, { metrics });
    onShutdown(logger, async () => {
      await running.stop();
      await Promise.all(opened.map((database) => database.close()));
      await stopTracing();
    });
  });
}
