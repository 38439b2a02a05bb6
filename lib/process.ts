// Process lifecycle: graceful shutdown on SIGTERM/SIGINT with a bound, and a fatal-start message instead of a stack.
import type { Logger } from './logger';
import { ConfigError } from './config';

const SHUTDOWN_BOUND_MS = 15_000;

/** Runs `stop` once on SIGTERM or SIGINT, then exits; a stop that hangs is cut off after 15 s. */
export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_BOUND_MS);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** Runs a process's main function; a configuration error prints its message alone. */
export function runMain(logger: Logger, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else logger.fatal({ err: error }, 'failed to start');
    process.exit(1);
  });
}
