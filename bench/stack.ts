// Starts the hub as production does: every process alone, from dist/, with production secrets; and the stock gateway.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../app/dev/infrastructure';

export const ROOT = join(__dirname, '..');

export interface Proc {
  name: string;
  child: ChildProcess;
  port?: number;
  /** Resident set size of the process (and, for a cluster, its workers) in bytes, from /proc. */
  rss(): number;
  stop(): Promise<void>;
}

export { freePort };

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pids of a process and its children (cluster workers). */
function treePids(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    return [pid, ...children.flatMap(treePids)];
  } catch {
    return [pid];
  }
}

/** Every process the bench started, so an interrupted bench leaves none behind. */
const started = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of started) child.kill('SIGKILL');
    process.exit(130);
  });
}

export function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv, port?: number): Proc {
  // BENCH_NODE_ARGS: node options for every process (bench/profile-board.ts passes --cpu-prof, which NODE_OPTIONS refuses).
  const nodeArgs = (env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null)
      process.stderr.write(`[bench] ${name} exited with ${code}: ${stderr}\n`);
  });
  return {
    name,
    child,
    port,
    rss: () => (child.pid ? treePids(child.pid).reduce((sum, pid) => sum + rssOf(pid), 0) : 0),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface Stack {
  env: NodeJS.ProcessEnv;
  /** metrics: the gateway's METRICS_PORT (its /metrics). */
  ports: { gateway: number; venues: number; experts: number; projects: number; metrics: number };
  gateway: Proc;
  subgraphs: Proc[];
  jobs: Proc;
  stop(): Promise<void>;
}

/** The three subgraphs, the gateway and the workers, each `node dist/...` with HUB_ENV=production. */
export async function startStack(env: NodeJS.ProcessEnv): Promise<Stack> {
  const ports = {
    gateway: await freePort(),
    venues: await freePort(),
    experts: await freePort(),
    projects: await freePort(),
    metrics: await freePort(),
  };
  const full: NodeJS.ProcessEnv = {
    ...env,
    GATEWAY_PORT: String(ports.gateway),
    GATEWAY_HOST: '127.0.0.1',
    VENUES_PORT: String(ports.venues),
    EXPERTS_PORT: String(ports.experts),
    PROJECTS_PORT: String(ports.projects),
  };
  const subgraphs = (['venues', 'experts', 'projects'] as const).map((domain) =>
    startProcess(domain, [`dist/subgraphs/${domain}/main.js`], full, ports[domain]),
  );
  await Promise.all(
    (['venues', 'experts', 'projects'] as const).map((domain) => waitReady(`http://127.0.0.1:${ports[domain]}/readyz`)),
  );
  // Each gateway process of the bench gets a metrics listener of its own (METRICS_PORT defaults to one fixed port).
  const gateway = startProcess(
    'gateway',
    ['dist/gateway/main.js'],
    { ...full, METRICS_PORT: String(ports.metrics) },
    ports.gateway,
  );
  await waitReady(`http://127.0.0.1:${ports.gateway}/readyz`);
  // The jobs process's /metrics too: two benches on one machine (or a bench beside `npm start`) must not share its port.
  const jobs = startProcess('jobs', ['dist/jobs/main.js'], { ...full, JOBS_METRICS_PORT: String(await freePort()) });
  return {
    env: full,
    ports,
    gateway,
    subgraphs,
    jobs,
    async stop() {
      await gateway.stop();
      await jobs.stop();
      await Promise.all(subgraphs.map((proc) => proc.stop()));
    },
  };
}

/** The stock gateway of bench/stock-gateway.ts, over the same subgraphs. */
export async function startStockGateway(stack: Stack): Promise<Proc> {
  const port = await freePort();
  const proc = startProcess(
    'stock-gateway',
    ['-r', 'ts-node/register/transpile-only', 'bench/stock-gateway.ts'],
    { ...stack.env, STOCK_GATEWAY_PORT: String(port) },
    port,
  );
  await waitReady(`http://127.0.0.1:${port}/.well-known/apollo/server-health`).catch(async () => {
    // Apollo Server 5 dropped the health route; a GET without a query answers 400 once the server listens.
    await waitListening(`http://127.0.0.1:${port}/`);
  });
  return proc;
}

async function waitListening(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not listen within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
