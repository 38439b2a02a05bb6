// The gateway's response cache: a query's whole answer kept for as long as the subgraphs' cache hints allow
// (@cacheControl in schema/*.graphql), always under the caller's identity, so no caller is ever answered from another's.
import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type GraphQLResponse, type HTTPGraphQLRequest } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { isCacheKeyError, withCacheKeys, withoutCacheKeys, type KeyedOperation } from './cache-keys';
import { LRUCache } from 'lru-cache';
import { answerTags, mutationTags } from './cache-tags';
import { canonicalJson, type Json } from '../lib/canonical-json';
import type { HubConfig } from '../lib/config';
import type { Identity } from '../lib/identity';
import type { ChangeFeed } from '../lib/change-feed';
import type { HubMetrics } from '../lib/metrics';

interface IdentityContext {
  identity: Identity;
  /** What the subgraphs' writes noted they changed (gateway/server.ts): stamped with the mutation's own tags. */
  changed?: ReadonlySet<string>;
}

/** A stored answer: its data (frozen, shared by every request it answers), since when, and what it costs in memory. */
interface Entry {
  data: Readonly<Record<string, unknown>>;
  /** What the answer contains (gateway/cache-tags.ts): it holds while none of them is stamped after `since`. */
  tags: readonly string[];
  /** The hub's clock read before the answer was computed. */
  since: number;
  storedAt: number;
  /** Its estimated cost in bytes of heap (its data's freezeAndWeigh plus ENTRY_OVERHEAD_BYTES): what the size bound counts. */
  size: number;
}

/**
 * What a stored answer costs in heap, estimated from its object graph as graphql-js builds it (result objects made with
 * `Object.create(null)`, so V8 keeps them as hash tables) and then frozen. Upper bounds of what bench/response-cache-memory.ts
 * and a micro-measure on Node 20 (x64, live heap after a full GC) found: a frozen result object 257 B with one field,
 * 349 B with 4, 545 B with 8; a frozen array 29 B + 8.4 B an element; a string 25 B + 1 B a character (2 B for Chinese
 * text); a number in a heap box 16 B. The serialized length undercounts this four to fourteen times.
 */
export const HEAP_COST = {
  object: 256,
  field: 48,
  array: 64,
  element: 10,
  string: 32,
  stringChar: 2,
  number: 16,
} as const;
/**
 * What an entry costs besides its data: its 64-character key, the entry object, the LRU's map slot and its per-index
 * arrays (value, key, TTL, start, size, links): about 280 B measured; rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 512;
/** What one tag of an entry costs in heap: an array slot and a string of some 20 to 40 characters. */
export const TAG_COST = 96;
/** Queries being answered that others of the same caller may wait for; beyond that, a query runs uncoalesced. */
export const MAX_IN_FLIGHT = 10_000;

/** Freezes an answer's data in place (it is shared by every request it answers) and returns its estimated heap cost. */
export function freezeAndWeigh(value: unknown): number {
  if (typeof value === 'string') return HEAP_COST.string + HEAP_COST.stringChar * value.length;
  if (typeof value === 'number') return HEAP_COST.number;
  if (value === null || typeof value !== 'object') return 0;
  let cost: number;
  if (Array.isArray(value)) {
    cost = HEAP_COST.array + HEAP_COST.element * value.length;
    for (const child of value) cost += freezeAndWeigh(child);
  } else {
    const children = Object.values(value);
    cost = HEAP_COST.object + HEAP_COST.field * children.length;
    for (const child of children) cost += freezeAndWeigh(child);
  }
  Object.freeze(value);
  return cost;
}

/** What the cache holds now, by its own accounting: the bound of HUB_RESPONSE_CACHE_MB applies to `bytes`. */
export interface ResponseCacheStats {
  entries: number;
  bytes: number;
  inFlight: number;
  maxBytes: number;
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
  return createHash('sha256')
    .update(canonicalJson({ ...identity }))
    .digest('hex');
}

/**
 * A request's `Cache-Control` header asks for `no-cache` (or `no-store`): nothing kept answers it, whole answers
 * (the fresh one is kept for later reads) and reference data (gateway/reference-cache.ts) alike.
 */
export function asksForFreshAnswer(cacheControl: string | null | undefined): boolean {
  return /(^|,)\s*no-(cache|store)\s*(,|$)/i.test(cacheControl ?? '');
}

function wantsFreshAnswer(http: HTTPGraphQLRequest | undefined): boolean {
  return asksForFreshAnswer(http?.headers.get('cache-control'));
}

/** The stored data as an answer, with the HTTP `age` of the entry in seconds. */
function answerFrom(entry: Entry, now: number): GraphQLResponse {
  const headers = new HeaderMap([['age', String(Math.floor((now - entry.storedAt) / 1000))]]);
  return {
    body: { kind: 'single', singleResult: { data: entry.data as Record<string, unknown> } },
    http: { status: undefined, headers },
  };
}

/**
 * Answers queries from memory while the subgraphs' hints say their answer holds and nothing it contains changed since
 * it began. Identical queries of one caller that arrive while the first is still being answered wait for that answer
 * instead of asking the subgraphs again, so an expiring entry of a polled schedule costs one execution, not one per
 * poller; should that answer not be cacheable (an error, a sealed field), each waiter executes its own query after all.
 *
 * Staleness is zero, across replicas: an entry keeps the hub's clock as read before its answer was computed and the tags
 * of what it contains (gateway/cache-tags.ts); a mutation stamps the tags of what it changed before its answer leaves,
 * a job after its handler returns (lib/cache-tags.ts); a hit, or a waiter's answer, is served only if one MGET shows
 * none of the entry's tags stamped after its clock. While Redis does not answer, nothing is served from the cache.
 */
export function responseCachePlugin<C extends IdentityContext>(
  maxBytes: number,
  feed: ChangeFeed,
  metrics: HubMetrics,
  options: { maxInFlight?: number } = {},
): { plugin: ApolloServerPlugin<C>; stats(): ResponseCacheStats } {
  const maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
  // The entry count is bounded too: no entry costs less than its overhead, so the budget allows at most this many.
  const entries = new LRUCache<string, Entry>({
    max: Math.max(1, Math.floor(maxBytes / ENTRY_OVERHEAD_BYTES)),
    maxSize: maxBytes,
    sizeCalculation: (entry) => entry.size,
  });
  const inFlight = new Map<string, Promise<Entry | null>>();
  // By the parsed operation, which Apollo keeps per query text: the keyed copy is made once per query.
  const keyedOperations = new WeakMap<OperationDefinitionNode, KeyedOperation | null>();
  // A (re)started subscription means announcements may have been missed and a restarted Redis has forgotten every
  // tag's version: nothing cached before it is served again, nor stored if it was being computed across it.
  let epoch = 0;
  feed.onChange((reason) => {
    if (reason !== 'subscribed') return;
    epoch++;
    entries.clear();
  });
  const stats = (): ResponseCacheStats => ({
    entries: entries.size,
    bytes: entries.calculatedSize,
    inFlight: inFlight.size,
    maxBytes,
  });
  /** The entry if none of its tags changed since it began; null (and dropped) if one did. Rejects if Redis does not answer. */
  const stillHolds = async (key: string, entry: Entry): Promise<Entry | null> => {
    if (await feed.versions.unchangedSince(entry.tags, entry.since)) return entry;
    if (entries.peek(key) === entry) entries.delete(key);
    return null;
  };
  const plugin: ApolloServerPlugin<C> = {
    async requestDidStart() {
      let key: string | null = null;
      let since: number | null = null;
      let startedIn = -1;
      let settle: ((entry: Entry | null) => void) | null = null;
      let outcome: CacheOutcome | null = null;
      let keysAdded = false;
      return {
        async didResolveOperation(requestContext) {
          // Ids of the objects written all day, so the answer is tagged by them (gateway/cache-keys.ts).
          const operation = requestContext.operation;
          if (operation?.operation !== 'query') return;
          let keyed = keyedOperations.get(operation);
          if (keyed === undefined) {
            keyed = withCacheKeys(requestContext.schema, requestContext.document, operation, requestContext.source);
            keyedOperations.set(operation, keyed);
          }
          if (!keyed) return;
          const writable = requestContext as unknown as { document: DocumentNode; operation: OperationDefinitionNode };
          writable.document = keyed.document;
          writable.operation = keyed.operation;
          keysAdded = true;
        },
        async responseForOperation(requestContext) {
          if (requestContext.operation.operation !== 'query') return null;
          const request = requestContext.request;
          key = createHash('sha256')
            .update(
              canonicalJson([
                identityCacheKey(requestContext.contextValue.identity),
                requestContext.source,
                request.operationName ?? null,
                (request.variables ?? {}) as Json,
              ]),
            )
            .digest('hex');
          try {
            if (!wantsFreshAnswer(request.http)) {
              const stored = entries.get(key);
              if (stored && (await stillHolds(key, stored))) {
                outcome = 'hit';
                return answerFrom(stored, Date.now());
              }
              const pending = inFlight.get(key);
              if (pending) {
                const answered = await pending;
                if (answered && (await stillHolds(key, answered))) {
                  outcome = 'coalesced';
                  return answerFrom(answered, Date.now());
                }
              }
            }
            // Read before the answer is computed: any write it may miss stamps its tags later than this.
            startedIn = epoch;
            since = await feed.versions.clock();
          } catch {
            outcome = 'unavailable';
            key = null;
            return null;
          }
          if (wantsFreshAnswer(request.http)) {
            outcome = 'bypass';
            return null;
          }
          outcome = 'miss';
          // Bounded: past maxInFlight (MAX_IN_FLIGHT) distinct queries being answered, a new one simply runs without others waiting on it.
          if (!inFlight.has(key) && inFlight.size < maxInFlight)
            inFlight.set(key, new Promise<Entry | null>((resolve) => (settle = resolve)));
          return null;
        },
        async willSendResponse(requestContext) {
          const operation = requestContext.operation;
          if (operation?.operation === 'mutation') {
            // Before the answer leaves, so no gateway serves an answer from before it once the caller has its answer.
            const body = requestContext.response.body;
            const data = body.kind === 'single' ? body.singleResult.data : undefined;
            const variables = (requestContext.request.variables ?? {}) as Record<string, unknown>;
            const tags = [
              ...mutationTags(requestContext.schema, fragmentsOf(requestContext.document), operation, variables, data),
              ...(requestContext.contextValue.changed ?? []),
            ];
            // Redis away: other gateways serve nothing cached while it is; this one forgets what it has.
            await feed.announce('mutation', tags).catch(() => entries.clear());
            return;
          }
          if (outcome) metrics.responseCache.inc({ outcome });
          if (outcome === 'hit' || outcome === 'coalesced') return;
          const body = requestContext.response.body;
          // Tagged with the ids the cache asked for; then they leave the answer, kept or not.
          const answered = body.kind === 'single' ? body.singleResult : null;
          const tagsOf = (data: Record<string, unknown>) =>
            answerTags(
              requestContext.schema,
              fragmentsOf(requestContext.document),
              operation as OperationDefinitionNode,
              (requestContext.request.variables ?? {}) as Record<string, unknown>,
              data,
              requestContext.contextValue.identity,
            );
          const storable = !!(key && since !== null && operation && answered?.data && !answered.errors);
          const policy = storable ? requestContext.overallCachePolicy.policyIfCacheable() : null;
          const tags = policy && answered?.data ? tagsOf(answered.data) : null;
          if (keysAdded && answered) {
            withoutCacheKeys(answered.data);
            const errors = answered.errors?.filter((error) => !isCacheKeyError(error));
            if (answered.errors) answered.errors = errors?.length ? errors : undefined;
          }
          if (!key || since === null) return;
          let entry: Entry | null = null;
          if (policy && tags && answered?.data) {
            const data = answered.data;
            entry = {
              data,
              tags,
              since,
              storedAt: Date.now(),
              size: freezeAndWeigh(data) + ENTRY_OVERHEAD_BYTES + TAG_COST * tags.length,
            };
            // An answer larger than the whole cache is simply not kept.
            if (startedIn !== epoch) entry = null;
            else if (entry.size <= maxBytes) entries.set(key, entry, { ttl: policy.maxAge * 1000 });
          }
          if (settle) {
            inFlight.delete(key);
            settle(entry);
          }
        },
      };
    },
  };
  return { plugin, stats };
}

/** The fragment definitions of a request's document (none before it is parsed). */
function fragmentsOf(document: DocumentNode | undefined): FragmentDefinitionNode[] {
  return (document?.definitions ?? []).filter(
    (definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION,
  );
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
export function responseCaching<C extends IdentityContext>(
  config: HubConfig,
  metrics: HubMetrics,
  feed: ChangeFeed | null,
): ApolloServerPlugin<C>[] {
  // Apollo would write `Cache-Control: public` on cacheable answers; every answer here depends on the bearer token, so
  // clients keep the gateway's `no-store` (gateway/http-security.ts) and learn an answer's age from the `age` header.
  const plugins: ApolloServerPlugin<C>[] = [ApolloServerPluginCacheControl({ calculateHttpHeaders: false })];
  if (feed && config.HUB_RESPONSE_CACHE_MB > 0)
    plugins.push(responseCachePlugin<C>(config.HUB_RESPONSE_CACHE_MB * 1024 * 1024, feed, metrics).plugin);
  return plugins;
}
