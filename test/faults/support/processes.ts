// Helpers for the fault tests that start real processes: free ports, a child under ts-node, its exit, Redis of our own.
import { networkInterfaces } from 'node:os';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../support/hub';

export const ROOT = join(__dirname, '..', '..', '..');

export { freePort } from '../../../app/dev/infrastructure';

export interface Child {
  process: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts a TypeScript entry point of the repo as its own node process, as production starts the built one. */
export function startChild(entry: string, env: Record<string, string>): Child {
  return track(
    spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', entry], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', APOLLO_TELEMETRY_DISABLED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

function track(child: ChildProcess): Child {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { process: child, output: () => output, exited };
}

/** A production environment a built entry point accepts: secrets of production length, not the development ones. */
export const PRODUCTION_ENV: Record<string, string> = {
  HUB_ENV: 'production',
  HUB_JWT_SECRET: 'fault-test-jwt-secret-0123456789abcdef0123',
  HUB_INTERNAL_SECRET: 'fault-test-internal-secret-0123456789abcdef',
  WEBHOOK_SECRET: 'fault-test-webhook-secret-0123456789abcdef',
};

let built = false;
/** Compiles dist/ once per test file (as sigterm.test.ts does), so the fault tests run what production runs. */
export function buildDist(): void {
  if (built) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  built = true;
}

/**
 * Starts a built entry point (`dist/<entry>.js`) as production runs it: NODE_ENV=production, plain node. `detached`
 * makes it the leader of a process group of its own, as a shell makes a command run from a terminal, so that
 * `process.kill(-pid, signal)` reaches it and everything it spawned as a terminal's Ctrl-C does.
 */
export function startBuilt(entry: string, env: Record<string, string>, options: { detached?: boolean } = {}): Child {
  return track(
    spawn(process.execPath, [join('dist', `${entry}.js`)], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', APOLLO_TELEMETRY_DISABLED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    }),
  );
}

/** Waits until the child printed `text`, or fails with what it printed. */
export async function waitForOutput(child: Child, text: string, timeoutMs = 30_000): Promise<void> {
  try {
    await eventually(
      async () => {
        if (child.output().includes(text)) return true;
        if (child.process.exitCode !== null || child.process.signalCode !== null)
          throw new Error(`child exited before "${text}":\n${child.output()}`);
        return undefined;
      },
      timeoutMs,
      `the child to print "${text}"`,
    );
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('timed out'))
      throw new Error(`child did not print "${text}" in ${timeoutMs} ms:\n${child.output()}`, { cause: error });
    throw error;
  }
}

/** A Redis of the test's own, with an append-only file in a directory of its own, so it can be stopped and restarted. */
export class OwnRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'hub-fault-redis-'));
  private child: ChildProcess | null = null;
  constructor(readonly port: number) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        this.dir,
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    const answers = () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(this.port, '127.0.0.1', () => socket.write('PING\r\n'));
        socket.on('data', (data: Buffer) => {
          socket.destroy();
          resolve(data.toString().startsWith('+PONG'));
        });
        socket.on('error', () => resolve(false));
      });
    await eventually(
      async () => ((await answers()) ? true : undefined),
      10_000,
      `redis-server to start on port ${this.port}`,
    );
  }
  /** SIGTERM: Redis flushes its append-only file and exits, as on a restart by an operator or an orchestrator. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }
}

/**
 * An address of this machine a partner endpoint may have, for the built jobs process to deliver webhooks to. The hub
 * never delivers to loopback (MASTER-DATA.md), so a test's receiver listens on the machine's own outside interface; a
 * private one is opened with WEBHOOK_ALLOWED_NETWORKS, as a closed government network would be. `env` is what the jobs
 * process needs on top of PRODUCTION_ENV: NODE_ENV stays production, HUB_ENV=development lets the delivery use http
 * (production's https would need a certificate for this machine's address).
 */
export function partnerAddress(): {
  host: string;
  url: (port: number, path: string) => string;
  env: Record<string, string>;
} {
  const outside = Object.values(networkInterfaces())
    .flat()
    .filter((address) => address !== undefined && !address.internal && !address.address.startsWith('fe80'))
    .sort((a, b) => (a!.family === b!.family ? 0 : a!.family === 'IPv4' ? -1 : 1))[0];
  if (!outside) throw new Error('this machine has no network interface but loopback, and the hub never delivers there');
  const host = outside.address;
  const url = (port: number, path: string) =>
    outside.family === 'IPv6' ? `http://[${host}]:${port}${path}` : `http://${host}:${port}${path}`;
  const isPrivate = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.|f[cd])/i.test(
    host,
  );
  const env: Record<string, string> = { HUB_ENV: 'development' };
  if (isPrivate) env.WEBHOOK_ALLOWED_NETWORKS = `${host}/${outside.family === 'IPv6' ? 128 : 32}`;
  return { host, url, env };
}
