// The transactional outbox: work that must follow a state change is written in the same transaction, then relayed to BullMQ.
import { sql, type Kysely, type Generated } from 'kysely';
import { jobTraceFields } from './tracing';

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

export interface OutboxMessage {
  queue: string;
  name: string;
  data: Record<string, unknown>;
  /** Run the job no earlier than this many milliseconds after it is relayed. */
  delayMs?: number;
}

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
 * Records a job to start once the surrounding transaction commits.
 *
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('project').set({ status: 'VENUES_ARRANGING' }).where('id', '=', id).execute();
 *   await writeOutbox(trx, { queue: 'venue-bookings', name: 'arrange', data: { projectId: id } });
 * });
 * ```
 */
export async function writeOutbox<DB extends WithOutbox>(db: Kysely<DB>, message: OutboxMessage): Promise<void> {
  const outboxDb = db as unknown as Kysely<WithOutbox>;
  // The job's log lines then carry the id of the request that caused it, and its span joins that request's trace
  // (the worker takes these keys off again).
  const data = { ...message.data, ...jobTraceFields(message.queue, message.name) };
  await outboxDb
    .insertInto('outbox')
    .values({ queue: message.queue, name: message.name, payload: JSON.stringify(data), delay_ms: message.delayMs ?? 0, sent_at: null })
    .execute();
}

export interface RelayedMessage extends OutboxMessage {
  /** Stable across retries of the relay, so the queue deduplicates a message published twice. */
  jobId: string;
}

/**
 * Publishes up to `limit` unsent messages and marks them sent. Rows are locked with SKIP LOCKED, so relays can run
 * side by side; a crash between publishing and marking re-publishes with the same job id, which the queue ignores.
 */
export async function relayOutbox<DB extends WithOutbox>(
  db: Kysely<DB>,
  schema: string,
  publish: (message: RelayedMessage) => Promise<void>,
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
    for (const row of rows) {
      await publish({
        queue: row.queue,
        name: row.name,
        data: row.payload as Record<string, unknown>,
        delayMs: row.delay_ms,
        jobId: `${schema}-outbox-${row.id}`,
      });
    }
    if (rows.length > 0) {
      await trx
        .updateTable('outbox')
        .set({ sent_at: new Date() })
        .where('id', 'in', rows.map((row) => row.id))
        .execute();
    }
    return rows.length;
  });
}

/** Age in milliseconds of the oldest unsent message, 0 when none waits. */
export async function outboxLag<DB extends WithOutbox>(db: Kysely<DB>): Promise<number> {
  const outboxDb = db as unknown as Kysely<WithOutbox>;
  const row = await outboxDb.selectFrom('outbox').select((eb) => eb.fn.min('created_at').as('oldest')).where('sent_at', 'is', null).executeTakeFirst();
  const oldest = row?.oldest as Date | null | undefined;
  return oldest ? Math.max(0, Date.now() - new Date(oldest).getTime()) : 0;
}
