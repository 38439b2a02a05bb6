// The gateway on every core: with GATEWAY_WORKERS > 1 the primary forks that many workers sharing the port
// (node:cluster hands connections round-robin), restarts a worker that dies, and stops them all on SIGTERM.
import cluster from 'node:cluster';
import type { Logger } from '../lib/logger';
import { onShutdown } from '../lib/process';

/** True in the primary of a clustered gateway, which forks the workers and serves nothing itself. */
export function isClusterPrimary(workers: number): boolean {
  return workers > 1 && cluster.isPrimary;
}

/** Forks `workers` gateway processes and keeps that many alive until shutdown. */
export function superviseWorkers(workers: number, logger: Logger): void {
  let stopping = false;
  const fork = () => cluster.fork();
  for (let index = 0; index < workers; index++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker died; starting another');
    // A worker that cannot start at all would otherwise be forked in a tight loop.
    setTimeout(fork, 1000).unref();
  });
  logger.info({ workers }, 'gateway primary supervising workers');
  onShutdown(logger, async () => {
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);
    await Promise.all(
      alive.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  });
}
