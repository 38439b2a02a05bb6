// Test harness: a database of the test file's own (a copy of the seeded template), a queue prefix of its own,
// the whole hub on free ports, tokens for any role, and a GraphQL client that talks to the gateway.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { issueToken } from '../../gateway/tokens';
import { loadConfig, type HubConfig } from '../../lib/config';
import { startHub, type RunningHub } from '../../lib/hub';
import { openHubDatabases, type HubDatabases } from '../../lib/hub-databases';
import { createLogger } from '../../lib/logger';
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
  return loadConfig({ ...process.env, DATABASE_URL: database.url, HUB_QUEUE_PREFIX: `{${database.name}}`, OUTBOX_POLL_INTERVAL: '50ms', ...overrides });
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
  graphql<T = Record<string, unknown>>(identity: (Omit<Identity, 'sub'> & { sub?: string }) | null, query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** POSTs any request body to the gateway with the identity's token (a persisted query's hash without its text, say). */
  post<T = Record<string, unknown>>(identity: (Omit<Identity, 'sub'> & { sub?: string }) | null, body: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

export async function startTestHub(options: { overrides?: Record<string, string>; jobs?: boolean; logDestination?: { write(line: string): void } } = {}): Promise<TestHub> {
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
  });
  const token = (identity: Omit<Identity, 'sub'> & { sub?: string }) => issueToken(config, { sub: `test-${identity.role.toLowerCase()}`, ...identity });
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

/** Waits until `check` returns a value other than undefined, or fails after the timeout. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Common identities of the seeded data. */
export const ZHUMADIAN = '411700';
export const as = {
  admin: { role: 'PROVINCIAL_ADMIN', platform: '410000' } as const,
  operator: (platform = ZHUMADIAN) => ({ role: 'PLATFORM_OPERATOR', platform }) as const,
  partner: (platform: string) => ({ role: 'PARTNER_SYSTEM', platform }) as const,
  supervisor: (department: Identity['department'], platform = ZHUMADIAN) => ({ role: 'SUPERVISOR', platform, department }) as const,
  agency: (org: string, platform = ZHUMADIAN) => ({ role: 'AGENCY', platform, org }) as const,
  expert: (expert: string, platform = ZHUMADIAN) => ({ role: 'EXPERT', platform, expert }) as const,
};
