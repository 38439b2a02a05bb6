// Fault: SIGTERM (and SIGINT) to each kind of process, run as deployed: the built dist/ entries under
// NODE_ENV=production, where @apollo/server would install signal handlers of its own. Each test holds a piece of work
// open until the process has said it is shutting down, so the signal lands inside it; then it checks that the work was
// handed back (the request answered, the job finished) and that the process exited 0. A process that never exits fails
// through the wait's timeout, never through a measured duration.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { createLogger } from '../../lib/logger';
import { writeOutbox, type WithOutbox } from '../../lib/outbox';
import { feeAdvancedProject, HOST, roomsOf } from '../support/expert-draw';
import { as, eventually, freshDatabase, startTestHub, ZHUMADIAN, type TestHub } from '../support/hub';
import { freePort, partnerAddress, ROOT, startBuilt, waitForOutput, type Child } from './support/processes';

jest.setTimeout(240_000);

// Production refuses the development secrets; the test hub and the children share these.
const secrets = {
  HUB_JWT_SECRET: randomBytes(32).toString('hex'),
  HUB_INTERNAL_SECRET: randomBytes(32).toString('hex'),
  WEBHOOK_SECRET: randomBytes(32).toString('hex'),
};
/** How long a child may take to exit before the test fails: a failure mode, not a measured bound. */
const EXIT_TIMEOUT_MS = 60_000;

let t: TestHub;
const children: Child[] = [];
beforeAll(async () => {
  // The tests run what production runs: build dist/ from this checkout once, so it is never stale.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  t = await startTestHub({ jobs: false, overrides: secrets });
});
afterAll(async () => {
  for (const child of children)
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await t?.stop();
});

const productionEnv = () => ({
  ...secrets,
  HUB_ENV: 'production',
  DATABASE_URL: t.database.url,
  REDIS_URL: t.config.REDIS_URL,
  HUB_QUEUE_PREFIX: t.config.HUB_QUEUE_PREFIX,
});

function start(entry: string, env: Record<string, string>): Child {
  const child = startBuilt(entry, env);
  children.push(child);
  return child;
}

async function healthy(url: string, child: Child): Promise<void> {
  await eventually(
    async () => {
      try {
        return (await fetch(url)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    },
    120_000,
    `${url} to answer`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; the process printed:\n${child.output().slice(-3000)}`);
  });
}

/** Sends the signal and waits until the process has logged that it is shutting down (so the signal has landed). */
async function signalAndWaitForShutdown(child: Child, signal: NodeJS.Signals, line = 'shutting down'): Promise<void> {
  child.process.kill(signal);
  await waitForOutput(child, line, EXIT_TIMEOUT_MS);
}

async function exitOf(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the process did not exit; it printed:\n${child.output().slice(-3000)}`)),
      EXIT_TIMEOUT_MS,
    );
  });
  try {
    const exit = await Promise.race([child.exited, timeout]);
    return { code: exit.code, signal: exit.signal, output: exit.code === 0 ? '' : child.output().slice(-3000) };
  } finally {
    clearTimeout(timer);
  }
}

/** An HTTP server in this process that holds the requests `holds` picks until released, and forwards every other one. */
function holdingServer(
  upstream: (request: IncomingMessage, body: string) => string | null,
  holds: (body: string) => boolean,
) {
  let started!: () => void;
  const heldStarted = new Promise<void>((resolve) => (started = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const held = holds(body);
        if (held) {
          started();
          await released;
        }
        const target = upstream(request, body);
        if (target === null) {
          response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
          return;
        }
        const headers = Object.fromEntries(
          Object.entries(request.headers).filter(
            ([name, value]) => typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name),
          ),
        ) as Record<string, string>;
        const answer = await fetch(target, {
          method: request.method,
          headers,
          body: request.method === 'GET' ? undefined : body,
        });
        const text = await answer.text();
        response
          .writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
          .end(text);
      })().catch(() => response.writeHead(502).end());
    });
  });
  return {
    listen: (host = '127.0.0.1') =>
      new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port))),
    /** Resolves once a held request has arrived (it is then in flight in the process that sent it). */
    heldStarted,
    release,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

it.each(['gateway/main', 'subgraphs/venues/main'])(
  '%s exits 0 on SIGTERM when idle (no signal handler of Apollo races its shutdown)',
  async (entry) => {
    const port = await freePort();
    const child = start(entry, {
      ...productionEnv(),
      GATEWAY_PORT: String(port),
      GATEWAY_HOST: '127.0.0.1',
      METRICS_PORT: String(await freePort()),
      VENUES_PORT: String(port),
      VENUES_URL: t.hub.subgraphs.venues.url,
      EXPERTS_URL: t.hub.subgraphs.experts.url,
      PROJECTS_URL: t.hub.subgraphs.projects.url,
    });
    await healthy(`http://127.0.0.1:${port}/readyz`, child);
    await signalAndWaitForShutdown(child, 'SIGTERM');
    expect(await exitOf(child)).toEqual({ code: 0, signal: null, output: '' });
  },
);

it('the gateway answers a request held in flight at SIGTERM, then exits 0', async () => {
  // The venues subgraph as the gateway sees it: requests of the operation HeldQuery wait until the test releases them.
  const venuesUrl = new URL(t.hub.subgraphs.venues.url);
  const venues = holdingServer(
    (request) => new URL(request.url ?? '/', venuesUrl).toString(),
    (body) => body.includes('HeldQuery'),
  );
  const venuesPort = await venues.listen();
  const gatewayPort = await freePort();
  const gateway = start('gateway/main', {
    ...productionEnv(),
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_HOST: '127.0.0.1',
    METRICS_PORT: String(await freePort()),
    VENUES_URL: `http://127.0.0.1:${venuesPort}/graphql`,
    EXPERTS_URL: t.hub.subgraphs.experts.url,
    PROJECTS_URL: t.hub.subgraphs.projects.url,
  });
  try {
    await healthy(`http://127.0.0.1:${gatewayPort}/readyz`, gateway);
    const inFlight = fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(as.admin)}` },
      body: JSON.stringify({ query: `query HeldQuery { platform(id: "${ZHUMADIAN}") { id name } }` }),
    });
    // The gateway has planned the query and is waiting on the subgraph: the request is in flight.
    await venues.heldStarted;
    await signalAndWaitForShutdown(gateway, 'SIGTERM');
    venues.release();
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { data: { platform: { id: string } } }).data.platform.id).toBe(ZHUMADIAN);
    expect(await exitOf(gateway)).toEqual({ code: 0, signal: null, output: '' });
    await expect(fetch(`http://127.0.0.1:${gatewayPort}/healthz`)).rejects.toThrow();
  } finally {
    venues.release();
    await venues.close();
  }
});

it('a subgraph answers a request held in flight at SIGTERM (its query waiting on a lock), then exits 0', async () => {
  const venuesPort = await freePort();
  const venues = start('subgraphs/venues/main', { ...productionEnv(), VENUES_PORT: String(venuesPort) });
  const locker = new pg.Client({ connectionString: t.database.url });
  await locker.connect();
  let gateway: RunningGateway | undefined;
  try {
    await healthy(`http://127.0.0.1:${venuesPort}/readyz`, venues);
    gateway = await startGateway({
      config: t.config,
      logger: createLogger('sigterm-test', 'silent'),
      port: 0,
      subgraphUrls: {
        venues: `http://127.0.0.1:${venuesPort}/graphql`,
        experts: t.hub.subgraphs.experts.url,
        projects: t.hub.subgraphs.projects.url,
      },
    });
    await locker.query('begin');
    await locker.query('lock table venues.platform in access exclusive mode');
    const inFlight = fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(as.operator())}` },
      body: JSON.stringify({ query: `query HeldQuery { platform(id: "${ZHUMADIAN}") { id name } }` }),
    });
    // The subgraph's query waits on the lock (nothing else in this database takes it): the request is inside the subgraph
    // process. pg_stat_activity may still show the backend's previous statement while the new one waits in parsing.
    await eventually(
      async () => {
        const waiting = await locker.query(
          `select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
        );
        return waiting.rowCount ? true : undefined;
      },
      60_000,
      'the subgraph query to wait on the lock',
    ).catch(async (error: Error) => {
      const early = await Promise.race([
        inFlight.then(async (response) => `answered ${response.status}: ${await response.text()}`),
        Promise.resolve('no answer yet'),
      ]);
      const activity = await locker.query(
        `select pid, state, wait_event_type, wait_event, left(query, 120) as query from pg_stat_activity where datname = current_database()`,
      );
      throw new Error(
        `${error.message}; the request: ${early}; activity: ${JSON.stringify(activity.rows)}; the subgraph printed:\n${venues.output().slice(-3000)}`,
      );
    });
    await signalAndWaitForShutdown(venues, 'SIGTERM');
    await locker.query('rollback');
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { data: { platform: { id: string; name: string } } }).data.platform.id).toBe(
      ZHUMADIAN,
    );
    expect(await exitOf(venues)).toEqual({ code: 0, signal: null, output: '' });
  } finally {
    await locker.query('rollback').catch(() => undefined);
    await locker.end();
    await gateway?.stop();
  }
});

it('the jobs process finishes the job in progress at SIGTERM, then exits 0', async () => {
  // A partner platform's webhook endpoint that holds the delivery until the test releases it.
  const partner = holdingServer(
    () => null,
    () => true,
  );
  const address = partnerAddress();
  const partnerPort = await partner.listen(address.host);
  const jobsPort = await freePort();
  const jobs = start('jobs/main', {
    ...productionEnv(),
    ...address.env,
    JOBS_METRICS_PORT: String(jobsPort),
    OUTBOX_POLL_INTERVAL: '50ms',
  });
  const venuesDb = t.databases.venues.db;
  try {
    await healthy(`http://127.0.0.1:${jobsPort}/readyz`, jobs);
    const metrics = await (await fetch(`http://127.0.0.1:${jobsPort}/metrics`)).text();
    expect(metrics).toMatch(/hub_queue_jobs\{[^}]*queue="notifications"[^}]*state="waiting"/);
    expect(metrics).toMatch(/hub_pg_pool_connections\{/);

    // A delivery needs a booking; a project whose fee is advanced holds one.
    const rooms = await roomsOf(t, HOST);
    const projectId = await feeAdvancedProject(t, {
      mode: 'LOCAL',
      bookings: [{ roomId: rooms[0].id, role: 'MAIN', seats: rooms[0].seats }],
    });
    const [booking] = await t.hub.services.venues.bookingsOfProjects([projectId]);
    const deliveryId = `whd_sigterm_${booking.id}`;
    await venuesDb.transaction().execute(async (trx) => {
      await trx
        .insertInto('webhook_delivery')
        .values({
          id: deliveryId,
          platform_id: ZHUMADIAN,
          booking_id: booking.id,
          event: 'sigterm.probe',
          url: address.url(partnerPort, '/hook'),
          payload: JSON.stringify({ probe: true }),
          last_status_code: null,
          last_error: null,
          delivered_at: null,
        })
        .execute();
      await writeOutbox(trx as unknown as Kysely<WithOutbox>, {
        queue: 'notifications',
        name: 'webhook',
        data: { deliveryId, attempt: 1 },
      });
    });
    // The worker is inside the job, waiting on the partner's answer.
    await partner.heldStarted;
    await signalAndWaitForShutdown(jobs, 'SIGTERM');
    partner.release();
    expect(await exitOf(jobs)).toEqual({ code: 0, signal: null, output: '' });
    const delivery = await venuesDb
      .selectFrom('webhook_delivery')
      .select(['status', 'attempts'])
      .where('id', '=', deliveryId)
      .executeTakeFirstOrThrow();
    expect(delivery).toEqual({ status: 'DELIVERED', attempts: 1 });
  } finally {
    partner.release();
    await partner.close();
  }
});

describe('npm start (the all-in-one hub) with DATABASE_URL and REDIS_URL set', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('closes its connections and exits 0 on %s', async (signal) => {
    const database = await freshDatabase();
    const [gatewayPort, venuesPort, expertsPort, projectsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const hub = start('app/dev/start', {
      ...secrets,
      NODE_ENV: 'development',
      HUB_ENV: 'development',
      DATABASE_URL: database.url,
      REDIS_URL: t.config.REDIS_URL,
      HUB_QUEUE_PREFIX: `{${database.name}}`,
      GATEWAY_PORT: String(gatewayPort),
      METRICS_PORT: String(await freePort()),
      VENUES_PORT: String(venuesPort),
      EXPERTS_PORT: String(expertsPort),
      PROJECTS_PORT: String(projectsPort),
    });
    await waitForOutput(hub, 'Press Ctrl-C to stop.', 120_000);
    const token = /export TOKEN=(\S+)/.exec(hub.output())![1];
    const answer = await fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `{ platform(id: "${ZHUMADIAN}") { id } }` }),
    });
    expect(answer.status).toBe(200);
    // The hub's own pools hold connections to its database now. It says "Stopped" only once its shutdown has closed them
    // (then it exits 0); the exit itself would drop them too, so the count afterwards only confirms nothing lingers.
    const admin = new pg.Client({ connectionString: t.database.url });
    await admin.connect();
    try {
      const open = async () =>
        Number(
          (await admin.query(`select count(*) from pg_stat_activity where datname = $1`, [database.name])).rows[0]
            .count,
        );
      expect(await open()).toBeGreaterThan(0);
      await signalAndWaitForShutdown(hub, signal, 'Stopping');
      expect(await exitOf(hub)).toEqual({ code: 0, signal: null, output: '' });
      expect(hub.output()).toContain('Stopped: servers drained, connections closed.');
      await eventually(
        async () => ((await open()) === 0 ? true : undefined),
        30_000,
        'the hub database to have no connections',
      );
    } finally {
      await admin.end();
    }
  });
});
