// The jobs process's machinery: queues, the outbox relay, and a worker per queue that has handlers.
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { HubConfig } from '../lib/config';
import type { Logger } from '../lib/logger';
import { relayOutbox, type RelayedMessage, type WithOutbox } from '../lib/outbox';
import { openRedis } from '../lib/redis';
import { DEFAULT_JOB_OPTIONS, isQueueName, QUEUE_NAMES, type QueueName } from './queues';

/** A handler per job name of one queue. */
export type JobHandlers = Partial<Record<QueueName, Record<string, (job: Job) => Promise<unknown>>>>;

export interface OutboxSource {
  schema: string;
  db: Kysely<WithOutbox>;
}

export interface JobsRuntimeOptions {
  config: HubConfig;
  logger: Logger;
  outboxes: OutboxSource[];
  handlers: JobHandlers;
  /** Run the relay loop (true in the jobs process; tests may drive relayOnce themselves). */
  relay?: boolean;
  concurrency?: number;
}

export interface JobsRuntime {
  queues: Record<QueueName, Queue>;
  /** Relays every pending outbox message once; returns how many were published. */
  relayOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startJobs(options: JobsRuntimeOptions): JobsRuntime {
  const { config, logger } = options;
  const connection: Redis = openRedis(config.REDIS_URL);
  const prefix = config.HUB_QUEUE_PREFIX;
  const queues = Object.fromEntries(
    QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS })]),
  ) as Record<QueueName, Queue>;

  const workers: Worker[] = [];
  for (const [queueName, handlers] of Object.entries(options.handlers)) {
    if (!handlers) continue;
    const worker = new Worker(
      queueName,
      async (job) => {
        const handler = handlers[job.name];
        if (!handler) throw new Error(`no handler for job ${job.name} on queue ${queueName}`);
        return handler(job);
      },
      { connection: openRedis(config.REDIS_URL), prefix, concurrency: options.concurrency ?? 8 },
    );
    worker.on('failed', (job, error) => logger.warn({ queue: queueName, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err: error.message }, 'job failed'));
    worker.on('error', (error) => logger.warn({ queue: queueName, err: error.message }, 'worker error'));
    workers.push(worker);
  }

  const publish = async (message: RelayedMessage) => {
    if (!isQueueName(message.queue)) throw new Error(`outbox message for unknown queue ${message.queue}`);
    await queues[message.queue].add(message.name, message.data, { jobId: message.jobId, delay: message.delayMs || undefined });
  };
  const relayOnce = async () => {
    let published = 0;
    for (const source of options.outboxes) published += await relayOutbox(source.db, source.schema, publish);
    return published;
  };

  let stopped = false;
  let relayTimer: NodeJS.Timeout | undefined;
  let relaying: Promise<unknown> = Promise.resolve();
  if (options.relay ?? true) {
    const tick = () => {
      if (stopped) return;
      relaying = relayOnce()
        .catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'outbox relay failed; retrying'))
        .finally(() => {
          if (!stopped) relayTimer = setTimeout(tick, config.OUTBOX_POLL_INTERVAL);
        });
    };
    tick();
  }

  return {
    queues,
    relayOnce,
    async stop() {
      stopped = true;
      if (relayTimer) clearTimeout(relayTimer);
      await relaying;
      // Workers finish their active jobs before closing.
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
      connection.disconnect();
    },
  };
}
