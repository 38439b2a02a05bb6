// `npx ts-node --transpile-only bench/profile-board.ts` (after `npm run build`): profiles uncached board queries end to
// end. Loads the data set (SEED_SCALE, `small` by default), starts the stack as the bench does (dist/, production), a
// gateway with its response cache off and the stock gateway, then sends the board query through each, alternating, and
// reports the CPU each process spent per request (utime + stime from /proc; Postgres: the backends of the bench
// database) and the wall time per request. With PROFILE_CPU_DIR set, every node process runs with --cpu-prof and the
// profiles are summarised by phase (bench/cpu-profile.ts) once the processes exit. A tool, not a scenario.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { issueToken } from '../gateway/tokens';
import { encodeIdentity, IDENTITY_HEADER, SIGNATURE_HEADER, signatureFor } from '../lib/identity';
import { loadConfig } from '../lib/config';
import { migrateHub, openHubDatabases } from '../app/hub-databases';
import { benchScale, loadProvince } from './data';
import { freePort, startProcess, startStack, startStockGateway, waitReady, type Proc } from './stack';
import { summariseProfile } from './cpu-profile';
import { BOARD_QUERY } from './board-query';

const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 100);
const CONCURRENCY = Number(process.env.PROFILE_CONCURRENCY ?? 4);
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 2);
const TICKS = 100; // USER_HZ on Linux

function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `hub_profile_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const profileDir = process.env.PROFILE_CPU_DIR;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HUB_ENV: 'production',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: url.toString(),
    HUB_QUEUE_PREFIX: `{${name}}`,
    HUB_JWT_SECRET: randomBytes(32).toString('hex'),
    HUB_INTERNAL_SECRET: randomBytes(32).toString('hex'),
    WEBHOOK_SECRET: randomBytes(32).toString('hex'),
    APOLLO_TELEMETRY_DISABLED: '1',
    HUB_RATE_LIMIT: '1000000000',
    ...(profileDir ? { BENCH_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}),
  };
  const config = loadConfig(env);
  const databases = openHubDatabases(config);
  const log = (line: string) => process.stdout.write(`[profile] ${line}\n`);
  const names = new Map<number, string>();
  let measureStart = performance.now();
  let windowMs: number | undefined;
  try {
    await migrateHub(databases);
    const loaded = await loadProvince(
      { venues: databases.venues.db, experts: databases.experts.db, projects: databases.projects.db },
      benchScale(process.env.SEED_SCALE ?? 'small'),
      0,
    );
    await databases.close();
    log(`busiest day ${loaded.busiestDay.from}: ${loaded.busiestDay.bookings} bookings`);
    const stack = await startStack(env);
    const uncachedPort = await freePort();
    const uncached = startProcess(
      'gateway-uncached',
      ['dist/gateway/main.js'],
      {
        ...stack.env,
        GATEWAY_PORT: String(uncachedPort),
        METRICS_PORT: String(await freePort()),
        HUB_RESPONSE_CACHE_MB: '0',
      },
      uncachedPort,
    );
    const stock = await startStockGateway(stack);
    const procs: Proc[] = [uncached, stock];
    for (const proc of [...procs, ...stack.subgraphs, stack.gateway, stack.jobs]) names.set(proc.child.pid!, proc.name);
    try {
      await waitReady(`http://127.0.0.1:${uncachedPort}/readyz`);
      const token = await issueToken(
        config,
        { sub: 'bench-admin', role: 'PROVINCIAL_ADMIN', platform: '410000' },
        '1h',
      );
      const body = JSON.stringify({
        query: BOARD_QUERY,
        variables: { from: loaded.busiestDay.from, to: loaded.busiestDay.to },
      });
      const targets = [
        { name: 'hub (cache off)', url: `http://127.0.0.1:${uncachedPort}/graphql`, gateway: uncached },
        { name: 'stock', url: `http://127.0.0.1:${stock.port}/`, gateway: stock },
      ];
      const send = async (target: (typeof targets)[number]): Promise<number> => {
        const started = performance.now();
        const response = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body,
        });
        const text = await response.text();
        if (response.status !== 200 || text.includes('"errors"'))
          throw new Error(`${target.name}: ${response.status} ${text.slice(0, 300)}`);
        return performance.now() - started;
      };
      for (const target of targets) for (let i = 0; i < 10; i++) await send(target);
      measureStart = performance.now();
      const backends = async (): Promise<number[]> =>
        (await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [name])).rows.map(
          (row) => row.pid,
        );
      const subgraphs = stack.subgraphs;
      const rows: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const target of targets) {
          const pids = new Set(await backends());
          const before = new Map<number, number>([...pids].map((pid) => [pid, cpuMsOf(pid)]));
          const processes = [target.gateway, ...subgraphs];
          const procBefore = processes.map((proc) => cpuMsOf(proc.child.pid!));
          const load = loadavg()[0];
          const walls: number[] = [];
          const started = performance.now();
          let next = 0;
          await Promise.all(
            Array.from({ length: CONCURRENCY }, async () => {
              while (next < REQUESTS) {
                next++;
                walls.push(await send(target));
              }
            }),
          );
          const elapsed = performance.now() - started;
          for (const pid of await backends()) if (!before.has(pid)) before.set(pid, 0);
          const postgres = [...before.entries()].reduce((sum, [pid, ms]) => sum + Math.max(0, cpuMsOf(pid) - ms), 0);
          const per = processes.map((proc, index) => (cpuMsOf(proc.child.pid!) - procBefore[index]) / REQUESTS);
          walls.sort((a, b) => a - b);
          const total = per.reduce((a, b) => a + b, 0) + postgres / REQUESTS;
          rows.push(
            `| ${round + 1} | ${target.name} | ${per.map((ms) => ms.toFixed(1)).join(' | ')} | ${(postgres / REQUESTS).toFixed(1)} | ${total.toFixed(1)} | ${walls[Math.floor(walls.length / 2)].toFixed(0)} | ${((REQUESTS * 1000) / elapsed).toFixed(1)} | ${load.toFixed(1)} |`,
          );
          log(rows[rows.length - 1]);
        }
      }
      // The venues subgraph's share of the board, asked straight (signed as the gateway signs): with the reference data
      // (room, venue, platform names) and with the room's id only, what a gateway keeping reference data would ask.
      const venues = stack.subgraphs.find((proc) => proc.name === 'venues')!;
      const venuesUrl = `http://127.0.0.1:${stack.ports.venues}/graphql`;
      const identity = encodeIdentity({ sub: 'bench-admin', role: 'PROVINCIAL_ADMIN', platform: '410000' });
      const variants: [string, string][] = [
        ['venues fetch, with reference data', 'room { name venue { name platform { name } } }'],
        ['venues fetch, room id only', 'room { id }'],
      ];
      for (let round = 0; round < ROUNDS; round++) {
        for (const [label, room] of variants) {
          const direct = JSON.stringify({
            query: `query Board__venues__0($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { id role seats startsAt endsAt status ${room} project { __typename id } } }`,
            variables: { from: loaded.busiestDay.from, to: loaded.busiestDay.to },
          });
          const cpuBefore = cpuMsOf(venues.child.pid!);
          const load = loadavg()[0];
          let bytes = 0;
          for (let i = 0; i < REQUESTS; i++) {
            const response = await fetch(venuesUrl, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                [IDENTITY_HEADER]: identity,
                [SIGNATURE_HEADER]: signatureFor(env.HUB_INTERNAL_SECRET!, identity, direct),
              },
              body: direct,
            });
            const text = await response.text();
            if (text.includes('"errors"')) throw new Error(`${label}: ${text.slice(0, 300)}`);
            bytes = text.length;
          }
          rows.push(
            `| ${round + 1} | ${label} (${bytes} bytes) | venues ${((cpuMsOf(venues.child.pid!) - cpuBefore) / REQUESTS).toFixed(1)} ms | load ${load.toFixed(1)} |`,
          );
          log(rows[rows.length - 1]);
        }
      }
      process.stdout.write(
        `\nCPU ms per request (${REQUESTS} requests, ${CONCURRENCY} in flight, ${loaded.busiestDay.bookings} bookings):\n` +
          `| round | gateway | gateway | ${subgraphs.map((proc) => proc.name).join(' | ')} | postgres | total | wall p50 ms | req/s | load |\n` +
          `| --- | --- | ---: | ${subgraphs.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: |\n` +
          rows.join('\n') +
          '\n',
      );
    } finally {
      windowMs = performance.now() - measureStart;
      await Promise.all(procs.map((proc) => proc.stop()));
      await stack.stop();
    }
  } finally {
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
  if (profileDir) {
    for (const file of readdirSync(profileDir).filter((entry) => entry.endsWith('.cpuprofile'))) {
      const pid = Number(/^CPU\.\d+\.\d+\.(\d+)\./.exec(file)?.[1]);
      if (!names.has(pid)) continue;
      process.stdout.write(
        `\n### ${names.get(pid)} (${file})\n${summariseProfile(join(profileDir, file), windowMs)}\n`,
      );
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
