// The gateway's response cache: a query's whole answer kept for as long as the subgraphs' cache hints allow
// (@cacheControl in schema/*.graphql), always under the caller's identity, so no caller is ever answered from another's.
import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { LRUCache } from 'lru-cache';
import { canonicalJson, type Json } from '../lib/canonical-json';
import type { HubConfig } from '../lib/config';
import type { Identity } from '../lib/identity';
import type { ChangeFeed } from '../lib/change-feed';
import type { HubMetrics } from '../lib/metrics';

interface IdentityContext {
  identity: Identity;
}

/** A stored answer: its data (frozen, shared by every request it answers), since when, and its size. */
interface Entry {
  data: Readonly<Record<string, unknown>>;
  storedAt: number;
  /** Its serialized length, which is what the cache's size bound counts. */
  size: number;
}

export type CacheOutcome = 'hit' | 'coalesced' | 'miss' | 'bypass' | 'unavailable';

/**
 * The cache key part that names the caller: a digest of every claim of its verified token (subject, role, platform,
 * department, org, expert). Two tokens share cached answers only if they carry the same claims, that is, the same
 * caller; the claims that authorization reads are all among them.
 *
 * ```ts
 * identityCacheKey({ sub: 'op-1', role: 'PLATFORM_OPERATOR', platform: '411700' }); // 'c0ffee…'
 * ```
 */
export function identityCacheKey(identity: Identity): string {
  return createHash('sha256').update(canonicalJson({ ...identity })).digest('hex');
}

/** `Cache-Control: no-cache` (or `no-store`) on the request: answer afresh, and keep the fresh answer for later reads. */
function wantsFreshAnswer(http: HTTPGraphQLRequest | undefined): boolean {
  const header = http?.headers.get('cache-control') ?? '';
  return /(^|,)\s*no-(cache|store)\s*(,|$)/i.test(header);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The stored data as an answer, with the HTTP `age` of the entry in seconds. */
function answerFrom(entry: Entry, now: number): GraphQLResponse {
  const headers = new HeaderMap([['age', String(Math.floor((now - entry.storedAt) / 1000))]]);
  return { body: { kind: 'single', singleResult: { data: entry.data as Record<string, unknown> } }, http: { status: undefined, headers } };
}

/**
 * Answers queries from memory while the subgraphs' hints say their answer holds and no change was announced since it
 * was computed. Identical queries of one caller that arrive while the first is still being answered wait for that
 * answer instead of asking the subgraphs again, so an expiring entry of a polled schedule costs one execution, not one
 * per poller; should that answer not be cacheable (an error, a sealed field), each waiter executes its own query after
 * all. Mutations pass untouched, and each announces a change once answered.
 *
 * Every change heard on the feed starts a new generation, part of every key: answers computed before it are never
 * served again, and one computed while it happened is stored under the generation it started in, so never served
 * either. While the feed is not heard (Redis away) nothing is served from or kept in the cache.
 */
function responseCachePlugin<C extends IdentityContext>(maxBytes: number, feed: ChangeFeed, metrics: HubMetrics): ApolloServerPlugin<C> {
  const entries = new LRUCache<string, Entry>({ maxSize: maxBytes, sizeCalculation: (entry) => entry.size });
  const inFlight = new Map<string, Promise<Entry | null>>();
  let generation = 0;
  const nextGeneration = () => {
    generation++;
    // Entries of older generations can never be read again; dropping them at once gives their memory back.
    entries.clear();
  };
  feed.onChange(nextGeneration);
  return {
    async requestDidStart() {
      let key: string | null = null;
      let settle: ((entry: Entry | null) => void) | null = null;
      let outcome: CacheOutcome | null = null;
      return {
        async responseForOperation(requestContext) {
          if (requestContext.operation.operation !== 'query') return null;
          if (!feed.listening) {
            outcome = 'unavailable';
            return null;
          }
          const request = requestContext.request;
          key = createHash('sha256')
            .update(canonicalJson([generation, identityCacheKey(requestContext.contextValue.identity), requestContext.source, request.operationName ?? null, (request.variables ?? {}) as Json]))
            .digest('hex');
          if (wantsFreshAnswer(request.http)) {
            outcome = 'bypass';
            return null;
          }
          const stored = entries.get(key);
          if (stored) {
            outcome = 'hit';
            return answerFrom(stored, Date.now());
          }
          const pending = inFlight.get(key);
          if (pending) {
            const answered = await pending;
            if (answered) {
              outcome = 'coalesced';
              return answerFrom(answered, Date.now());
            }
            outcome = 'miss';
            return null;
          }
          outcome = 'miss';
          inFlight.set(key, new Promise<Entry | null>((resolve) => (settle = resolve)));
          return null;
        },
        async willSendResponse(requestContext) {
          if (requestContext.operation?.operation === 'mutation') {
            // Before the answer leaves, so the caller's next query here sees what it changed; other gateways see it once
            // the announcement reaches them.
            nextGeneration();
            void feed.announce('mutation');
            return;
          }
          if (outcome) metrics.responseCache.inc({ outcome });
          if (!key || outcome === 'hit' || outcome === 'coalesced') return;
          const body = requestContext.response.body;
          const policy = requestContext.overallCachePolicy.policyIfCacheable();
          let entry: Entry | null = null;
          if (policy && body.kind === 'single' && !body.singleResult.errors && body.singleResult.data) {
            const data = deepFreeze(body.singleResult.data);
            entry = { data, storedAt: Date.now(), size: JSON.stringify(data).length };
            // An answer larger than the whole cache is simply not kept.
            if (entry.size <= maxBytes) entries.set(key, entry, { ttl: policy.maxAge * 1000 });
          }
          if (settle) {
            inFlight.delete(key);
            settle(entry);
          }
        },
      };
    },
  };
}

/**
 * The gateway's cache plugins: Apollo's cache control (the subgraphs' Cache-Control headers give each answer its
 * policy, the least of them), and with HUB_RESPONSE_CACHE_MB > 0 and a change feed
 * the response cache in this process's memory, keyed by caller, query and variables. Answers with errors, mutations, and
 * anything holding a field without a hint (a sealed field, an audit, a verification) are never stored.
 *
 * ```ts
 * new ApolloServer({ gateway, plugins: [...responseCaching(config, metrics, listenForChanges(config.REDIS_URL, prefix, logger))] });
 * ```
 */
export function responseCaching<C extends IdentityContext>(config: HubConfig, metrics: HubMetrics, feed: ChangeFeed | null): ApolloServerPlugin<C>[] {
  // Apollo would write `Cache-Control: public` on cacheable answers; every answer here depends on the bearer token, so
  // clients keep the gateway's `no-store` (gateway/http-security.ts) and learn an answer's age from the `age` header.
  const plugins: ApolloServerPlugin<C>[] = [ApolloServerPluginCacheControl({ calculateHttpHeaders: false })];
  if (feed && config.HUB_RESPONSE_CACHE_MB > 0) plugins.push(responseCachePlugin<C>(config.HUB_RESPONSE_CACHE_MB * 1024 * 1024, feed, metrics));
  return plugins;
}
