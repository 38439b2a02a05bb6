// The change feed: processes that change the hub's data (a mutation through a gateway, a job run) announce it on one
// Redis channel under the queue prefix; gateways listen and drop the answers they cached before it.
import type { Redis } from 'ioredis';
import type { Logger } from './logger';
import { openRedis } from './redis';

/** The channel of a hub's announcements: one per queue prefix, so hubs sharing a Redis never hear each other. */
export function changesChannel(prefix: string): string {
  return `${prefix}:changes`;
}

/**
 * Announces that data may have changed; `source` says what changed it (a queue, "mutation"), for whoever debugs. Never
 * throws: a lost announcement leaves cached answers to their max-age, which is the bound a client was promised anyway.
 *
 * ```ts
 * await announceChange(redis, config.HUB_QUEUE_PREFIX, 'venue-bookings');
 * ```
 */
export async function announceChange(redis: Redis, prefix: string, source: string): Promise<void> {
  await redis.publish(changesChannel(prefix), source).catch(() => undefined);
}

/** What a gateway's response cache needs of the feed: whether it hears it now, and a call for each change heard. */
export interface ChangeFeed {
  /** True while subscribed: every change announced from now on will be heard. */
  readonly listening: boolean;
  /** Calls `listener` for every announcement, and whenever the subscription (re)starts, since changes may have been missed. */
  onChange(listener: () => void): void;
  /** Announces a change made by this process. */
  announce(source: string): Promise<void>;
  /** Resolves true once subscribed, or false if that takes longer than `timeoutMs` (Redis away: it goes on trying). */
  whenListening(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Subscribes to the hub's change feed on its own Redis connections (a subscribed connection can do nothing else).
 *
 * ```ts
 * const feed = listenForChanges(config.REDIS_URL, config.HUB_QUEUE_PREFIX, logger);
 * feed.onChange(() => cache.invalidate());
 * ```
 */
export function listenForChanges(redisUrl: string, prefix: string, logger: Logger): ChangeFeed {
  const channel = changesChannel(prefix);
  const subscriber = openRedis(redisUrl);
  const publisher = openRedis(redisUrl, { failFast: true });
  const listeners: (() => void)[] = [];
  let listening = false;
  let subscribed: () => void = () => undefined;
  const firstSubscription = new Promise<void>((resolve) => (subscribed = resolve));
  const changed = () => listeners.forEach((listener) => listener());
  const subscribe = () => {
    subscriber.subscribe(channel).then(
      () => {
        listening = true;
        changed();
        subscribed();
      },
      (error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not subscribe to the change feed'),
    );
  };
  subscriber.on('message', (from: string) => {
    if (from === channel) changed();
  });
  // Whatever was announced while the connection was down is lost: not listening until subscribed again.
  subscriber.on('close', () => {
    listening = false;
  });
  // ioredis resubscribes by itself after a reconnect; 'ready' comes before that, so subscribe explicitly and count
  // from the confirmation.
  subscriber.on('ready', subscribe);
  return {
    get listening() {
      return listening;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    announce: (source) => announceChange(publisher, prefix, source),
    async whenListening(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const heard = await Promise.race([firstSubscription.then(() => true as const), timeout]);
      clearTimeout(timer);
      return heard;
    },
    async close() {
      listening = false;
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}
