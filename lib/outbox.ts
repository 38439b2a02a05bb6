// The transactional outbox: work that must follow a state change is written in the same transaction, then relayed to BullMQ.
import { sql, type Kysely, type Generated } from 'kysely';
import pg from 'pg';
import { jobTraceFields } from './tracing';

const CHANNEL_PREFIX = 'hub_outbox_';

/**
 * The channel a committed write to the outbox of `schema` notifies, so a listening relay need not wait for its next
 * poll. Postgres delivers it at commit, once per transaction, and not at all on rollback; a channel per outbox wakes
 * only that outbox's listener.
 */
export function outboxChannel(schema: string): string {
  return `${CHANNEL_PREFIX}${schema}`;
}

export interface OutboxTable {
  id: Generated<string>;
  queue: string;
  name: string;
  payload: unknown;
  delay_ms: Generated<number>;
  created_at: Generated<Date>;
  sent_at: Date | null;
}
export interface WithOutbox {
  outbox: OutboxTable;
}

/**
 * A catalogue of jobs: for each queue, each job name it runs and that job's payload. jobs/catalogue.ts holds the hub's;
 * lib knows only the shape, so an outbox message is typed by whoever names the catalogue.
 */
export type JobCatalogueShape = { [queue: string]: { [name: string]: object } };

/**
 * A job to start once a transaction commits. Typed by a catalogue, only a queue it lists, a job name of that queue and
 * that job's payload compile; without one (the default), any queue, name and object payload.
 */
export type OutboxMessage<C extends JobCatalogueShape = JobCatalogueShape> = {
  [Q in keyof C & string]: {
    [N in keyof C[Q] & string]: {
      queue: Q;
      name: N;
      data: C[Q][N];
      /** Run the job no earlier than this many milliseconds after it is relayed. */
      delayMs?: number;
    };
  }[keyof C[Q] & string];
}[keyof C & string];

export async function createOutboxTable(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table outbox (
      id bigserial primary key,
      queue text not null,
      name text not null,
      payload jsonb not null,
      delay_ms integer not null default 0,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    )`.execute(db);
  await sql`create index outbox_unsent_idx on outbox (id) where sent_at is null`.execute(db);
}

/**
 * Records jobs to start once the surrounding transaction commits, all in one insert, and notifies the outbox's
 * channel at that commit. A message written alone or among others becomes the same job.
 *
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('project').set({ status: 'VENUES_ARRANGING' }).where('id', '=', id).execute();
 *   await writeOutbox(trx, { queue: 'venue-bookings', name: 'arrange', data: { projectId: id } });
 * });
 * ```
 */
export async function writeOutbox<DB extends WithOutbox, C extends JobCatalogueShape = JobCatalogueShape>(
  db: Kysely<DB>,
  messages: OutboxMessage<C> | readonly OutboxMessage<C>[],
): Promise<void> {
  const list: readonly OutboxMessage<C>[] = Array.isArray(messages) ? messages : [messages as OutboxMessage<C>];
  if (list.length === 0) return;
  const outboxDb = db as unknown as Kysely<WithOutbox>;
  // The job's log lines then carry the id of the request that caused it, and its span joins that request's trace
  // (the worker takes these keys off again).
  const rows = list.map((message) => ({
    queue: message.queue,
    name: message.name,
    payload: JSON.stringify({ ...message.data, ...jobTraceFields(message.queue, message.name) }),
    delay_ms: message.delayMs ?? 0,
    sent_at: null,
  }));
  // The notification rides on the insert, so waking the relay costs no round trip. The domain pools put their schema
  // first on the search path (lib/db.ts), so current_schema() names this outbox (as outboxChannel does).
  await outboxDb
    .insertInto('outbox')
    .values(rows)
    .returning(sql<string>`pg_notify(${CHANNEL_PREFIX} || current_schema(), '')`.as('notified'))
    .execute();
}

export interface RelayedMessage {
  queue: string;
  name: string;
  data: Record<string, unknown>;
  delayMs?: number;
  /** Stable across retries of the relay, so the queue deduplicates a message published twice. */
  jobId: string;
}

/**
 * Publishes up to `limit` unsent messages in one call and marks them sent. Rows are locked with SKIP LOCKED, so relays
 * can run side by side; a crash between publishing and marking re-publishes with the same job ids, which the queue
 * ignores.
 */
export async function relayOutbox<DB extends WithOutbox>(
  db: Kysely<DB>,
  schema: string,
  publish: (messages: RelayedMessage[]) => Promise<void>,
  limit = 100,
): Promise<number> {
  const outboxDb = db as unknown as Kysely<WithOutbox>;
  return outboxDb.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('outbox')
      .select(['id', 'queue', 'name', 'payload', 'delay_ms'])
      .where('sent_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length === 0) return 0;
    await publish(
      rows.map((row) => ({
        queue: row.queue,
        name: row.name,
        data: row.payload as Record<string, unknown>,
        delayMs: row.delay_ms,
        jobId: `${schema}-outbox-${row.id}`,
      })),
    );
    await trx
      .updateTable('outbox')
      .set({ sent_at: new Date() })
      .where(
        'id',
        'in',
        rows.map((row) => row.id),
      )
      .execute();
    return rows.length;
  });
}

/** Age in milliseconds of the oldest unsent message, 0 when none waits. */
export async function outboxLag<DB extends WithOutbox>(db: Kysely<DB>): Promise<number> {
  const outboxDb = db as unknown as Kysely<WithOutbox>;
  const row = await outboxDb
    .selectFrom('outbox')
    .select((eb) => eb.fn.min('created_at').as('oldest'))
    .where('sent_at', 'is', null)
    .executeTakeFirst();
  const oldest = row?.oldest as Date | null | undefined;
  return oldest ? Math.max(0, Date.now() - new Date(oldest).getTime()) : 0;
}

export interface OutboxListener {
  close(): Promise<void>;
}

export interface OutboxListenerOptions {
  /** The database the outbox lives in. */
  url: string;
  schema: string;
  /** Called when a transaction that wrote to this outbox commits, and after every (re)connection. */
  onWritten(): void;
  onError(error: Error): void;
  /** How long to wait before connecting again after the connection is lost. */
  retryMs?: number;
}

/**
 * Listens on a connection of its own for commits that wrote to one outbox. A lost connection is opened again after
 * `retryMs`, and `onWritten` is called once it is back, since writes in between sent nothing to hear.
 *
 * ```ts
 * const listener = listenForOutboxWrites({ url, schema: 'projects', onWritten: () => relay.wake(), onError: log });
 * ```
 */
export function listenForOutboxWrites(options: OutboxListenerOptions): OutboxListener {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const reconnect = (current: pg.Client) => {
    if (closed || client !== current) return;
    client = undefined;
    current.end().catch(() => undefined);
    retry = setTimeout(connect, options.retryMs ?? 1000);
  };
  const connect = () => {
    if (closed) return;
    const current = new pg.Client({
      connectionString: options.url,
      application_name: `hub-${options.schema}-outbox-listener`,
    });
    client = current;
    current.on('notification', () => options.onWritten());
    // Once closed, an error is the close itself (a connect or LISTEN still in flight when the process stops): not a loss.
    current.on('error', (error) => {
      if (closed) return;
      options.onError(error);
      reconnect(current);
    });
    current.on('end', () => reconnect(current));
    current
      .connect()
      .then(() => current.query(`listen ${current.escapeIdentifier(outboxChannel(options.schema))}`))
      .then(() => options.onWritten())
      .catch((error: unknown) => {
        if (closed) return;
        options.onError(error instanceof Error ? error : new Error(String(error)));
        reconnect(current);
      });
  };
  connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
