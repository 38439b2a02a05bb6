// Per-identity rate limits at the gateway, counted in Redis so every gateway replica shares one budget per caller.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { GraphQLError } from 'graphql';
import type { HubConfig } from '../lib/config';
import type { Identity } from '../lib/identity';
import { openRedis } from '../lib/redis';

export interface IdentityRateLimiter {
  /**
   * Counts `requests` requests of the caller (a batch of N operations is N; an archive export is one), or throws the
   * 429 refusal with Retry-After when they do not all fit in what is left of its budget.
   */
  consume(identity: Identity, requests?: number): Promise<void>;
  close(): Promise<void>;
}

/** The budget key: one per token subject and role on a platform, so two callers never share a budget. */
export function rateLimitKey(identity: Identity): string {
  return `${identity.platform}:${identity.role}:${identity.sub}`;
}

export function rateLimited(config: HubConfig, retryAfterSeconds: number): GraphQLError {
  const windowSeconds = Math.ceil(config.HUB_RATE_LIMIT_WINDOW / 1000);
  return new GraphQLError(
    `too many requests: at most ${config.HUB_RATE_LIMIT} per ${windowSeconds}s per identity (limit HUB_RATE_LIMIT); retry after ${retryAfterSeconds}s`,
    {
      extensions: {
        code: 'RATE_LIMITED',
        limit: 'HUB_RATE_LIMIT',
        max: config.HUB_RATE_LIMIT,
        retryAfter: retryAfterSeconds,
        http: { status: 429, headers: new Map([['retry-after', String(retryAfterSeconds)]]) },
      },
    },
  );
}

/**
 * A limiter of HUB_RATE_LIMIT requests per HUB_RATE_LIMIT_WINDOW per identity, in Redis under the hub's key prefix.
 * When Redis does not answer, an in-process limiter of the same budget stands in (per replica), so an outage of
 * Redis neither stops the gateway nor lifts the limit. HUB_RATE_LIMIT=0 turns limiting off.
 *
 * ```ts
 * const limiter = createRateLimiter(config);
 * await limiter.consume(identity);
 * ```
 */
export function createRateLimiter(config: HubConfig): IdentityRateLimiter {
  if (config.HUB_RATE_LIMIT === 0) return { consume: async () => undefined, close: async () => undefined };
  // Fail fast instead of queueing while Redis is away: the insurance limiter answers then.
  const redis: Redis = openRedis(config.REDIS_URL, { failFast: true });
  const budget = { points: config.HUB_RATE_LIMIT, duration: Math.ceil(config.HUB_RATE_LIMIT_WINDOW / 1000) };
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${config.HUB_QUEUE_PREFIX}:rate`,
    ...budget,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: 'rate-insurance', ...budget }),
  });
  return {
    async consume(identity, requests = 1) {
      try {
        await limiter.consume(rateLimitKey(identity), requests);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes)
          throw rateLimited(config, Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
        throw rejection;
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
