// Redis connections for BullMQ (workers need maxRetriesPerRequest: null to wait out a Redis restart).
import IORedis, { type Redis } from 'ioredis';

/**
 * A connection that waits out a Redis restart (what BullMQ needs), or with `failFast` one whose commands fail at once
 * while Redis is away, for callers that have a fallback (the rate limiter's insurance, a best-effort announcement).
 */
export function openRedis(url: string, options: { failFast?: boolean } = {}): Redis {
  const redis = options.failFast
    ? new IORedis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    : new IORedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
  // Reconnection is automatic; an error event without a listener would crash the process.
  redis.on('error', () => undefined);
  return redis;
}

/** Answers whether a Redis answers PING at the URL within the timeout. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const redis = new IORedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
