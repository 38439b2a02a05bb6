// The gateway: verifies bearer tokens, plans queries over the static supergraph, signs the caller's identity to subgraphs.
import type { Server } from 'node:http';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, type ValidationRule } from 'graphql';
import { checkHubScalarsIn } from '../lib/scalars';
import { CHANGED_EXTENSION } from '../lib/change-notes';
import type { HubConfig } from '../lib/config';
import { closeServer, createServer, graphqlListener, listen, sendJson } from '../lib/http';
import { encodeIdentity, IDENTITY_HEADER, SIGNATURE_HEADER, signatureFor, type Identity } from '../lib/identity';
import type { Logger } from '../lib/logger';
import { createMetrics, metricsPlugin, sendMetrics, type HubMetrics } from '../lib/metrics';
import { currentRequestId, REQUEST_ID_HEADER } from '../lib/tracing';
import { traceSubgraphFetch } from '../lib/otel';
import { answersReadyz, healthRoutes } from '../lib/health';
import { createQueuesDashboard } from './queues-dashboard';
import { formatErrorFor } from '../lib/subgraph';
import { readSupergraph } from '../schema/supergraph';
import { secureListener } from './http-security';
import { inputTextPlugin } from './input-text';
import { newRequestBudget, operationLimits, type BudgetedContext } from './limits';
import { createRateLimiter } from './rate-limit';
import { asksForFreshAnswer, responseCaching } from './response-cache';
import { listenForChanges } from '../lib/change-feed';
import { archiveRoutes } from './archives';
import { boardRoute } from './board';
import { subgraphRequest } from './subgraph-fetch';
import { distinctRepresentations, spreadEntities } from './entity-dedup';
import { referenceCache, type ReferenceCache } from './reference-cache';
import { knownPlatforms } from './platforms';
import { verifyBearer } from './tokens';

export interface GatewayContext extends BaseContext, BudgetedContext {
  identity: Identity;
  /** What the subgraphs' writes for this request noted they changed (lib/change-notes.ts): stamped with the mutation. */
  changed?: Set<string>;
}

export interface GatewayOptions {
  config: HubConfig;
  logger: Logger;
  port: number;
  /** Where each subgraph answers, by name. */
  subgraphUrls: Record<string, string>;
  /** Where to count requests; a registry of the gateway's own by default. */
  metrics?: HubMetrics;
  /** The port of /metrics, on METRICS_HOST (loopback by default), never the public port; 0 picks a free one. */
  metricsPort?: number;
}

export interface RunningGateway {
  port: number;
  url: string;
  /** Where Prometheus scrapes the gateway: a separate listener, loopback unless METRICS_HOST says otherwise. */
  metricsUrl: string | null;
  stop(): Promise<void>;
}

type DataSourceOptions = NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>;
type Fetcher = NonNullable<DataSourceOptions['fetcher']>;

type ProcessOptions = Parameters<RemoteGraphQLDataSource<GatewayContext>['process']>[0];

/** The client's request asks for a fresh answer (`Cache-Control: no-cache`): no reference data from memory either. */
function wantsFresh(options: ProcessOptions): boolean {
  if (!('incomingRequestContext' in options)) return true;
  return asksForFreshAnswer(options.incomingRequestContext.request.http?.headers.get('cache-control'));
}

/**
 * Forwards the caller's identity, signed over the exact body sent, with a timestamp; asks for each distinct entity once
 * (gateway/entity-dedup.ts), and, for the venues subgraph, takes rooms, venues and platforms from the reference cache
 * (gateway/reference-cache.ts).
 */
class SignedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  references: ReferenceCache | null = null;

  override async process(options: ProcessOptions) {
    const variables = options.request.variables;
    const representations = variables?.representations;
    const distinct = Array.isArray(representations) ? distinctRepresentations(representations) : null;
    const asked = distinct ? { ...variables, representations: distinct.distinct } : variables;
    const send = (query: string, sent: Record<string, unknown> | undefined, operationName?: string) =>
      super.process({
        ...options,
        request: {
          ...options.request,
          query,
          variables: sent,
          operationName: operationName ?? options.request.operationName,
        },
      });
    const query = options.request.query;
    const answer =
      this.references && query && 'incomingRequestContext' in options
        ? await this.references.fetch(query, asked, send, wantsFresh(options))
        : await super.process(distinct ? { ...options, request: { ...options.request, variables: asked } } : options);
    return distinct ? spreadEntities(answer, distinct.twinOf) : answer;
  }

  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    if ('identity' in context && context.identity)
      request.http?.headers.set(IDENTITY_HEADER, encodeIdentity(context.identity as Identity));
  }

  /** Keeps what the subgraph's writes noted they changed; the extension itself never reaches the client. */
  override didReceiveResponse({
    response,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['didReceiveResponse']>>[0]) {
    const noted = response.extensions?.[CHANGED_EXTENSION];
    if (Array.isArray(noted) && 'changed' in context && context.changed instanceof Set) {
      for (const tag of noted) if (typeof tag === 'string') context.changed.add(tag);
    }
    return response;
  }

  /** A subgraph's refusal (a 400 for a bad variable, say) reaches the client with its code, never with the subgraph's URL. */
  override async errorFromResponse(
    response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0],
  ): Promise<GraphQLError> {
    const body = (await this.parseBody(response).catch(() => null)) as {
      errors?: { message?: string; extensions?: { code?: string } }[];
    } | null;
    const first = body?.errors?.[0];
    if (first?.message && first.extensions?.code)
      return new GraphQLError(first.message, { extensions: { code: first.extensions.code } });
    return new GraphQLError(`a subgraph answered HTTP ${response.status}`, {
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  }
}

function signingFetcher(secret: string, subgraph: string, metrics: HubMetrics): Fetcher {
  const fetcher = async (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => {
    const headers = { ...(init?.headers ?? {}) };
    const encoded = headers[IDENTITY_HEADER];
    if (encoded) headers[SIGNATURE_HEADER] = signatureFor(secret, encoded, init?.body ?? '');
    const requestId = currentRequestId();
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    const timer = metrics.subgraphFetchDuration.startTimer({ subgraph });
    try {
      // With tracing on, a client span whose traceparent the subgraph's server span continues (fetch is not instrumented).
      const response = await traceSubgraphFetch(subgraph, url, headers, () =>
        subgraphRequest(url, { method: init?.method, headers, body: init?.body }),
      );
      timer({ outcome: response.ok ? 'ok' : 'http_error' });
      return response;
    } catch (error) {
      timer({ outcome: 'unreachable' });
      // The other subgraphs' data still reaches the client; this error says whose is missing and that a retry may help.
      throw new GraphQLError(
        `the ${subgraph} subgraph is unreachable, so its fields are missing from this answer; retry shortly`,
        {
          extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: subgraph, retryable: true },
          originalError: error instanceof Error ? error : undefined,
        },
      );
    }
  };
  return fetcher as unknown as Fetcher;
}

/** The hub publishes no subscriptions (API.md: partners get webhooks); asking for one is the client's mistake, not a 500. */
const noSubscriptions: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation === 'subscription') {
      context.reportError(
        new GraphQLError('the hub serves no subscriptions; poll with a query, or let the hub call a webhook', {
          nodes: node,
        }),
      );
    }
  },
});

/**
 * Apollo's CSRF check refuses a request a browser could send cross-site without a preflight. A bearer token travels in
 * the Authorization header, which a browser never adds on its own and which forces a preflight, so a request carrying
 * it is not forgeable: GET queries with a token pass (urql's default), and without a token the request is refused anyway.
 */
const CSRF_PREFLIGHT_HEADERS = ['x-apollo-operation-name', 'apollo-require-preflight', 'authorization'];

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  const metrics = options.metrics ?? createMetrics('gateway');
  // METRICS_PORT=0 turns the listener off; a gateway on a free port (tests) gets a free metrics port too.
  const metricsPort =
    options.metricsPort ?? (config.METRICS_PORT === 0 ? null : options.port === 0 ? 0 : config.METRICS_PORT);
  const dashboard = createQueuesDashboard(config);
  const changes =
    config.HUB_RESPONSE_CACHE_MB > 0 || config.HUB_REFERENCE_CACHE_ENTRIES > 0
      ? listenForChanges(config.REDIS_URL, config.HUB_QUEUE_PREFIX, logger)
      : null;
  const references =
    changes && config.HUB_REFERENCE_CACHE_ENTRIES > 0
      ? referenceCache(config.HUB_REFERENCE_CACHE_ENTRIES, changes, metrics)
      : null;
  // Answers and rooms are kept only while the feed is heard; wait a moment for it so a fresh gateway caches from the start.
  if (changes && !(await changes.whenListening(2000)))
    logger.warn('the change feed on Redis is not heard yet; the response and reference caches wait for it');
  const gateway = new ApolloGateway({
    supergraphSdl: readSupergraph(),
    buildService: ({ name }) => {
      const url = options.subgraphUrls[name];
      if (!url) throw new Error(`no URL configured for subgraph ${name}`);
      const source = new SignedDataSource({ url, fetcher: signingFetcher(config.HUB_INTERNAL_SECRET, name, metrics) });
      // Rooms, venues and platforms are the venues subgraph's.
      if (name === 'venues') source.references = references;
      return source;
    },
  });
  // Before Apollo registers its own listener, so validation and variable coercion see the real scalar checks.
  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => {
    checkHubScalarsIn(apiSchema);
    references?.useSchema(apiSchema);
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    // Apollo's own SIGINT/SIGTERM handlers (installed outside NODE_ENV=test) race lib/process.ts's shutdown: a second
    // concurrent stop() waits on a barrier that is never released, so the process hung until its bound and exited 1.
    stopOnTerminationSignals: false,
    formatError: formatErrorFor(config, logger),
    introspection: config.HUB_ENV !== 'production',
    // "Did you mean …" would reveal the schema that disabled introspection hides.
    hideSchemaDetailsFromClientErrors: config.HUB_ENV === 'production',
    validationRules: [noSubscriptions],
    csrfPrevention: { requestHeaders: CSRF_PREFLIGHT_HEADERS },
    allowBatchedHttpRequests: config.HUB_MAX_BATCH > 1,
    // The default landing page loads from a CDN; the hub runs on closed networks.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      metricsPlugin(metrics),
      inputTextPlugin<GatewayContext>(),
      operationLimits(config),
      ...responseCaching<GatewayContext>(config, metrics, changes),
    ],
  });
  await apollo.start();
  const rateLimiter = createRateLimiter(config);
  // A token's platform claim must name a platform of the hub; the venues subgraph owns the list.
  const platforms = knownPlatforms(config.HUB_INTERNAL_SECRET, options.subgraphUrls.venues, logger);
  const authenticate = (authorization: string | undefined) => verifyBearer(config, authorization, platforms);
  if (!(await platforms.load()))
    logger.warn('the venues subgraph did not list its platforms; token platforms are checked once it does');
  const graphql = graphqlListener<GatewayContext>({
    apollo,
    maxBodyBytes: config.HUB_MAX_BODY_BYTES,
    maxBatch: config.HUB_MAX_BATCH,
    async context(request, _body, operations) {
      let identity: Identity;
      try {
        identity = await authenticate(request.headers.authorization);
      } catch (error) {
        if (error instanceof GraphQLError) {
          throw new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 401 } } });
        }
        throw error;
      }
      // A batch counts as many requests as it holds operations, and its operations share one budget of cost and aliases.
      await rateLimiter.consume(identity, operations);
      return { identity, requestBudget: newRequestBudget(), changed: new Set<string>() };
    },
    routes: {
      // Ready when every subgraph answers its own /readyz.
      ...healthRoutes(
        'gateway',
        Object.fromEntries(Object.entries(options.subgraphUrls).map(([name, url]) => [name, answersReadyz(url)])),
      ),
      ...archiveRoutes(apollo, { authenticate, rateLimiter }),
      'GET /board*': boardRoute,
    },
  });
  // The queue dashboard (Bull Board) reads its own request bodies, so it gets its requests before the GraphQL listener.
  const server: Server = createServer(
    secureListener(config.HUB_CORS_ORIGINS, (request, response) =>
      dashboard.owns(new URL(request.url ?? '/', 'http://localhost').pathname)
        ? dashboard.handle(request, response)
        : graphql(request, response),
    ),
  );
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, options.port, config.GATEWAY_HOST);
  // Metrics answer without a token, so they stay off the public port: a listener of their own, loopback by default.
  const metricsServer: Server | null =
    metricsPort === null
      ? null
      : createServer((request, response) => {
          if (request.method === 'GET' && new URL(request.url ?? '/', 'http://localhost').pathname === '/metrics') {
            sendMetrics(response, metrics).catch(() => response.destroy());
          } else sendJson(response, 404, { error: 'this port serves GET /metrics only' });
        });
  const boundMetricsPort = metricsServer ? await listen(metricsServer, metricsPort ?? 0, config.METRICS_HOST) : null;
  logger.info({ port, metricsPort: boundMetricsPort }, 'gateway listening');
  return {
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    metricsUrl:
      boundMetricsPort === null
        ? null
        : `http://${config.METRICS_HOST === '0.0.0.0' ? '127.0.0.1' : config.METRICS_HOST}:${boundMetricsPort}/metrics`,
    async stop() {
      if (metricsServer) await closeServer(metricsServer);
      await closeServer(server);
      await apollo.stop();
      await dashboard.close();
      await rateLimiter.close();
      await changes?.close();
    },
  };
}
