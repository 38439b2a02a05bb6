// Prometheus metrics for every process: GraphQL requests by operation, errors by code, subgraph fetches, queues, pools, outbox lag.
// Each server gets a registry of its own (tests run several in one process); the mains add the process defaults.
import type { ServerResponse } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Pool } from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seconds: from a cached lookup (a few ms) to a slow mutation or saga step. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Clients name their operations; past this many distinct names the rest count as "other", so a client cannot blow up the series. */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface HubMetrics {
  registry: Registry;
  requests: Counter<'operation' | 'type'>;
  requestDuration: Histogram<'operation' | 'type'>;
  errors: Counter<'code'>;
  subgraphFetchDuration: Histogram<'subgraph' | 'outcome'>;
  jobDuration: Histogram<'queue' | 'name' | 'outcome'>;
  /** Gateway queries by response-cache outcome. */
  responseCache: Counter<'outcome'>;
  /** Gateway fetches to the venues subgraph narrowed by the reference cache, by outcome. */
  referenceCache: Counter<'outcome'>;
  /** Records the pools whose usage the registry reports at scrape time. */
  observePools(pools: Record<string, Pool>): void;
  /** Adds a gauge computed at scrape time (queue counts, outbox lag). */
  observe(
    name: string,
    help: string,
    labelNames: string[],
    collect: () => Promise<{ labels: Record<string, string>; value: number }[]>,
  ): void;
  /** The operation label for a client-chosen name, bounded in length and in count. */
  operationLabel(name: string | null | undefined): string;
}

export function createMetrics(service: string, options: { processDefaults?: boolean } = {}): HubMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.processDefaults) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'hub_graphql_requests_total',
    help: 'GraphQL requests answered, by operation name and type',
    labelNames: ['operation', 'type'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'hub_graphql_request_duration_seconds',
    help: 'GraphQL request latency, by operation name and type',
    labelNames: ['operation', 'type'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'hub_graphql_errors_total',
    help: 'Errors in GraphQL responses, by extensions.code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const subgraphFetchDuration = new Histogram({
    name: 'hub_subgraph_fetch_duration_seconds',
    help: 'Gateway fetches to a subgraph, by subgraph and outcome (ok, http_error, unreachable)',
    labelNames: ['subgraph', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'hub_job_duration_seconds',
    help: 'Job run time from start to completion or failure, by queue, job name and outcome',
    labelNames: ['queue', 'name', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  const referenceCache = new Counter({
    name: 'hub_reference_cache_fetches_total',
    help: 'Venues fetches the gateway narrowed to room, venue and platform ids and filled from its reference cache: hit (every object kept), fill (some fetched and kept), fallback (sent as planned: Redis away or a fill refused)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const responseCache = new Counter({
    name: 'hub_response_cache_queries_total',
    help: 'Gateway queries by response-cache outcome: hit, coalesced (waited for an identical query in flight), miss, bypass (the client sent Cache-Control: no-cache), unavailable (the change feed is not heard, so the cache is not used)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const pools: Record<string, Pool> = {};
  new Gauge({
    name: 'hub_pg_pool_connections',
    help: 'Postgres pool connections by domain and state (total, idle, waiting = callers queued for a connection)',
    labelNames: ['pool', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [name, pool] of Object.entries(pools)) {
        this.set({ pool: name, state: 'total' }, pool.totalCount);
        this.set({ pool: name, state: 'idle' }, pool.idleCount);
        this.set({ pool: name, state: 'waiting' }, pool.waitingCount);
      }
    },
  });

  const operationNames = new Set<string>();
  return {
    registry,
    requests,
    requestDuration,
    errors,
    subgraphFetchDuration,
    jobDuration,
    responseCache,
    referenceCache,
    observePools(more) {
      Object.assign(pools, more);
    },
    observe(name, help, labelNames, collect) {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.reset();
          // A dependency that is down (Redis during a restart) leaves the gauge empty rather than failing the scrape.
          const samples = await collect().catch(() => []);
          for (const { labels, value } of samples) this.set(labels, value);
        },
      });
    },
    operationLabel(name) {
      if (!name) return 'anonymous';
      if (!OPERATION_NAME.test(name)) return 'invalid';
      if (operationNames.has(name)) return name;
      if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
      operationNames.add(name);
      return name;
    },
  };
}

/** Counts each GraphQL request by operation, times it, and counts the errors it answered by code. */
export function metricsPlugin<C extends BaseContext>(metrics: HubMetrics): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(requestContext) {
          const operation = metrics.operationLabel(
            requestContext.operationName ?? requestContext.request.operationName,
          );
          const type = requestContext.operation?.operation ?? 'unknown';
          metrics.requests.inc({ operation, type });
          metrics.requestDuration.observe({ operation, type }, Number(process.hrtime.bigint() - started) / 1e9);
          const body = requestContext.response.body;
          const errors = body.kind === 'single' ? (body.singleResult.errors ?? []) : [];
          for (const error of errors)
            metrics.errors.inc({ code: String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
        },
      };
    },
  };
}

/** Writes the registry in Prometheus text format. */
export async function sendMetrics(response: ServerResponse, metrics: HubMetrics): Promise<void> {
  const text = await metrics.registry.metrics();
  response.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
