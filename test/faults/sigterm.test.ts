// Fault: SIGTERM to each kind of process. A request in flight is answered, a job in progress finishes, and the process
// exits 0 well inside lib/process.ts's 15 s bound. Also checks the jobs process's /readyz and /metrics.
import pg from 'pg';
import { type Kysely } from 'kysely';
import { writeOutbox, type WithOutbox } from '../../lib/outbox';
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from '../support/hub';
import { createProbeTables, freePort, startChild, waitForOutput, type Child } from './support/processes';

let t: TestHub;
jest.setTimeout(240_000);
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  await createProbeTables(t.database.url);
});
afterAll(async () => {
  await t.stop();
});

const BOUND_MS = 15_000;
const baseEnv = () => ({ DATABASE_URL: t.database.url, REDIS_URL: t.config.REDIS_URL, HUB_QUEUE_PREFIX: t.config.HUB_QUEUE_PREFIX, HUB_ENV: 'test' });

async function healthy(url: string, child: Child, timeoutMs = 120_000): Promise<void> {
  await eventually(async () => {
    try {
      return (await fetch(url)).ok ? true : undefined;
    } catch {
      return undefined;
    }
  }, timeoutMs, `${url} to answer`).catch((error: Error) => {
    throw new Error(`${error.message}; the process printed:\n${child.output().slice(-3000)}`);
  });
}

async function terminate(child: Child): Promise<number> {
  const sent = Date.now();
  child.process.kill('SIGTERM');
  const exit = await child.exited;
  expect({ code: exit.code, signal: exit.signal, output: exit.code === 0 ? '' : child.output().slice(-3000) }).toEqual({ code: 0, signal: null, output: '' });
  return exit.at - sent;
}

it('a worker finishes its active job before exiting', async () => {
  const child = startChild('test/faults/support/jobs-child.ts', { ...baseEnv(), OUTBOX_POLL_INTERVAL: '20ms', FAULT_WORKERS: '1' });
  await waitForOutput(child, 'fault-jobs ready');
  const db = t.databases.projects.db as unknown as Kysely<WithOutbox>;
  await db.transaction().execute((trx) => writeOutbox(trx, { queue: 'notifications', name: 'fault-probe', data: { key: 'sigterm-drain', sleepMs: 2000 } }));
  const client = new pg.Client({ connectionString: t.database.url });
  await client.connect();
  await eventually(async () => ((await client.query(`select 1 from public.fault_runs where key = 'sigterm-drain'`)).rowCount ? true : undefined), 30_000, 'the job to start');
  const took = await terminate(child);
  const effect = await client.query(`select 1 from public.fault_effects where key = 'sigterm-drain'`);
  await client.end();
  expect(effect.rowCount).toBe(1);
  expect(took).toBeGreaterThan(1000);
  expect(took).toBeLessThan(BOUND_MS);
});

it('the venues subgraph, the gateway and the jobs main drain and exit within the bound', async () => {
  const [venuesPort, gatewayPort, jobsPort] = [await freePort(), await freePort(), await freePort()];
  const venues = startChild('subgraphs/venues/main.ts', { ...baseEnv(), VENUES_PORT: String(venuesPort) });
  const jobs = startChild('jobs/main.ts', { ...baseEnv(), JOBS_METRICS_PORT: String(jobsPort) });
  const gateway = startChild('gateway/main.ts', {
    ...baseEnv(),
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_HOST: '127.0.0.1',
    VENUES_URL: `http://127.0.0.1:${venuesPort}/graphql`,
    EXPERTS_URL: t.hub.subgraphs.experts.url,
    PROJECTS_URL: t.hub.subgraphs.projects.url,
  });
  try {
    await Promise.all([healthy(`http://127.0.0.1:${venuesPort}/healthz`, venues), healthy(`http://127.0.0.1:${jobsPort}/readyz`, jobs), healthy(`http://127.0.0.1:${gatewayPort}/readyz`, gateway)]);
    const metrics = await (await fetch(`http://127.0.0.1:${jobsPort}/metrics`)).text();
    expect(metrics).toMatch(/hub_queue_jobs\{[^}]*queue="notifications"[^}]*state="waiting"/);
    expect(metrics).toMatch(/hub_outbox_lag_seconds\{[^}]*outbox="projects"/);
    expect(metrics).toMatch(/hub_pg_pool_connections\{/);

    // A request in flight when the gateway is told to stop is still answered.
    const token = await t.token(as.admin);
    const inFlight = fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `query { platform(id: "${ZHUMADIAN}") { id } projects(first: 1) { totalCount } }` }),
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const gatewayTook = await terminate(gateway);
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { data: { platform: { id: string } } }).data.platform.id).toBe(ZHUMADIAN);

    const venuesTook = await terminate(venues);
    const jobsTook = await terminate(jobs);
    for (const took of [gatewayTook, venuesTook, jobsTook]) expect(took).toBeLessThan(BOUND_MS);
    console.info(`sigterm: gateway exited in ${gatewayTook} ms, venues in ${venuesTook} ms, jobs in ${jobsTook} ms`);
  } finally {
    for (const child of [venues, jobs, gateway]) if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
});
