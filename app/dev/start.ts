// `npm start`: the whole hub in one command for a newcomer: Postgres and Redis found or started, migrations, demo data, servers.
// Tracing first (when configured): its instrumentation patches http and pg only for modules loaded after it.
import { startTracingIfConfigured, stopTracing } from '../../lib/otel';
startTracingIfConfigured('hub');
import { join, resolve } from 'node:path';
import { issueToken } from '../../gateway/tokens';
import { ConfigError, loadConfig } from '../../lib/config';
import { startHub } from '../hub';
import { migrateHub, openHubDatabases } from '../hub-databases';
import { createLogger } from '../../lib/logger';
import { onShutdown } from '../../lib/process';
import { isDatabaseEmpty, seedCsvDir, seedDemoData } from '../seed';
import { findOrStartRedis, startEmbeddedPostgres, type Started } from './infrastructure';

const ROOT = join(__dirname, '..', '..', '..');
/** Where the embedded Postgres and a Redis this command starts keep their data: HUB_DATA_DIR, else `.data/` of the checkout. */
const DATA_DIR = process.env.HUB_DATA_DIR ? resolve(process.env.HUB_DATA_DIR) : join(ROOT, '.data');

async function main(): Promise<void> {
  const began = Date.now();
  process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const logger = createLogger('hub', process.env.LOG_LEVEL ?? 'warn');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const stops: Started[] = [];
  try {
    const postgres: Started = process.env.DATABASE_URL
      ? { url: process.env.DATABASE_URL, description: 'PostgreSQL at DATABASE_URL', stop: async () => undefined }
      : await startEmbeddedPostgres(DATA_DIR);
    stops.push(postgres);
    const redis = await findOrStartRedis(process.env.REDIS_URL, DATA_DIR);
    stops.push(redis);
    const config = loadConfig({ ...process.env, DATABASE_URL: postgres.url, REDIS_URL: redis.url });
    const databases = openHubDatabases(config);
    await migrateHub(databases);
    if (await isDatabaseEmpty(databases.venues.db)) {
      const csvDir = seedCsvDir(DATA_DIR);
      const counts = await seedDemoData(
        { venues: databases.venues.db, experts: databases.experts.db, projects: databases.projects.db },
        { csvDir },
      );
      say(
        `Loaded demo data: ${counts.platform} platforms, ${counts.room} rooms, ${counts.expert} experts (imported from ${csvDir}), ${counts.project} projects.`,
      );
    }
    const hub = await startHub({ config, logger, databases });
    const token = await issueToken(config, { sub: 'demo-operator', role: 'PLATFORM_OPERATOR', platform: '411700' });
    const endpoint = `http://localhost:${hub.gateway.port}/graphql`;
    say('');
    say(`Remote evaluation hub ready in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    say(`  Postgres: ${postgres.description}`);
    say(`  Redis:    ${redis.description}`);
    say(`  GraphQL:  ${endpoint}`);
    say('');
    say('A token of a Zhumadian (411700) platform operator, valid 12 hours:');
    say(`  export TOKEN=${token}`);
    say('');
    say('Try:');
    say(`  curl -s ${endpoint} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`);
    say(
      `    -d '{"query":"{ platform(id: \\"411700\\") { name venues { name rooms { name seats } } partners { partner { name } autoConfirm } } }"}'`,
    );
    say('');
    say(
      'Other roles: npm run --silent token -- --role SUPERVISOR --platform 411700 --department HOUSING_AND_CONSTRUCTION',
    );
    say('Press Ctrl-C to stop.');

    // The same bounded shutdown as the production processes: servers drained, workers closed, then our own Postgres and
    // Redis connections, and only then whatever infrastructure this command started.
    onShutdown(logger, async () => {
      say('\nStopping…');
      await hub.stop();
      await databases.close();
      await stopTracing();
      for (const started of stops.reverse()) await started.stop();
      say('Stopped: servers drained, connections closed.');
    });
  } catch (error) {
    for (const started of stops.reverse()) await started.stop().catch(() => undefined);
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

void main();
