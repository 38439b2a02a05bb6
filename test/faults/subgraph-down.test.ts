// Fault: one subgraph stops. The gateway still answers with the other subgraphs' data and an error naming the missing
// one, /readyz turns unready, and everything recovers when the subgraph comes back on its port. A caller whose answer
// the gateway cached before the stop, with nothing changed since, keeps getting it whole. And a built subgraph process
// SIGKILLed while it answers a query (held on a lock until the kill): the gateway answers that query without it.
import pg from 'pg';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { issueToken } from '../../gateway/tokens';
import { createLogger } from '../../lib/logger';
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from '../support/hub';
import { buildDist, freePort, PRODUCTION_ENV, startBuilt, waitForOutput, type Child } from './support/processes';

jest.setTimeout(180_000);
let t: TestHub;
beforeAll(async () => {
  // The internal secret of production length, so a built subgraph in the production environment can join this hub.
  t = await startTestHub({ jobs: false, overrides: { HUB_INTERNAL_SECRET: PRODUCTION_ENV.HUB_INTERNAL_SECRET } });
});
afterAll(async () => {
  // The hub stops the subgraph it started; the one restarted here is this test's to stop.
  await t.hub.subgraphs.venues.stop();
  await t.stop();
});

const BOTH = `query Both($id: ID!) { platform(id: $id) { id name } projects(first: 2) { totalCount } }`;
const readyz = async () => {
  const response = await fetch(new URL('/readyz', t.hub.gateway.url));
  return {
    status: response.status,
    body: (await response.json()) as { status: string; service: string; checks: Record<string, boolean> },
  };
};

it('answers without the stopped subgraph, names it, turns unready, and recovers when it returns (3 stop/start cycles)', async () => {
  for (let cycle = 0; cycle < 3; cycle += 1) {
    // Callers of their own per phase: what one of them had cached must not hide the outage from the other.
    const cached = { ...as.admin, sub: `subgraph-down-cached-${cycle}` };
    const fresh = { ...as.admin, sub: `subgraph-down-fresh-${cycle}` };
    const before = await t.graphql<{ platform: { id: string } | null; projects: { totalCount: number } }>(
      cached,
      BOTH,
      { id: ZHUMADIAN },
    );
    expect(before.errors).toBeUndefined();
    expect(before.data?.platform?.id).toBe(ZHUMADIAN);
    expect((await readyz()).status).toBe(200);

    await t.hub.subgraphs.venues.stop();
    expect(await t.graphql(cached, BOTH, { id: ZHUMADIAN })).toEqual(before);
    const during = await t.graphql<{ platform: { id: string } | null; projects: { totalCount: number } }>(fresh, BOTH, {
      id: ZHUMADIAN,
    });
    expect(during.status).toBe(200);
    expect(during.data?.platform).toBeNull();
    expect(during.data?.projects.totalCount).toBe(before.data?.projects.totalCount);
    expect(during.errors).toHaveLength(1);
    expect(during.errors?.[0].message).toMatch(/venues subgraph is unreachable/);
    expect(during.errors?.[0].extensions).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      serviceName: 'venues',
      retryable: true,
    });
    const unready = await readyz();
    expect(unready.status).toBe(503);
    expect(unready.body).toEqual({
      status: 'unready',
      service: 'gateway',
      checks: { venues: false, experts: true, projects: true },
    });

    t.hub.subgraphs.venues = await t.hub.subgraphs.venues.restart();
    await eventually(
      async () => ((await readyz()).status === 200 ? true : undefined),
      10_000,
      'the gateway to be ready again',
    );
    const after = await eventually(
      async () => {
        const response = await t.graphql<{ platform: { id: string } | null }>(fresh, BOTH, { id: ZHUMADIAN });
        return response.errors ? undefined : response;
      },
      10_000,
      'a full answer again',
    );
    expect(after.data?.platform?.id).toBe(ZHUMADIAN);
  }
});

describe('a subgraph process SIGKILLed in the middle of a query', () => {
  let child: Child | null = null;
  let gateway: RunningGateway | null = null;
  beforeAll(() => buildDist(), 240_000);
  afterAll(async () => {
    if (child && child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await gateway?.stop();
  });

  it('answers with the other subgraphs and an error naming the dead one, for the very query it was answering', async () => {
    // The built venues subgraph (production environment) behind a gateway of this test; the hub shares its internal secret.
    const port = await freePort();
    child = startBuilt('subgraphs/venues/main', {
      ...PRODUCTION_ENV,
      DATABASE_URL: t.database.url,
      REDIS_URL: t.config.REDIS_URL,
      VENUES_PORT: String(port),
      LOG_LEVEL: 'info',
    });
    await waitForOutput(child, 'venues subgraph listening', 60_000);
    const config = t.config;
    gateway = await startGateway({
      config,
      logger: createLogger('test', 'silent'),
      port: 0,
      subgraphUrls: {
        venues: `http://127.0.0.1:${port}/graphql`,
        experts: t.hub.subgraphs.experts.url,
        projects: t.hub.subgraphs.projects.url,
      },
    });
    const ask = async () => {
      const response = await fetch(gateway!.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await issueToken(config, { sub: 'subgraph-kill', ...as.admin })}`,
          'cache-control': 'no-cache',
        },
        body: JSON.stringify({ query: BOTH, variables: { id: ZHUMADIAN } }),
      });
      return {
        status: response.status,
        ...((await response.json()) as {
          data?: { platform: { id: string } | null; projects: { totalCount: number } } | null;
          errors?: { message: string; extensions?: Record<string, unknown> }[];
        }),
      };
    };
    const before = await ask();
    expect(before.errors).toBeUndefined();

    // Hold the venues subgraph's read of the platform on a lock, so the query is provably inside it when it dies.
    const lock = new pg.Client({ connectionString: t.database.url });
    await lock.connect();
    await lock.query('begin');
    await lock.query('lock table venues.platform in access exclusive mode');
    let answer: Awaited<ReturnType<typeof ask>>;
    try {
      const asked = ask();
      const waiting = await eventually(
        async () => {
          const rows = await lock.query<{ pid: number; query: string }>(
            `select pid, query from pg_stat_activity where datname = current_database() and application_name = 'hub-venues' and wait_event_type = 'Lock'`,
          );
          return rows.rows[0];
        },
        30_000,
        "the venues subgraph's query to wait on the lock",
      );
      child.process.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      console.info(
        `subgraph-down: SIGKILL fell mid-query: venues backend ${waiting.pid} waiting on a lock in "${waiting.query.slice(0, 70)}"`,
      );
      answer = await asked;
    } finally {
      await lock.query('rollback');
      await lock.end();
    }
    expect(answer.status).toBe(200);
    expect(answer.data?.platform).toBeNull();
    expect(answer.data?.projects.totalCount).toBe(before.data?.projects.totalCount);
    expect(answer.errors).toHaveLength(1);
    expect(answer.errors?.[0].extensions).toMatchObject({ serviceName: 'venues' });
    console.info(
      `subgraph-down: the gateway answered the interrupted query with ${JSON.stringify(answer.errors?.[0])}`,
    );
  });
});
