// The change feed: processes that change the hub's data (a mutation through a gateway, a job run) stamp the cache tags
// of what they changed (lib/cache-tags.ts), which every gateway checks before serving a cached answer, and then
// announce it on one Redis channel under the queue prefix, for whoever watches. Correctness rests on the stamps alone.
import type { Redis } from 'ioredis';
import { ALL_TAG, tagVersions, type TagVersions } from './cache-tags';
import type { Logger } from './logger';
import { openRedis } from './redis';

/** The channel of a hub's announcements: one per queue prefix, so hubs sharing a Redis never hear each other. */
export function changesChannel(prefix: string): string {
  return `${prefix}:changes`;
}

/**
 * Announces that data changed: stamps `tags` (everything, when not given) so that no gateway serves an answer computed
 * before, then publishes `source` (a queue, "mutation"), for whoever debugs. Rejects when the stamp fails (Redis away):
 * the caller decides; gateways serve nothing from their caches while Redis does not answer them either.
 *
 * ```ts
 * await announceChange(redis, config.HUB_QUEUE_PREFIX, 'venue-bookings', jobTags('venue-bookings', job.name, job.data));
 * ```
 */
export async function announceChange(
  redis: Redis,
  prefix: string,
  source: string,
  tags: readonly string[] = [ALL_TAG],
): Promise<void> {
  await tagVersions(redis, prefix).stamp(tags);
  await redis.publish(changesChannel(prefix), source).catch(() => undefined);
}

/**
 * Why a feed's listeners are called: an announcement heard, or the subscription (re)started, after which anything
 * announced while it was down, and anything Redis kept (a restarted Redis keeps nothing), is unknown.
 */
export type ChangeReason = 'announced' | 'subscribed';

/** What a gateway's response cache needs of the feed: whether it hears it now, and a call for each change heard. */
export interface ChangeFeed {
  /** True while subscribed: every change announced from now on will be heard. */
  readonly listening: boolean;
  /** Calls `listener` for every announcement, and whenever the subscription (re)starts, since changes may have been missed. */
  onChange(listener: (reason: ChangeReason) => void): void;
  /** Announces a change made by this process: stamps its tags (everything by default), then publishes. */
  announce(source: string, tags?: readonly string[]): Promise<void>;
  /** The tag versions on Redis: what a cached answer is checked against before it is served. */
  readonly versions: TagVersions;
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
  const listeners: ((reason: ChangeReason) => void)[] = [];
  let listening = false;
  let subscribed: () => void = () => undefined;
  const firstSubscription = new Promise<void>((resolve) => (subscribed = resolve));
  const changed = (reason: ChangeReason) => listeners.forEach((listener) => listener(reason));
  const subscribe = () => {
    subscriber.subscribe(channel).then(
      () => {
        listening = true;
        changed('subscribed');
        subscribed();
      },
      (error: unknown) =>
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'could not subscribe to the change feed',
        ),
    );
  };
  subscriber.on('message', (from: string) => {
    if (from === channel) changed('announced');
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
    announce: (source, tags) => announceChange(publisher, prefix, source, tags),
    versions: tagVersions(publisher, prefix),
    async whenListening(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      // The versions' connection fails fast while it connects: ready too, else the first answers could not be cached.
      const publisherReady =
        publisher.status === 'ready'
          ? Promise.resolve()
          : new Promise<void>((resolve) => publisher.once('ready', () => resolve()));
      const heard = await Promise.race([
        Promise.all([firstSubscription, publisherReady]).then(() => true as const),
        timeout,
      ]);
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
