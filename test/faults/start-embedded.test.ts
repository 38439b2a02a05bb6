// Fault: `npm start` with the embedded Postgres (no DATABASE_URL) stopped by SIGTERM to the hub alone, and by SIGINT to
// its whole process group, which is what a terminal's Ctrl-C sends. Either way the hub must close its own pools first,
// then stop the Postgres it started, say "Stopped" and exit 0; a Postgres that took the signal itself and cut the hub's
// connections shows as warnings of lost connections and failed jobs, or as a non-zero exit. A process that never exits
// fails through the wait's timeout, never through a measured duration.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDist, freePort, startBuilt, waitForOutput, type Child } from './support/processes';

jest.setTimeout(300_000);

/** How long the hub may take to exit before the test fails: a failure mode, not a measured bound. */
const EXIT_TIMEOUT_MS = 60_000;
const READY_LINE = 'Press Ctrl-C to stop.';
const STOPPED_LINE = 'Stopped: servers drained, connections closed.';

const children: Child[] = [];
const dataDirs: string[] = [];
beforeAll(() => buildDist());
afterAll(() => {
  for (const child of children)
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  for (const dir of dataDirs) {
    const pid = postmasterPid(join(dir, 'postgres'));
    if (pid !== null && alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The postmaster's pid from its lock file, or null when there is none (Postgres removes it as it stops). */
function postmasterPid(databaseDir: string): number | null {
  const file = join(databaseDir, 'postmaster.pid');
  if (!existsSync(file)) return null;
  return Number(readFileSync(file, 'utf8').split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What the hub printed from its readiness line on at pino's warning level or above, and the start script's own failure
 * line. An idle hub that shuts down in order has nothing to warn about: a Postgres stopped under it shows here as its
 * outbox listeners losing their connections ("terminating connection due to administrator command") and jobs failing
 * with "the database system is shutting down", which are warnings, not errors.
 */
function warningsOnceReady(output: string): string[] {
  return output
    .slice(output.indexOf(READY_LINE))
    .split('\n')
    .filter((line) => {
      if (line.startsWith('npm start failed')) return true;
      if (!line.startsWith('{')) return false;
      try {
        return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 40;
      } catch {
        return false;
      }
    });
}

async function exitOf(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the hub did not exit; it printed:\n${child.output().slice(-3000)}`)),
      EXIT_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('npm start with the embedded Postgres (no DATABASE_URL)', () => {
  it.each([
    ['SIGTERM to the hub process alone', 'SIGTERM', false],
    ["SIGINT to the hub's process group (a terminal's Ctrl-C)", 'SIGINT', true],
  ] as const)('on %s closes its pools, stops its Postgres and exits 0', async (_case, signal, toGroup) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hub-start-embedded-'));
    dataDirs.push(dataDir);
    // Postgres runs as the `postgres` user when the tests run as root; it must be able to reach its data directory.
    chmodSync(dataDir, 0o755);
    const databaseDir = join(dataDir, 'postgres');
    const env: Record<string, string> = {
      HUB_ENV: 'development',
      HUB_JWT_SECRET: randomBytes(32).toString('hex'),
      HUB_INTERNAL_SECRET: randomBytes(32).toString('hex'),
      WEBHOOK_SECRET: randomBytes(32).toString('hex'),
      HUB_DATA_DIR: dataDir,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      HUB_QUEUE_PREFIX: `{start-embedded-${randomBytes(4).toString('hex')}}`,
      GATEWAY_PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
      VENUES_PORT: String(await freePort()),
      EXPERTS_PORT: String(await freePort()),
      PROJECTS_PORT: String(await freePort()),
    };
    // Empty counts as unset for `npm start`, and hides any DATABASE_URL this test run inherited.
    const hub = startBuilt('app/dev/start', { ...env, DATABASE_URL: '' }, { detached: toGroup });
    children.push(hub);
    await waitForOutput(hub, READY_LINE, 240_000);
    expect(hub.output()).toContain(`embedded PostgreSQL (data in ${databaseDir})`);
    const postgresPid = postmasterPid(databaseDir);
    expect(postgresPid).not.toBeNull();
    expect(alive(postgresPid!)).toBe(true);

    const signalledAt = Date.now();
    if (toGroup) process.kill(-hub.process.pid!, signal);
    else hub.process.kill(signal);
    const exit = await exitOf(hub);
    // Measured, not asserted: how long the idle hub took from the signal to its exit.
    console.log(
      `start-embedded: ${signal}${toGroup ? ' to the process group' : ''}: exited ${exit.at - signalledAt} ms after the signal`,
    );

    const output = hub.output();
    expect({ code: exit.code, signal: exit.signal, warnings: warningsOnceReady(output) }).toEqual({
      code: 0,
      signal: null,
      warnings: [],
    });
    expect(output).toContain(STOPPED_LINE);
    // The hub stops its Postgres before it says "Stopped": nothing of that data directory may outlive it.
    expect(alive(postgresPid!)).toBe(false);
    expect(existsSync(join(databaseDir, 'postmaster.pid'))).toBe(false);
  });
});
