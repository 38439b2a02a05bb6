// A jobs process for the fault tests: the real runtime (jobs/runtime.ts startJobs: relay, workers, shutdown) with one
// probe handler whose runs and effects are counted in Postgres. Started with `node -r ts-node/register/transpile-only`.
//   FAULT_WORKERS=1                  run a worker for notifications/fault-probe (else relay only)
//   FAULT_KILL_AFTER_PUBLISHES=N     SIGKILL itself after the Nth message is on its queue, before the relay marks it sent
import type { Job } from 'bullmq';
import { startJobs } from '../../../jobs/runtime';
import { loadConfig } from '../../../lib/config';
import { openHubDatabases } from '../../../lib/hub-databases';
import type { WithOutbox } from '../../../lib/outbox';
import type { Kysely } from 'kysely';
import { createLogger } from '../../../lib/logger';
import { onShutdown } from '../../../lib/process';

const config = loadConfig();
const logger = createLogger('fault-jobs', config.LOG_LEVEL);
const databases = openHubDatabases(config);
const pool = databases.projects.pool;
const killAfter = Number(process.env.FAULT_KILL_AFTER_PUBLISHES ?? 0);
let published = 0;

async function probe(job: Job): Promise<void> {
  const data = job.data as { key: string; sleepMs?: number };
  await pool.query('insert into public.fault_runs (key, job_id) values ($1, $2)', [data.key, job.id]);
  if (data.sleepMs) await new Promise((resolve) => setTimeout(resolve, data.sleepMs));
  // The effect, idempotent as every real handler is: a second run of the same job changes nothing.
  await pool.query('insert into public.fault_effects (key) values ($1) on conflict (key) do nothing', [data.key]);
}

const jobs = startJobs({
  config,
  logger,
  // As lib/hub.ts outboxSources, without loading the servers.
  outboxes: (['venues', 'experts', 'projects'] as const).map((schema) => ({ schema, db: databases[schema].db as unknown as Kysely<WithOutbox>, url: databases[schema].url })),
  handlers: process.env.FAULT_WORKERS === '1' ? { notifications: { 'fault-probe': probe } } : {},
  onPublished: () => {
    published += 1;
    if (killAfter > 0 && published >= killAfter) process.kill(process.pid, 'SIGKILL');
  },
});
onShutdown(logger, async () => {
  await jobs.stop();
  await databases.close();
});
process.stdout.write('fault-jobs ready\n');
