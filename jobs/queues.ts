// Queue names and the options every job is added with.
import type { JobsOptions } from 'bullmq';

export { QUEUE_NAMES, isQueueName, type QueueName } from '../lib/queue-names';

/**
 * Completed jobs are kept a week so that a job id relayed twice from the outbox is recognised and ignored;
 * failed ones a month, for operators to inspect and retry.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 30 * 24 * 3600 },
};
