// Starts one subgraph: its SDL from schema/, its resolvers, a signed-identity check on every GraphQL request.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { GraphQLError, parse, type GraphQLFormattedError } from 'graphql';
import type { Domain, HubConfig } from './config';
import { enforceAuthorization, type AccessFactsOf } from './authorization';
import { unauthenticated } from './errors';
import { CHANGED_EXTENSION, changesNoted } from './change-notes';
import { IDENTITY_HEADER, redisNonceRegistry, SIGNATURE_HEADER, verifySignedIdentity, type Identity } from './identity';
import { closeServer, createServer, graphqlListener, listen } from './http';
import { healthRoutes } from './health';
import type { Logger } from './logger';
import { isDatabaseUnavailable } from './db';
import { createMetrics, metricsPlugin, sendMetrics, type HubMetrics } from './metrics';

export function schemaPath(file: string): string {
  return join(schemaDir(), file);
}

function schemaDir(): string {
  // Source runs from <root>/lib, the build from <root>/dist/lib; the SDL always lives in <root>/schema.
  const fromSource = join(__dirname, '..', 'schema');
  const fromBuild = join(__dirname, '..', '..', 'schema');
  return __dirname.split(/[\\/]/).includes('dist') ? fromBuild : fromSource;
}

export function readSdl(domain: Domain): string {
  return readFileSync(schemaPath(`${domain}.graphql`), 'utf8');
}

export interface SubgraphContext extends BaseContext {
  identity: Identity;
}

export interface SubgraphDefinition<C extends SubgraphContext> {
  domain: Domain;
  resolvers: GraphQLResolverMap<C>;
  /** Per type, the facts the authorization matrix decides an object's scopes from (lib/authorization.ts). */
  accessFacts?: AccessFactsOf<C>;
  /** Builds the per-request context (loaders and services) for a verified identity. */
  createContext(identity: Identity): C;
  /** Answers /readyz: the subgraph's own dependencies (its database). */
  ready(): Promise<boolean>;
}

export interface RunningSubgraph {
  port: number;
  url: string;
  metrics: HubMetrics;
  stop(): Promise<void>;
  /** Starts the same subgraph again on the same port, after a stop (the fault tests bring a subgraph back). */
  restart(): Promise<RunningSubgraph>;
}

/** Hides internals from clients: stack traces and unexpected errors never leave the process outside development. */
export function formatErrorFor(config: HubConfig, logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    // A lost or refused database connection: its transaction rolled back (or, if the commit itself was cut off, the retry
    // finds the change made), so the client may safely retry.
    if ((code === 'INTERNAL_SERVER_ERROR' || code === undefined) && isDatabaseUnavailable(error)) {
      logger.warn({ err: error }, 'database unavailable');
      return {
        message: 'the database connection was lost before the change was confirmed; retry the request',
        path: formatted.path,
        extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true },
      };
    }
    // Apollo's own refusals of a malformed request (a persisted query's hash that does not match its text) carry an HTTP
    // 4xx but no code: the client's mistake, not the hub's.
    const status =
      error instanceof GraphQLError && error.extensions.code === undefined
        ? (error.extensions.http as { status?: number } | undefined)?.status
        : undefined;
    if (status !== undefined && status >= 400 && status < 500) {
      return { message: formatted.message, path: formatted.path, extensions: { code: 'BAD_REQUEST' } };
    }
    if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) {
      logger.error({ err: error }, 'unexpected error');
      if (config.HUB_ENV !== 'development') {
        return {
          message: 'internal error; the hub logged it',
          path: formatted.path,
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        };
      }
    }
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  };
}

/**
 * Returns what the request's writes noted they changed (lib/change-notes.ts) to the gateway, in the response's
 * CHANGED_EXTENSION, so that it stamps them before its own answer leaves (gateway/response-cache.ts).
 */
function changeNotesPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response }) {
          const noted = changesNoted();
          if (!noted?.size || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, [CHANGED_EXTENSION]: [...noted] };
        },
      };
    },
  };
}

export async function startSubgraph<C extends SubgraphContext>(
  definition: SubgraphDefinition<C>,
  config: HubConfig,
  logger: Logger,
  port: number,
  options: { metrics?: HubMetrics } = {},
): Promise<RunningSubgraph> {
  const metrics = options.metrics ?? createMetrics(definition.domain);
  // Every field of the SDL is guarded by the authorization matrix (lib/authorization.ts), with or without a resolver.
  const typeDefs = parse(readSdl(definition.domain));
  const schema = buildSubgraphSchema([
    { typeDefs, resolvers: enforceAuthorization(definition.resolvers, typeDefs, definition.accessFacts) },
  ]);
  const apollo = new ApolloServer<C>({
    schema,
    includeStacktraceInErrorResponses: false,
    // The process's own shutdown (lib/process.ts) stops this server; Apollo's signal handlers would race it.
    stopOnTerminationSignals: false,
    formatError: formatErrorFor(config, logger),
    csrfPrevention: false,
    // No usage reporting leaves the hub, so per-request traces would only cost time.
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      metricsPlugin<C>(metrics),
      changeNotesPlugin<C>(),
    ],
  });
  await apollo.start();
  const nonces = redisNonceRegistry(config.REDIS_URL, config.HUB_QUEUE_PREFIX);
  // A refused signature is the caller's failure to authenticate: 401, not the 500 of a context that failed.
  const refuse = (reason: string) => {
    const error = unauthenticated(reason);
    return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 401 } } });
  };
  const server: Server = createServer(
    graphqlListener<C>({
      apollo,
      async context(request, body) {
        const verified = verifySignedIdentity(
          config.HUB_INTERNAL_SECRET,
          {
            identity: request.headers[IDENTITY_HEADER] as string | undefined,
            signature: request.headers[SIGNATURE_HEADER] as string | undefined,
          },
          body,
          { maxAgeMs: config.HUB_SIGNATURE_MAX_AGE, skewMs: config.HUB_SIGNATURE_CLOCK_SKEW },
        );
        if (!verified.ok) throw refuse(verified.reason);
        // Checked only for a genuine signature, so a forger cannot fill the registry.
        if (!(await nonces.claim(verified.nonce, verified.validUntil)))
          throw refuse('the identity signature was already used; each signed request is accepted once');
        return definition.createContext(verified.identity);
      },
      routes: {
        ...healthRoutes(definition.domain, { database: () => definition.ready() }),
        'GET /metrics': (_request, response) => sendMetrics(response, metrics),
      },
    }),
  );
  server.keepAliveTimeout = 65_000;
  const boundPort = await listen(server, port, config.SUBGRAPH_HOST);
  logger.info({ port: boundPort }, `${definition.domain} subgraph listening`);
  return {
    port: boundPort,
    url: `http://127.0.0.1:${boundPort}/graphql`,
    metrics,
    async stop() {
      await closeServer(server);
      await apollo.stop();
      await nonces.close();
    },
    restart: () => startSubgraph(definition, config, logger, boundPort, { metrics }),
  };
}
