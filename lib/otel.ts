// OpenTelemetry tracing, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set. Off means off: no OpenTelemetry SDK module is
// loaded, nothing is patched, nothing is sent, and every helper below returns after one null check. On, each process
// exports its spans over OTLP/HTTP (JSON) under its own service.name: HTTP server spans (the W3C traceparent of the
// caller extracted), one span per GraphQL operation, Apollo gateway's planning and fetch spans, a client span per
// subgraph fetch with traceparent injected, a span per SQL statement (pg), and a producer span per outbox message whose
// context travels in the job's data to a consumer span around the job's run.
//
// The SDK and instrumentations are loaded with require() inside startTracingIfConfigured, which each process entry
// calls before importing anything else: instrumentation patches http and pg only for code that loads them afterwards.
import type * as OtelApi from '@opentelemetry/api';
import { loadConfig, type HubConfig } from './config';
import { SIGNATURE_HEADER } from './identity';

type Api = typeof OtelApi;
type Attributes = OtelApi.Attributes;

/** The API while tracing is on; null otherwise, which is the whole cost of tracing when it is off. */
let api: Api | null = null;
let tracer: OtelApi.Tracer | null = null;
let provider: { forceFlush(): Promise<void>; shutdown(): Promise<void> } | null = null;

const TRACER_NAME = 'remote-evaluation-hub';
/** Probes and scrapes would otherwise make a trace every few seconds each. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Starts tracing for this process when OTEL_EXPORTER_OTLP_ENDPOINT is set; returns whether it did. Call it first in a
 * process entry, before any import that loads http or pg:
 *
 * ```ts
 * import { startTracingIfConfigured } from '../lib/otel';
 * startTracingIfConfigured('hub-gateway');
 * import { loadConfig } from '../lib/config'; // ...the rest of the entry's imports
 * ```
 */
export function startTracingIfConfigured(serviceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (api) return true;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return false;
  let config: HubConfig;
  try {
    config = loadConfig(env);
  } catch {
    // The entry's own loadConfig reports the bad variable and stops the process.
    return false;
  }
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return false;
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded only when tracing is on, by design */
  const otel = require('@opentelemetry/api') as Api;
  const { NodeTracerProvider, BatchSpanProcessor } =
    require('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } =
    require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } =
    require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
  const { registerInstrumentations } =
    require('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  /* eslint-enable @typescript-eslint/no-require-imports */

  // OTEL_RESOURCE_ATTRIBUTES (deployment.environment, say) is honoured; service.name is always the process's own.
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName, [ATTR_SERVICE_VERSION]: packageVersion() }));
  const exporter = new OTLPTraceExporter({ url: tracesUrl(config.OTEL_EXPORTER_OTLP_ENDPOINT) });
  const tracerProvider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY })],
  });
  // Registers the provider, an AsyncLocalStorage context manager and the W3C trace-context propagator globally.
  tracerProvider.register();
  registerInstrumentations({
    tracerProvider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]),
        // Only calls made on behalf of a traced request or job; never a span for a stray call.
        requireParentforOutgoingSpans: true,
        // The gateway's signed calls to subgraphs have their client span from traceSubgraphFetch, named after the subgraph.
        ignoreOutgoingRequestHook: (request) => {
          const headers = request.headers as Record<string, unknown> | undefined;
          return headers !== undefined && SIGNATURE_HEADER in headers;
        },
      }),
      // The outbox relay polls every OUTBOX_POLL_INTERVAL; its statements have no parent and are not worth a trace each.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  api = otel;
  tracer = otel.trace.getTracer(TRACER_NAME);
  provider = tracerProvider;
  return true;
}

/** Sends the spans still buffered and stops exporting; call it last in a process's shutdown. Nothing to do when off. */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  if (!stopping) return;
  provider = null;
  await stopping.forceFlush().catch(() => undefined);
  await stopping.shutdown().catch(() => undefined);
}

export function tracingEnabled(): boolean {
  return api !== null;
}

/** The OTLP/HTTP traces URL under the collector's base URL, as the OTLP exporter specification derives it. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

function packageVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../package.json') as { version: string }).version;
  } catch {
    // The build runs from dist/lib, one level deeper.
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return (require('../../package.json') as { version: string }).version;
    } catch {
      return 'unknown';
    }
  }
}

/** Runs `work` inside a new span that ends when it settles; an error marks the span and is rethrown. */
async function inSpan<T>(span: OtelApi.Span, otel: Api, parent: OtelApi.Context, work: () => Promise<T>): Promise<T> {
  try {
    return await otel.context.with(otel.trace.setSpan(parent, span), work);
  } catch (error) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: otel.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * One span per GraphQL request, named after its operation ("query ProjectBoard", "mutation arrangeVenues"), around
 * Apollo's execution. The name comes from the body without parsing it again: the operationName field, else the first
 * operation definition's keyword and name.
 */
export function traceGraphqlOperation<T>(
  body: unknown,
  requestId: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const otel = api;
  if (!otel || !tracer) return work();
  const { type, name } = operationOf(body);
  // The request id links the trace to the request's log lines (and a partner's own id, when it sent one).
  const attributes: Attributes = { 'graphql.operation.type': type };
  if (requestId) attributes['hub.request_id'] = requestId;
  if (name) attributes['graphql.operation.name'] = name;
  if (Array.isArray(body)) attributes['graphql.batch.size'] = body.length;
  const span = tracer.startSpan(name ? `${type} ${name}` : type, { kind: otel.SpanKind.INTERNAL, attributes });
  return inSpan(span, otel, otel.context.active(), work);
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;
const OPERATION = /(?:^|[\s}])(query|mutation|subscription)(?:\s+([_A-Za-z][_0-9A-Za-z]*))?/;

function operationOf(body: unknown): { type: string; name?: string } {
  if (Array.isArray(body)) return { type: 'batch' };
  if (typeof body !== 'object' || body === null) return { type: 'query' };
  const { query, operationName } = body as { query?: unknown; operationName?: unknown };
  // Only a valid GraphQL name is used (Apollo refuses any other), so it is safe inside the pattern below.
  const named = typeof operationName === 'string' && GRAPHQL_NAME.test(operationName) ? operationName : undefined;
  if (typeof query !== 'string') return { type: 'query', name: named };
  if (named) {
    const match = new RegExp(`(query|mutation|subscription)\\s+${named}\\b`).exec(query);
    return { type: match?.[1] ?? 'query', name: named };
  }
  const match = OPERATION.exec(query);
  return { type: match?.[1] ?? 'query', name: match?.[2] };
}

/**
 * A client span around one gateway → subgraph fetch, with its W3C traceparent injected into `headers`: Node's global
 * fetch (undici) is not covered by the http instrumentation, so the gateway propagates by hand.
 */
export function traceSubgraphFetch<T extends { status: number }>(
  subgraph: string,
  url: string,
  headers: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  const otel = api;
  if (!otel || !tracer) return work();
  const target = new URL(url);
  const span = tracer.startSpan(`POST ${subgraph}`, {
    kind: otel.SpanKind.CLIENT,
    attributes: {
      'http.request.method': 'POST',
      'url.full': url,
      'server.address': target.hostname,
      'server.port': Number(target.port) || 80,
      'hub.subgraph': subgraph,
    },
  });
  const context = otel.trace.setSpan(otel.context.active(), span);
  otel.propagation.inject(context, headers);
  return inSpan(span, otel, otel.context.active(), async () => {
    const response = await work();
    span.setAttribute('http.response.status_code', response.status);
    if (response.status >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
    return response;
  });
}

/**
 * Ends a producer span for a job written to the outbox now and returns its W3C traceparent, which the job's data
 * carries to the worker; undefined when tracing is off or no trace is active (an untraced job starts its own trace).
 */
export function traceJobEnqueue(queue: string, name: string): string | undefined {
  const otel = api;
  if (!otel || !tracer) return undefined;
  const span = tracer.startSpan(`create ${queue} ${name}`, {
    kind: otel.SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'create',
      'messaging.destination.name': queue,
      'hub.job.name': name,
    },
  });
  const carrier: Record<string, string> = {};
  otel.propagation.inject(otel.trace.setSpan(otel.context.active(), span), carrier);
  span.end();
  return carrier.traceparent;
}

/** Runs a job inside a consumer span, a child of the producer span its outbox message carried (if any). */
export function traceJobRun<T>(
  job: { queue: string; name: string; id?: string; attempt?: number; requestId?: string },
  traceparent: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const otel = api;
  if (!otel || !tracer) return work();
  const parent = traceparent ? otel.propagation.extract(otel.ROOT_CONTEXT, { traceparent }) : otel.ROOT_CONTEXT;
  const attributes: Attributes = {
    'messaging.system': 'bullmq',
    'messaging.operation.type': 'process',
    'messaging.destination.name': job.queue,
    'hub.job.name': job.name,
  };
  if (job.id) attributes['messaging.message.id'] = job.id;
  if (job.attempt !== undefined) attributes['hub.job.attempt'] = job.attempt;
  if (job.requestId) attributes['hub.request_id'] = job.requestId;
  const span = tracer.startSpan(
    `process ${job.queue} ${job.name}`,
    { kind: otel.SpanKind.CONSUMER, attributes },
    parent,
  );
  return inSpan(span, otel, parent, work);
}
