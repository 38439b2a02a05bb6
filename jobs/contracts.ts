// What the jobs' files share: the services a handler calls, the handler table typed from the catalogue, and repeating
// jobs. It imports none of the handler files nor the runtime, so neither of those imports the other through it.
import type { Job, Queue } from 'bullmq';
import type { HubConfig } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { ExpertsService } from '../subgraphs/experts';
import type { ProjectsService } from '../subgraphs/projects';
import type { VenuesService } from '../subgraphs/venues';
import type { JobData, JobName, QueueName } from './catalogue';

export interface JobServices {
  config: HubConfig;
  logger: Logger;
  venues: VenuesService;
  experts: ExpertsService;
  projects: ProjectsService;
}

/** What a handler may use besides its job: the queues (to add jobs). */
export interface JobTools {
  queues: Record<QueueName, Queue>;
}

/** A handler of any job, as the runtime calls it. */
export type JobHandler = (job: Job, tools: JobTools) => Promise<unknown>;

/** The handler of one catalogued job: its job's data is that job's payload. */
export type CatalogueHandler<Q extends QueueName, N extends JobName<Q>> = (
  job: Job<JobData<Q, N>>,
  tools: JobTools,
) => Promise<unknown>;

/** A handler for every job name of one queue. */
export type QueueHandlers<Q extends QueueName> = { [N in JobName<Q>]: CatalogueHandler<Q, N> };

/** The whole table: every queue of the catalogue, every job name of each. A job without a handler does not compile. */
export type HandlerTable = { [Q in QueueName]: QueueHandlers<Q> };

/** A job that repeats (a BullMQ job scheduler) under its catalogued name; upserted at start, so many workers register it once. */
export type JobSchedule = {
  [Q in QueueName]: {
    [N in JobName<Q>]: {
      queue: Q;
      /** The scheduler id, also the job name its jobs get. */
      id: N;
      /** Every so many milliseconds, or else on a cron pattern in a time zone. */
      everyMs?: number;
      pattern?: string;
      tz?: string;
      data?: JobData<Q, N>;
    };
  }[JobName<Q>];
}[QueueName];
