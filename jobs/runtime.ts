// The jobs process's machinery: queues, the outbox relay, and a worker per queue that has handlers.
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { HubConfig } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { HubMetrics } from '../lib/metrics';
import {
  listenForOutboxWrites,
  outboxLag,
  relayOutbox,
  type OutboxListener,
  type RelayedMessage,
  type WithOutbox,
} from '../lib/outbox';
import { openRedis } from '../lib/redis';
import { announceChange } from '../lib/change-feed';
import { jobTags } from '../lib/cache-tags';
import { collectingChanges } from '../lib/change-notes';
import { withJobRequestIds } from '../lib/tracing';
import { isQueueName, QUEUE_NAMES, type QueueName } from './catalogue';
import type { JobHandler, JobSchedule, JobTools } from './contracts';
import { jobSchedules } from './handlers';
import { DEFAULT_JOB_OPTIONS } from './queues';

export type { JobHandler, JobSchedule, JobTools } from './contracts';

/** A handler per job name of one queue (the catalogue's table, jobs/handlers.ts, is one; tests may pass a part). */
export type JobHandlers = Partial<Record<QueueName, Record<string, JobHandler>>>;

export interface OutboxSource {
  schema: string;
  db: Kysely<WithOutbox>;
  /** The outbox's database: with it the relay also listens for commits instead of only polling. */
  url?: string;
}

export interface JobsRuntimeOptions {
  config: HubConfig;
  logger: Logger;
  outboxes: OutboxSource[];
  handlers: JobHandlers;
  /** Repeating jobs to register; default: those handlers.ts lists. */
  schedules?: JobSchedule[];
  /** Run the relay loop (true in the jobs process; tests may drive relayOnce themselves). */
  relay?: boolean;
  concurrency?: number;
  /** Where to count job durations and report queue sizes and outbox lag. */
  metrics?: HubMetrics;
  /** Called for each message once its pass is on the queues, before the relay marks it sent (the fault tests crash here). */
  onPublished?: (message: RelayedMessage) => void;
}

export interface JobsRuntime {
  queues: Record<QueueName, Queue>;
  /** Relays every pending outbox message once; returns how many were published. */
  relayOnce(): Promise<number>;
  /** Redis answers and every outbox database answers. */
  ready(): Promise<boolean>;
  /** Settles once this process's job schedulers are upserted (or registering them failed and was logged). */
  schedulesRegistered(): Promise<void>;
  stop(): Promise<void>;
}

export function startJobs(options: JobsRuntimeOptions): JobsRuntime {
  const { config, logger } = options;
  const connection: Redis = openRedis(config.REDIS_URL);
  const prefix = config.HUB_QUEUE_PREFIX;
  const queues = Object.fromEntries(
    QUEUE_NAMES.map((name) => [name, new Queue(name, { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS })]),
  ) as Record<QueueName, Queue>;
  const tools: JobTools = { queues };
  const scheduling = Promise.all(
    (options.schedules ?? jobSchedules(config)).map((schedule) =>
      queues[schedule.queue].upsertJobScheduler(
        schedule.id,
        schedule.pattern ? { pattern: schedule.pattern, tz: schedule.tz } : { every: schedule.everyMs },
        { name: schedule.id, data: schedule.data ?? {}, opts: DEFAULT_JOB_OPTIONS },
      ),
    ),
  ).catch((error: unknown) =>
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'registering job schedulers failed'),
  );

  const workers: Worker[] = [];
  // BullMQ leaves a connection it was handed open on close; these are the workers' own, closed after them.
  const workerConnections: Redis[] = [];
  for (const [queueName, handlers] of Object.entries(withJobRequestIds<Job, JobHandlers>(options.handlers))) {
    if (!handlers) continue;
    const worker = new Worker(
      queueName,
      async (job) => {
        const handler = handlers[job.name];
        if (!handler) throw new Error(`no handler for job ${job.name} on queue ${queueName}`);
        const changed = new Set<string>();
        try {
          return await collectingChanges(() => handler(job, tools), changed);
        } finally {
          // Whatever the job changed (it may have committed part of its work before failing), gateways must not keep
          // answering from before it: stamped before the job counts as done, with what its writes noted.
          const tags = [...jobTags(queueName, job.name, job.data), ...changed];
          await announceChange(connection, prefix, queueName, tags).catch((error: unknown) =>
            logger.warn(
              { queue: queueName, err: error instanceof Error ? error.message : String(error) },
              'could not stamp what the job changed',
            ),
          );
        }
      },
      // A crashed worker's active jobs are taken over once their lock lapses, checked as often as it lasts. BullMQ fails
      // a job for good (no retry) once it has stalled more than maxStalledCount times, 1 by default: a draw cut short by
      // two worker deaths in a row stayed PENDING with its seats live. Handlers are idempotent, so a job cut short is
      // run again as often as a job that threw.
      {
        connection: workerConnections[workerConnections.push(openRedis(config.REDIS_URL)) - 1],
        prefix,
        concurrency: options.concurrency ?? 8,
        lockDuration: config.JOB_LOCK_DURATION,
        stalledInterval: config.JOB_LOCK_DURATION,
        maxStalledCount: DEFAULT_JOB_OPTIONS.attempts ?? 1,
      },
    );
    worker.on('failed', (job, error) =>
      logger.warn(
        { queue: queueName, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, err: error.message },
        'job failed',
      ),
    );
    worker.on('error', (error) => logger.warn({ queue: queueName, err: error.message }, 'worker error'));
    if (options.metrics) observeJobDurations(worker, queueName, options.metrics);
    workers.push(worker);
  }

  // One Redis round trip per queue for a whole pass (addBulk); each message is still one job under its outbox id.
  const publish = async (messages: RelayedMessage[]) => {
    const byQueue = new Map<QueueName, RelayedMessage[]>();
    for (const message of messages) {
      if (!isQueueName(message.queue)) throw new Error(`outbox message for unknown queue ${message.queue}`);
      const batch = byQueue.get(message.queue);
      if (batch) batch.push(message);
      else byQueue.set(message.queue, [message]);
    }
    for (const [queue, batch] of byQueue) {
      await queues[queue].addBulk(
        batch.map((message) => ({
          name: message.name,
          data: message.data,
          opts: { jobId: message.jobId, delay: message.delayMs || undefined },
        })),
      );
    }
    for (const message of messages) options.onPublished?.(message);
  };
  const relayOnce = async () => {
    let published = 0;
    for (const source of options.outboxes)
      published += await relayOutbox(source.db, source.schema, publish, RELAY_BATCH);
    return published;
  };

  if (options.metrics) observeQueuesAndOutboxes(options.metrics, queues, options.outboxes);

  let stopped = false;
  const relayFailed = (error: unknown) =>
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'outbox relay failed; retrying');
  const relays = options.outboxes.map((source) => serialRelay(source, publish, () => stopped, relayFailed));
  let pollTimer: NodeJS.Timeout | undefined;
  const listeners: OutboxListener[] = [];
  if (options.relay ?? true) {
    // The poll is the backstop: a notification can be missed (a listener reconnecting) and is never needed for correctness.
    const poll = () => {
      for (const relay of relays) relay.wake();
    };
    poll();
    pollTimer = setInterval(poll, config.OUTBOX_POLL_INTERVAL);
    for (const [index, source] of options.outboxes.entries()) {
      if (!source.url) continue;
      const onError = (error: Error) =>
        logger.warn(
          { outbox: source.schema, err: error.message },
          'outbox listener lost its connection; polling meanwhile',
        );
      listeners.push(
        listenForOutboxWrites({
          url: source.url,
          schema: source.schema,
          onWritten: () => relays[index].wake(),
          onError,
        }),
      );
    }
  }

  return {
    queues,
    relayOnce,
    async schedulesRegistered() {
      await scheduling;
    },
    async ready() {
      try {
        if ((await connection.ping()) !== 'PONG') return false;
        await Promise.all(options.outboxes.map((source) => outboxLag(source.db)));
        return true;
      } catch {
        return false;
      }
    },
    async stop() {
      stopped = true;
      clearInterval(pollTimer);
      await Promise.all(listeners.map((listener) => listener.close()));
      await Promise.all(relays.map((relay) => relay.idle()));
      await scheduling;
      // Workers finish their active jobs before closing.
      await Promise.all(workers.map((worker) => worker.close()));
      for (const workerConnection of workerConnections) workerConnection.disconnect();
      await Promise.all(Object.values(queues).map((queue) => queue.close()));
      connection.disconnect();
    },
  };
}

/** Messages relayed per pass; a full pass means more may be waiting, so another follows. */
const RELAY_BATCH = 100;
/**
 * The least time between the starts of two passes over one outbox. A commit alone is relayed at once, but commits in a
 * burst are gathered into passes of many (one pass costs four statements and a Redis call, however many it carries).
 */
const RELAY_SPACING_MS = 50;

/**
 * Relays one outbox a pass at a time and at most one pass per RELAY_SPACING_MS: woken during a pass (a notification,
 * the poll) it runs one more after it. A failed pass waits for the next poll, so an unreachable Redis is not retried in
 * a loop while commits keep notifying.
 */
function serialRelay(
  source: OutboxSource,
  publish: (messages: RelayedMessage[]) => Promise<void>,
  stopped: () => boolean,
  failed: (error: unknown) => void,
) {
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let again = false;
  let lastStarted = Number.NEGATIVE_INFINITY;
  const run = () => {
    timer = undefined;
    lastStarted = Date.now();
    running = relayOutbox(source.db, source.schema, publish, RELAY_BATCH)
      .then(
        (published) => {
          if (published === RELAY_BATCH) again = true;
        },
        (error: unknown) => {
          again = false;
          failed(error);
        },
      )
      .finally(() => {
        running = undefined;
        if (again) wake();
      });
  };
  const wake = () => {
    again = false;
    if (stopped() || timer) return;
    if (running) {
      again = true;
      return;
    }
    const wait = lastStarted + RELAY_SPACING_MS - Date.now();
    if (wait > 0) timer = setTimeout(run, wait);
    else run();
  };
  return {
    wake,
    async idle() {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

function observeJobDurations(worker: Worker, queue: string, metrics: HubMetrics): void {
  const seconds = (job: Job) => (job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0);
  worker.on('completed', (job) =>
    metrics.jobDuration.observe({ queue, name: job.name, outcome: 'completed' }, seconds(job)),
  );
  worker.on('failed', (job) => {
    if (job) metrics.jobDuration.observe({ queue, name: job.name, outcome: 'failed' }, seconds(job));
  });
}

const COUNTED_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'prioritized',
  'waiting-children',
] as const;

function observeQueuesAndOutboxes(
  metrics: HubMetrics,
  queues: Record<QueueName, Queue>,
  outboxes: OutboxSource[],
): void {
  metrics.observe(
    'hub_queue_jobs',
    'Jobs in each queue by state, read from Redis at scrape time',
    ['queue', 'state'],
    async () => {
      const samples: { labels: Record<string, string>; value: number }[] = [];
      for (const [queue, handle] of Object.entries(queues)) {
        const counts = await handle.getJobCounts(...COUNTED_STATES);
        for (const state of COUNTED_STATES) samples.push({ labels: { queue, state }, value: counts[state] ?? 0 });
      }
      return samples;
    },
  );
  metrics.observe(
    'hub_outbox_lag_seconds',
    'Age of the oldest outbox message not yet relayed to its queue, 0 when none waits',
    ['outbox'],
    async () =>
      Promise.all(
        outboxes.map(async (source) => ({
          labels: { outbox: source.schema },
          value: (await outboxLag(source.db)) / 1000,
        })),
      ),
  );
}
