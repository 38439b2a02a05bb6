// Structured logging for every process (pino: JSON lines, cheap enough for the hot path).
import pino from 'pino';
import { currentRequestId } from './tracing';

export type Logger = pino.Logger;

export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  // Every line written on behalf of a request or job carries its id, so one grep follows it across processes.
  return pino({
    name,
    level,
    base: { service: name },
    mixin() {
      const requestId = currentRequestId();
      return requestId ? { requestId } : {};
    },
  });
}
