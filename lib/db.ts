// Postgres access: one pool per domain, a Kysely bound to the domain's own schema, and its migrations.
import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';

export interface DomainDatabase<DB> {
  db: Kysely<DB>;
  pool: pg.Pool;
  /** The connection URL, for a connection of its own outside the pool (the outbox relay's LISTEN). */
  url: string;
  close(): Promise<void>;
}

/**
 * Opens a pool and a Kysely whose unqualified tables live in `schema`.
 *
 * ```ts
 * const { db, close } = openDomainDatabase<VenuesDatabase>(url, 'venues');
 * ```
 */
export function openDomainDatabase<DB>(
  url: string,
  schema: string,
  poolSize = 10,
  onQuery?: (sql: string) => void,
): DomainDatabase<DB> {
  // The search path makes raw SQL (migrations, constraints) land in the domain's schema too.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: `hub-${schema}`,
    options: `-c search_path=${schema},public`,
  });
  // An idle client that loses its server (a restart, pg_terminate_backend) must not crash the process.
  pool.on('error', () => undefined);
  // A checked-out client whose connection dies between queries emits 'error' too; its next query fails instead,
  // the pool discards it, and the caller sees a retryable error rather than the process crashing.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<DB>({
    dialect: new PostgresDialect({ pool }),
    log: onQuery
      ? (event) => {
          if (event.level === 'query') onQuery(event.query.sql);
        }
      : undefined,
  }).withSchema(schema);
  return {
    db,
    pool,
    url,
    async close() {
      await db.destroy();
    },
  };
}

class StaticMigrations implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

/** Brings a domain's schema to its latest migration; the schema and the migration table live together. */
export async function migrateDomain<DB>(
  db: Kysely<DB>,
  schema: string,
  migrations: Record<string, Migration>,
): Promise<string[]> {
  await db.schema.createSchema(schema).ifNotExists().execute();
  const migrator = new Migrator({
    db,
    provider: new StaticMigrations(migrations),
    migrationTableSchema: schema,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/** SQLSTATE of a database error, when it is one. */
export function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** The SQLSTATEs the domains turn into friendly errors. */
export const DB_ERRORS = {
  uniqueViolation: '23505',
  exclusionViolation: '23P01',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  lockNotAvailable: '55P03',
} as const;

/**
 * Whether an error (or the error it wraps) says the database could not be reached or dropped the connection:
 * SQLSTATE class 08, an administrator or crash shutdown (57P01-57P03, pg_terminate_backend gives 57P01), too many
 * connections (53300), or pg's own messages for a socket that closed or a pool that timed out.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const state = sqlState(current);
    if (state && (state.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(state))) return true;
    if (state && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(state)) return true;
    const message = current instanceof Error ? current.message : '';
    if (
      /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed/i.test(
        message,
      )
    )
      return true;
    // GraphQL wraps what a resolver threw in originalError; a thrown non-Error (pg's bare socket error) in thrownValue.
    const wrapper =
      typeof current === 'object' && current !== null
        ? (current as { originalError?: unknown; thrownValue?: unknown })
        : {};
    current = wrapper.originalError ?? wrapper.thrownValue;
  }
  return false;
}
