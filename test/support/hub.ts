// Test harness: a database of the test file's own (a copy of the seeded template), a queue prefix of its own,
// the whole hub on free ports, tokens for any role, and a GraphQL client that talks to the gateway.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { issueToken } from '../../gateway/tokens';
import { QUEUE_NAMES } from '../../jobs/queues';
import type { Clock } from '../../lib/clock';
import { loadConfig, type HubConfig } from '../../lib/config';
import { startHub, type RunningHub } from '../../app/hub';
import type { TestDeliveryOptions } from '../../subgraphs/venues';
import { openHubDatabases, type HubDatabases } from '../../app/hub-databases';
import { createLogger } from '../../lib/logger';
import type { WithOutbox } from '../../lib/outbox';
import type { Identity } from '../../lib/identity';

export interface TestDatabase {
  name: string;
  url: string;
}

/** A new database copied from the run's migrated and seeded template. */
export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.HUB_TEST_ADMIN_DATABASE_URL!;
  const name = `${process.env.HUB_TEST_RUN}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${process.env.HUB_TEST_TEMPLATE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** A configuration pointing at the given database, with a queue prefix of its own. */
export function testConfig(database: TestDatabase, overrides: Record<string, string> = {}): HubConfig {
  return loadConfig({
    ...process.env,
    DATABASE_URL: database.url,
    HUB_QUEUE_PREFIX: `{${database.name}}`,
    OUTBOX_POLL_INTERVAL: '50ms',
    ...overrides,
  });
}

export interface TestHub {
  config: HubConfig;
  database: TestDatabase;
  databases: HubDatabases;
  hub: RunningHub;
  /** Every SQL statement the hub ran, with its domain, since the last reset. */
  statements: { domain: string; sql: string }[];
  token(identity: Omit<Identity, 'sub'> & { sub?: string }): Promise<string>;
  /** POSTs a GraphQL request to the gateway with the identity's token. */
  graphql<T = Record<string, unknown>>(
    identity: (Omit<Identity, 'sub'> & { sub?: string }) | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
  /** POSTs any request body to the gateway with the identity's token (a persisted query's hash without its text, say). */
  post<T = Record<string, unknown>>(
    identity: (Omit<Identity, 'sub'> & { sub?: string }) | null,
    body: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

export async function startTestHub(
  options: {
    overrides?: Record<string, string>;
    jobs?: boolean;
    logDestination?: { write(line: string): void };
    clock?: Clock;
    /** The resolver and networks webhook deliveries use; by default 127.0.0.1 is opened for the tests' receivers. */
    webhookDelivery?: TestDeliveryOptions;
  } = {},
): Promise<TestHub> {
  const database = await freshDatabase();
  const config = testConfig(database, options.overrides);
  const statements: { domain: string; sql: string }[] = [];
  const databases = openHubDatabases(config, (domain, sql) => statements.push({ domain, sql }));
  const hub = await startHub({
    config,
    logger: createLogger('test', config.LOG_LEVEL, options.logDestination),
    databases,
    ports: { gateway: 0, venues: 0, experts: 0, projects: 0 },
    jobs: options.jobs,
    clock: options.clock,
    webhookDelivery: { testNetworks: ['127.0.0.1/32'], ...options.webhookDelivery },
  });
  const token = (identity: Omit<Identity, 'sub'> & { sub?: string }) =>
    issueToken(config, { sub: `test-${identity.role.toLowerCase()}`, ...identity });
  const post = async (identity: (Omit<Identity, 'sub'> & { sub?: string }) | null, body: Record<string, unknown>) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (identity) headers.authorization = `Bearer ${await token(identity)}`;
    const response = await fetch(hub.gateway.url, { method: 'POST', headers, body: JSON.stringify(body) });
    const answer = (await response.json()) as Omit<GraphQLResponse<never>, 'status'>;
    return { status: response.status, ...answer };
  };
  return {
    config,
    database,
    databases,
    hub,
    statements,
    token,
    graphql: (identity, query, variables) => post(identity, { query, variables }),
    post,
    async stop() {
      await hub.stop();
      await databases.close();
    },
  };
}

/** An instant `days` from now at `hour`:00 UTC. */
export function inDays(days: number, hour = 1): Date {
  const date = new Date(Date.now() + days * 86_400_000);
  date.setUTCHours(hour, 0, 0, 0);
  return date;
}

/**
 * Waits until `check` returns a value other than undefined, or fails after the timeout. The one place the suite pauses
 * (between two looks at a condition); test/suite-hygiene.test.ts keeps it so.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'condition',
  pollMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A job due later than this is not work in progress: an invitation's timeout, a message written to wait an hour. */
const LATER_MS = 60_000;

/**
 * Waits until the hub's jobs have stopped working: every outbox message relayed, no job waiting, running, or due soon
 * (a retry counts however far off), and no job finished between two such looks. A state, not a time: nothing sleeps.
 */
export async function jobsSettled(t: TestHub, timeoutMs = 30_000): Promise<void> {
  const jobs = t.hub.jobs;
  if (!jobs) throw new Error('jobsSettled: this hub runs no jobs');
  const look = async (): Promise<string | undefined> => {
    const finished: number[] = [];
    for (const name of QUEUE_NAMES) {
      const queue = jobs.queues[name];
      const counts = await queue.getJobCounts(
        'waiting',
        'active',
        'prioritized',
        'waiting-children',
        'completed',
        'failed',
      );
      if (counts.waiting + counts.active + counts.prioritized + counts['waiting-children'] > 0) return undefined;
      const dueBy = Date.now() + LATER_MS;
      const delayed = await queue.getDelayed();
      // A scheduler's next run (the hold sweep's, every minute) is not work in progress; a retry always is.
      if (
        delayed.some(
          (job) => job.attemptsMade > 0 || (!job.repeatJobKey && job.timestamp + (job.opts.delay ?? 0) <= dueBy),
        )
      )
        return undefined;
      finished.push(counts.completed, counts.failed);
    }
    for (const domain of ['venues', 'experts', 'projects'] as const) {
      const db = t.databases[domain].db as unknown as Kysely<WithOutbox>;
      if (await db.selectFrom('outbox').select('id').where('sent_at', 'is', null).limit(1).executeTakeFirst())
        return undefined;
    }
    return finished.join(',');
  };
  let previous: string | undefined;
  await eventually(
    async () => {
      const current = await look();
      const settled = current !== undefined && current === previous;
      previous = current;
      return settled ? true : undefined;
    },
    timeoutMs,
    'the jobs to settle',
  );
}

/** Common identities of the seeded data. */
export const ZHUMADIAN = '411700';
export const as = {
  admin: { role: 'PROVINCIAL_ADMIN', platform: '410000' } as const,
  operator: (platform = ZHUMADIAN) => ({ role: 'PLATFORM_OPERATOR', platform }) as const,
  partner: (platform: string) => ({ role: 'PARTNER_SYSTEM', platform }) as const,
  supervisor: (department: Identity['department'], platform = ZHUMADIAN) =>
    ({ role: 'SUPERVISOR', platform, department }) as const,
  agency: (org: string, platform = ZHUMADIAN) => ({ role: 'AGENCY', platform, org }) as const,
  expert: (expert: string, platform = ZHUMADIAN) => ({ role: 'EXPERT', platform, expert }) as const,
};
