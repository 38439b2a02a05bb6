// `npm run bench`: a database of its own, the province-size data set, the hub started as production starts it,
// the scenarios of bench/README.md, and the results in bench/results/. Never part of `npm test`.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { issueToken } from '../gateway/tokens';
import { loadConfig, type HubConfig } from '../lib/config';
import type { Identity } from '../lib/identity';
import { migrateHub, openHubDatabases } from '../app/hub-databases';
import { openRedis } from '../lib/redis';
import { benchScale, loadProvince } from './data';
import { compare, load, once, type LoadResult, type Target } from './load';
import type { Scenario, ScenarioContext } from './scenarios';
import { sagaScenario } from './saga';
import { drawScenario } from './draw';
import { importScenario } from './import';
import { busyScenario } from './busy';
import { GROWTH_SAGA_PROJECTS, growthScenario } from './growth';
import { freePort, ROOT, startProcess, startStack, startStockGateway, waitReady, type Stack } from './stack';
import { renderMarkdown, type BenchResults } from './report';
import { BOARD_QUERY, PLATFORM_QUERY } from './board-query';

export { BOARD_QUERY, PLATFORM_QUERY };

const ADMIN: Identity = { sub: 'bench-admin', role: 'PROVINCIAL_ADMIN', platform: '410000' };
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const SECONDS = num('BENCH_SECONDS', 10);
const ROUNDS = num('BENCH_ROUNDS', 3);
const SOAK_SECONDS = num('BENCH_SOAK_SECONDS', 300);
const SOAK_WARM_UP = num('BENCH_SOAK_WARMUP', 30);
const CONNECTIONS = 50;
/** Every scenario, in the order a full run measures them; BENCH_SCENARIOS picks some (comma-separated). */
const SCENARIOS = ['overhead', 'cluster', 'board', 'draw', 'saga', 'import', 'soak', 'busy', 'growth'] as const;
type ScenarioName = (typeof SCENARIOS)[number];
function chosenScenarios(value: string | undefined): Set<ScenarioName> {
  if (!value) return new Set(SCENARIOS);
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length)
    throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  return new Set(names as ScenarioName[]);
}
const CHOSEN = chosenScenarios(process.env.BENCH_SCENARIOS);

const extraScenarios: [ScenarioName, Scenario][] = [
  ['draw', drawScenario],
  ['saga', sagaScenario],
  ['import', importScenario],
  ['busy', busyScenario],
  ['growth', growthScenario],
];
const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);

async function main(): Promise<void> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..+/, '').replace('T', '-');
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `hub_bench_${stamp.replace('-', '_')}`;
  // A run of some scenarios only is named after them and leaves latest.md, the last full run, alone.
  const full = CHOSEN.size === SCENARIOS.length;
  const file = full ? stamp : `${stamp}-${[...CHOSEN].join('-')}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  log(`database ${name}`);

  const secrets = {
    HUB_JWT_SECRET: randomBytes(32).toString('hex'),
    HUB_INTERNAL_SECRET: randomBytes(32).toString('hex'),
    WEBHOOK_SECRET: randomBytes(32).toString('hex'),
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...secrets,
    HUB_ENV: 'production',
    // As the Dockerfile sets it, for every process the bench starts, the stock gateway included (graphql-js then skips
    // its development checks).
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DATABASE_URL: url.toString(),
    HUB_QUEUE_PREFIX: `{${name}}`,
    APOLLO_TELEMETRY_DISABLED: '1',
    // The per-identity abuse limit stays on (its Redis counting is part of the cost) but above what one bench identity sends.
    HUB_RATE_LIMIT: process.env.HUB_RATE_LIMIT ?? '1000000000',
  };
  const config: HubConfig = loadConfig(env);
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      loadavgStart: loadavg(),
      note: "shared 2-core machine: other engineers' test runs may contend; compare ratios within this run, not absolute figures across runs",
    },
    settings: {
      SEED_SCALE: process.env.SEED_SCALE ?? 'full',
      BENCH_SECONDS: SECONDS,
      BENCH_ROUNDS: ROUNDS,
      BENCH_SOAK_SECONDS: SOAK_SECONDS,
      connections: CONNECTIONS,
      PG_POOL_SIZE: config.PG_POOL_SIZE,
      GATEWAY_WORKERS: process.env.GATEWAY_WORKERS ?? 'default',
      BENCH_SCENARIOS: [...CHOSEN].join(','),
    },
    data: { counts: {}, busiestDay: { from: '', to: '', bookings: 0 }, seconds: 0 },
    scenarios: [],
  };

  let stack: Stack | undefined;
  const stops: (() => Promise<void>)[] = [];
  try {
    const databases = openHubDatabases(config);
    await migrateHub(databases);
    log('loading the province-size data set…');
    const loaded = await loadProvince(
      { venues: databases.venues.db, experts: databases.experts.db, projects: databases.projects.db },
      benchScale(),
      CHOSEN.has('growth') ? 500 + GROWTH_SAGA_PROJECTS : 500,
    );
    await databases.close();
    const { sagaProjects, ...data } = loaded;
    results.data = data;
    log(
      `loaded in ${data.seconds.toFixed(1)} s: ${JSON.stringify(data.counts)}; busiest day ${data.busiestDay.from} with ${data.busiestDay.bookings} bookings`,
    );

    stack = await startStack(env);
    const running = stack;
    const token = await issueToken(config, ADMIN, '4h');
    const bearer = { authorization: `Bearer ${token}` };
    const gatewayUrl = `http://127.0.0.1:${stack.ports.gateway}/graphql`;

    const platformBody = JSON.stringify({ query: PLATFORM_QUERY, variables: { id: '411700' } });
    const viaGateway: Target = { name: 'hub gateway', url: gatewayUrl, body: platformBody, headers: bearer };
    const boardBody = JSON.stringify({
      query: BOARD_QUERY,
      variables: { from: data.busiestDay.from, to: data.busiestDay.to },
    });
    const ours: Target = { name: 'hub gateway', url: gatewayUrl, body: boardBody, headers: bearer };
    // The same gateway with its response cache off, beside the one as deployed: what the gateway itself costs.
    const uncachedPort = await freePort();
    const uncachedGateway = startProcess(
      'gateway-uncached',
      ['dist/gateway/main.js'],
      {
        ...running.env,
        GATEWAY_PORT: String(uncachedPort),
        METRICS_PORT: String(await freePort()),
        HUB_RESPONSE_CACHE_MB: '0',
      },
      uncachedPort,
    );
    stops.push(() => uncachedGateway.stop());
    await waitReady(`http://127.0.0.1:${uncachedPort}/readyz`);
    const uncachedUrl = `http://127.0.0.1:${uncachedPort}/graphql`;

    // ---- gateway overhead: one subgraph, straight (signed) versus through the gateway, uncached; then cached alone
    if (CHOSEN.has('overhead')) {
      const direct: Target = {
        name: 'venues subgraph direct',
        url: `http://127.0.0.1:${stack.ports.venues}/graphql`,
        body: platformBody,
        sign: { secret: config.HUB_INTERNAL_SECRET, identity: ADMIN },
      };
      const uncached: Target = { ...viaGateway, name: 'hub gateway, response cache off', url: uncachedUrl };
      await once(direct);
      await once(uncached);
      log('warming up…');
      await load(direct, CONNECTIONS, 3);
      await load(uncached, CONNECTIONS, 5);
      log('gateway overhead (direct, gateway without cache alternating)');
      const comparison = await compare(direct, uncached, {
        connections: CONNECTIONS,
        seconds: SECONDS,
        rounds: ROUNDS,
        log,
      });
      await once(viaGateway);
      const cached = await load({ ...viaGateway, name: 'hub gateway, response cache on' }, CONNECTIONS, SECONDS);
      log(
        `  hub gateway, response cache on: ${cached.rps.toFixed(0)} req/s p50 ${cached.p50} ms p99 ${cached.p99} ms bad ${cached.bad}`,
      );
      results.gatewayOverhead = { ...comparison, cached };
    }

    // ---- both cores: the uncached gateway as one process against GATEWAY_WORKERS=2, same subgraphs, alternating
    if (CHOSEN.has('cluster')) {
      const clusterPort = await freePort();
      const clustered = startProcess(
        'gateway-2-workers',
        ['dist/gateway/main.js'],
        { ...running.env, GATEWAY_PORT: String(clusterPort), GATEWAY_WORKERS: '2', HUB_RESPONSE_CACHE_MB: '0' },
        clusterPort,
      );
      stops.push(() => clustered.stop());
      await waitReady(`http://127.0.0.1:${clusterPort}/readyz`);
      const single: Target = {
        ...viaGateway,
        name: `hub gateway (cache off), GATEWAY_WORKERS=${config.GATEWAY_WORKERS}`,
        url: uncachedUrl,
      };
      const twoWorkers: Target = {
        ...viaGateway,
        name: 'hub gateway (cache off), GATEWAY_WORKERS=2',
        url: `http://127.0.0.1:${clusterPort}/graphql`,
      };
      await once(twoWorkers);
      await load(twoWorkers, CONNECTIONS, 3);
      log('gateway workers (configured, 2 alternating)');
      results.cluster = await compare(single, twoWorkers, {
        connections: CONNECTIONS,
        seconds: SECONDS,
        rounds: ROUNDS,
        log,
      });
      await clustered.stop();
    }

    // ---- board query: the stock gateway versus ours as deployed, then versus ours without its cache; same subgraphs
    if (CHOSEN.has('board')) {
      const stock = await startStockGateway(stack);
      stops.push(() => stock.stop());
      const stockTarget: Target = { name: 'stock gateway', url: `http://127.0.0.1:${stock.port}/`, body: boardBody };
      const oursUncached: Target = { ...ours, name: 'hub gateway, response cache off', url: uncachedUrl };
      const timed = async (target: Target) => {
        const started = performance.now();
        const body = (await once(target)) as { data: { schedule: unknown[] } };
        log(`  one board query alone through the ${target.name}: ${(performance.now() - started).toFixed(0)} ms`);
        return body;
      };
      const sample = await timed(ours);
      const stockSample = await timed(stockTarget);
      const uncachedSample = await timed(oursUncached);
      await timed(stockTarget);
      for (const [name, answer] of [
        ['ours', sample],
        ['ours without cache', uncachedSample],
      ] as const) {
        if (JSON.stringify(answer.data) !== JSON.stringify(stockSample.data))
          throw new Error(`the stock gateway and ${name} answer the board query differently`);
      }
      const bookings = sample.data.schedule.length;
      log(
        `board query: ${bookings} bookings, ${boardBody.length} B request, ${JSON.stringify(sample).length} B response`,
      );
      await load(ours, CONNECTIONS, 5);
      await load(stockTarget, CONNECTIONS, 5);
      log('board query (stock, hub alternating)');
      results.board = {
        ...(await compare(stockTarget, ours, { connections: CONNECTIONS, seconds: SECONDS, rounds: ROUNDS, log })),
        bookings,
      };
      await load(oursUncached, CONNECTIONS, 5);
      log('board query (stock, hub without cache alternating)');
      results.boardUncached = {
        ...(await compare(stockTarget, oursUncached, {
          connections: CONNECTIONS,
          seconds: SECONDS,
          rounds: ROUNDS,
          log,
        })),
        bookings,
      };
      await stock.stop();
    }
    await uncachedGateway.stop();

    // ---- the scenarios that call domain services (draw, saga)
    const context: ScenarioContext = {
      config,
      env,
      stack: running,
      sagaProjects,
      log,
      bearer,
      gatewayUrl,
      busiestDay: data.busiestDay,
      resultsBase: file,
    };
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    for (const [key, scenario] of extraScenarios) {
      if (!CHOSEN.has(key)) continue;
      try {
        results.scenarios.push(await scenario(context));
      } catch (error) {
        results.scenarios.push({
          name: scenario.name,
          status: 'failed',
          note: String(error instanceof Error ? (error.stack ?? error.message) : error),
          figures: [],
        });
      }
    }

    // ---- soak: the board query at a constant rate, well below saturation, in equal chunks
    if (CHOSEN.has('soak')) {
      // Half of what the board comparison measured (BENCH_SOAK_RATE without it): a load the hub should carry for hours, not a saturation test.
      const rate = results.board
        ? Math.max(1, Math.round(results.board.summary.b.rps * 0.5))
        : num('BENCH_SOAK_RATE', 5);
      await once(ours);
      const chunkSeconds = Math.max(5, Math.min(60, Math.floor(SOAK_SECONDS / 5)));
      const chunkCount = Math.max(2, Math.round(SOAK_SECONDS / chunkSeconds));
      log(`soak: ${SOAK_WARM_UP} s warm-up, then ${chunkCount} x ${chunkSeconds} s at ${rate} req/s`);
      // The idle gateway is smaller than under load: the start is sampled after a warm-up at the soak's own rate, so
      // that growth means growth while the load holds. The idle figure is reported beside it.
      const rssIdle = running.gateway.rss();
      if (SOAK_WARM_UP > 0) await load({ ...ours, rate }, 10, SOAK_WARM_UP);
      const rssStart = running.gateway.rss();
      const chunks: LoadResult[] = [];
      const chunkRss: number[] = [];
      for (let chunk = 0; chunk < chunkCount; chunk++) {
        chunks.push(await load({ ...ours, rate }, 10, chunkSeconds));
        chunkRss.push(running.gateway.rss());
        log(
          `  chunk ${chunk + 1}: ${chunks[chunk].rps.toFixed(0)} req/s p99 ${chunks[chunk].p99} ms, gateway RSS ${(chunkRss[chunk] / 1048576).toFixed(0)} MiB`,
        );
      }
      const rssEnd = running.gateway.rss();
      const p99First = chunks[0].p99;
      const p99Last = chunks[chunks.length - 1].p99;
      results.soak = {
        seconds: chunkSeconds * chunkCount,
        warmUpSeconds: SOAK_WARM_UP,
        rate,
        rssIdle,
        rssStart,
        rssEnd,
        rssGrowth: rssEnd / rssStart - 1,
        chunkRss,
        chunks,
        p99First,
        p99Last,
        p99Drift: p99Last / p99First - 1,
      };
    }
  } finally {
    results.finishedAt = new Date().toISOString();
    results.machine.loadavgEnd = loadavg();
    for (const stop of stops) await stop().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    await admin
      .query(`drop database if exists ${name} with (force)`)
      .catch((error: unknown) => log(`could not drop ${name}: ${String(error)}`));
    await admin.end();
    await dropQueues(config.REDIS_URL, config.HUB_QUEUE_PREFIX);
    const dir = join(ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const markdown = renderMarkdown(results);
    writeFileSync(join(dir, `${file}.json`), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(dir, `${file}.md`), markdown);
    if (full) writeFileSync(join(dir, 'latest.md'), markdown);
    log(`results: bench/results/${file}.json, bench/results/${file}.md${full ? ', bench/results/latest.md' : ''}`);
    process.stdout.write(`\n${markdown}\n`);
  }
}

async function dropQueues(redisUrl: string, prefix: string): Promise<void> {
  const redis = openRedis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
