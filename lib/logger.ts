// Structured logging for every process (pino: JSON lines, cheap enough for the hot path).
import pino from 'pino';
import { currentRequestId } from './tracing';

export type Logger = pino.Logger;

/** A logger writing JSON lines to stdout, or to `destination` (the seal-leak test captures every line in memory). */
export function createLogger(
  name: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  // Every line written on behalf of a request or job carries its id, so one grep follows it across processes.
  const options: pino.LoggerOptions = {
    name,
    level,
    base: { service: name },
    mixin() {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
