// OpenTelemetry tracing across processes. On (OTEL_EXPORTER_OTLP_ENDPOINT set): the gateway, the subgraphs and the jobs
// process, each its own process as in production, export spans to a small OTLP/HTTP receiver of the test's own; one
// query spans the gateway and two subgraphs with their SQL, one mutation's trace runs on into the job it enqueued.
// Off (unset): every entry point runs in one process, no SDK module is loaded, nothing is patched, nothing is sent.
import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken } from '../gateway/tokens';
import { freePort } from '../app/dev/infrastructure';
import { freshDatabase, eventually, testConfig, ZHUMADIAN, type TestDatabase } from './support/hub';
import { ROOT, startChild, type Child } from './faults/support/processes';

jest.setTimeout(120_000);

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** OTLP span kinds as the JSON encoding numbers them. */
const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };
interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: KeyValue[];
      }[];
    }[];
  }[];
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (list ?? []).map(({ key, value }) => [
      key,
      value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue,
    ]),
  );
}

/** A collector of the test's own: accepts OTLP/HTTP JSON exports on /v1/traces and keeps every span. */
class Receiver {
  readonly spans: ReceivedSpan[] = [];
  requests = 0;
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests += 1;
        if (
          request.method === 'POST' &&
          request.url === '/v1/traces' &&
          String(request.headers['content-type']).includes('json')
        ) {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportRequest;
          for (const resourceSpans of body.resourceSpans ?? []) {
            const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
            for (const scope of resourceSpans.scopeSpans ?? []) {
              for (const span of scope.spans ?? []) {
                this.spans.push({
                  service,
                  traceId: span.traceId,
                  spanId: span.spanId,
                  parentSpanId: span.parentSpanId ?? '',
                  name: span.name,
                  kind: span.kind,
                  attributes: attributesOf(span.attributes),
                });
              }
            }
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const QUERY = `query TracingProbe { platform(id: "${ZHUMADIAN}") { id venues { id } } projects(first: 1) { totalCount } }`;
const RUN = `mutation TracingRun($from: DateTime!, $to: DateTime!) { runReconciliation(from: $from, to: $to) { id status } }`;
const REPORT = `query($id: ID!) { reconciliationReport(id: $id) { status } }`;
const RANGE = { from: '2027-03-01T00:00:00+08:00', to: '2027-03-02T00:00:00+08:00' };

interface Ports {
  gateway: number;
  venues: number;
  experts: number;
  projects: number;
  jobs: number;
}

async function freePorts(): Promise<Ports> {
  return {
    gateway: await freePort(),
    venues: await freePort(),
    experts: await freePort(),
    projects: await freePort(),
    jobs: await freePort(),
  };
}

/** The environment every hub process of one run shares: its database, queue prefix, ports and subgraph URLs. */
function hubEnv(database: TestDatabase, ports: Ports): Record<string, string> {
  const config = testConfig(database);
  return {
    HUB_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: config.REDIS_URL,
    HUB_QUEUE_PREFIX: config.HUB_QUEUE_PREFIX,
    OUTBOX_POLL_INTERVAL: '50ms',
    RECONCILE_UPCOMING_CRON: 'off',
    RECONCILE_NIGHTLY_CRON: 'off',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(ports.gateway),
    GATEWAY_URL: `http://127.0.0.1:${ports.gateway}/graphql`,
    VENUES_PORT: String(ports.venues),
    EXPERTS_PORT: String(ports.experts),
    PROJECTS_PORT: String(ports.projects),
    VENUES_URL: `http://127.0.0.1:${ports.venues}/graphql`,
    EXPERTS_URL: `http://127.0.0.1:${ports.experts}/graphql`,
    PROJECTS_URL: `http://127.0.0.1:${ports.projects}/graphql`,
    JOBS_METRICS_PORT: String(ports.jobs),
    // The gateway's /metrics listener is off here: its fixed default port may be taken by a hub running beside the tests.
    METRICS_PORT: '0',
  };
}

async function answering(url: string, children: Child[], timeoutMs = 90_000): Promise<void> {
  await eventually(
    async () => {
      for (const child of children) {
        if (child.process.exitCode !== null)
          throw new Error(`a hub process exited early:\n${child.output().slice(-3000)}`);
      }
      try {
        return (await fetch(url)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    `${url} to answer`,
  ).catch((error: Error) => {
    throw new Error(
      `${error.message}; the processes printed:\n${children.map((child) => child.output().slice(-1500)).join('\n---\n')}`,
    );
  });
}

async function post<T>(
  gatewayPort: number,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: T; errors?: unknown[]; requestId: string | null }> {
  const response = await fetch(`http://127.0.0.1:${gatewayPort}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return {
    ...((await response.json()) as { data?: T; errors?: unknown[] }),
    requestId: response.headers.get('x-request-id'),
  };
}

/** Runs the query and the mutation, then waits until the job the mutation enqueued has finished its report. */
async function exercise(
  database: TestDatabase,
  gatewayPort: number,
): Promise<{ query: string | null; mutation: string | null }> {
  const token = await issueToken(testConfig(database), {
    sub: 'tracing-admin',
    role: 'PROVINCIAL_ADMIN',
    platform: '410000',
  });
  const query = await post<{ platform: { id: string }; projects: { totalCount: number } }>(gatewayPort, token, QUERY);
  expect(query.errors).toBeUndefined();
  expect(query.data?.platform.id).toBe(ZHUMADIAN);
  const run = await post<{ runReconciliation: { id: string; status: string } }>(gatewayPort, token, RUN, RANGE);
  expect(run.errors).toBeUndefined();
  const reportId = run.data!.runReconciliation.id;
  await eventually(
    async () => {
      const report = await post<{ reconciliationReport: { status: string } }>(gatewayPort, token, REPORT, {
        id: reportId,
      });
      const status = report.data?.reconciliationReport?.status;
      return status === 'DONE' || status === 'FAILED' ? status : undefined;
    },
    30_000,
    'the reconciliation job to finish',
  );
  return { query: query.requestId, mutation: run.requestId };
}

async function terminate(children: Child[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.process.exitCode !== null || child.process.signalCode !== null) return;
      child.process.kill('SIGTERM');
      const timer = setTimeout(() => child.process.kill('SIGKILL'), 20_000);
      await child.exited;
      clearTimeout(timer);
    }),
  );
}

/** DUMP_SPANS=1 prints every received trace as a tree (service, kind, name), to see what an operator's backend gets. */
function printTraces(spans: ReceivedSpan[]): void {
  const byTrace = new Map<string, ReceivedSpan[]>();
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  for (const [traceId, trace] of byTrace) {
    const ids = new Set(trace.map((span) => span.spanId));
    const lines: string[] = [];
    const walk = (parent: string | null, depth: number) => {
      for (const span of trace.filter((candidate) =>
        parent === null ? !ids.has(candidate.parentSpanId) : candidate.parentSpanId === parent,
      )) {
        lines.push(`${'  '.repeat(depth)}${span.service} [${span.kind}] ${span.name}`);
        walk(span.spanId, depth + 1);
      }
    };
    walk(null, 0);
    console.info(`trace ${traceId}\n${lines.join('\n')}`);
  }
}

const isPgSpan = (span: ReceivedSpan) =>
  span.attributes['db.system'] === 'postgresql' || span.attributes['db.system.name'] === 'postgresql';

describe('with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  const receiver = new Receiver();
  let children: Child[] = [];
  let gatewayPort = 0;
  let database: TestDatabase;
  let requestIds: { query: string | null; mutation: string | null };

  beforeAll(async () => {
    await receiver.start();
    database = await freshDatabase();
    const ports = await freePorts();
    gatewayPort = ports.gateway;
    const env = {
      ...hubEnv(database, ports),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    children = [
      'subgraphs/venues/main.ts',
      'subgraphs/experts/main.ts',
      'subgraphs/projects/main.ts',
      'jobs/main.ts',
      'gateway/main.ts',
    ].map((entry) => startChild(entry, env));
    await answering(`http://127.0.0.1:${ports.gateway}/readyz`, children);
    await answering(`http://127.0.0.1:${ports.jobs}/readyz`, children);
    requestIds = await exercise(database, gatewayPort);
  });

  afterAll(async () => {
    if (process.env.DUMP_SPANS) printTraces(receiver.spans);
    await terminate(children);
    await receiver.stop();
  });

  /** The one trace whose gateway span is the named operation, once it holds a span matching every predicate. */
  async function traceOf(
    operation: string,
    expected: Record<string, (span: ReceivedSpan) => boolean>,
  ): Promise<ReceivedSpan[]> {
    return eventually(
      async () => {
        const root = receiver.spans.find((span) => span.service === 'hub-gateway' && span.name === operation);
        if (!root) return undefined;
        const trace = receiver.spans.filter((span) => span.traceId === root.traceId);
        return Object.values(expected).every((predicate) => trace.some(predicate)) ? trace : undefined;
      },
      20_000,
      `the spans of ${operation}`,
    ).catch((error: Error) => {
      const seen = receiver.spans.map((span) => `${span.traceId.slice(0, 8)} ${span.service} ${span.name}`).join('\n');
      const missing = Object.keys(expected).join(', ');
      throw new Error(`${error.message} (wanted: ${missing}); received ${receiver.spans.length} spans:\n${seen}`);
    });
  }

  it('a query touching two subgraphs is one trace: gateway, each subgraph as the child of its fetch, their SQL', async () => {
    const trace = await traceOf('query TracingProbe', {
      venuesServer: (span) => span.service === 'hub-venues' && span.kind === KIND.SERVER,
      projectsServer: (span) => span.service === 'hub-projects' && span.kind === KIND.SERVER,
      venuesSql: (span) => span.service === 'hub-venues' && isPgSpan(span),
      projectsSql: (span) => span.service === 'hub-projects' && isPgSpan(span),
    });
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    for (const subgraph of ['venues', 'projects']) {
      const server = trace.find((span) => span.service === `hub-${subgraph}` && span.kind === KIND.SERVER)!;
      // The subgraph continued the traceparent the gateway's fetch span injected.
      const parent = byId.get(server.parentSpanId);
      expect({ service: parent?.service, name: parent?.name, kind: parent?.kind }).toEqual({
        service: 'hub-gateway',
        name: `POST ${subgraph}`,
        kind: KIND.CLIENT,
      });
      // Its GraphQL operation span, under the server span, carries the planner's operation name.
      const operation = trace.find(
        (span) =>
          span.service === `hub-${subgraph}` && span.parentSpanId === server.spanId && span.name.startsWith('query'),
      );
      expect(operation?.attributes['graphql.operation.name']).toMatch(/^TracingProbe__/);
      // Every SQL span of the subgraph hangs under something of the same trace.
      for (const sql of trace.filter((span) => span.service === `hub-${subgraph}` && isPgSpan(span)))
        expect(byId.has(sql.parentSpanId)).toBe(true);
    }
    const gatewayRoot = trace.find((span) => span.service === 'hub-gateway' && span.name === 'query TracingProbe')!;
    // The request id of the log lines is on the operation spans of every process the request reached.
    expect(requestIds.query).toBeTruthy();
    expect(gatewayRoot.attributes).toMatchObject({
      'graphql.operation.name': 'TracingProbe',
      'graphql.operation.type': 'query',
      'hub.request_id': requestIds.query,
    });
    const operations = trace.filter(
      (span) => span.kind === KIND.INTERNAL && span.name.startsWith('query TracingProbe'),
    );
    expect(new Set(operations.map((span) => span.service))).toEqual(
      new Set(['hub-gateway', 'hub-venues', 'hub-projects']),
    );
    for (const operation of operations) expect(operation.attributes['hub.request_id']).toBe(requestIds.query);
    expect(trace.filter((span) => span.service === 'hub-gateway' && span.kind === KIND.SERVER)).toHaveLength(1);
  });

  it('a mutation that enqueues a job is one trace from the gateway through the SQL and the outbox to the job run', async () => {
    const trace = await traceOf('mutation TracingRun', {
      projectsSql: (span) => span.service === 'hub-projects' && isPgSpan(span),
      enqueue: (span) => span.service === 'hub-projects' && span.kind === KIND.PRODUCER,
      run: (span) => span.service === 'hub-jobs' && span.kind === KIND.CONSUMER,
    });
    const producer = trace.find((span) => span.kind === KIND.PRODUCER)!;
    const consumer = trace.find((span) => span.kind === KIND.CONSUMER)!;
    expect(producer.name).toBe('create reconciliation reconcile');
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.destination.name': 'reconciliation',
    });
    expect(consumer.name).toBe('process reconciliation reconcile');
    expect(consumer.parentSpanId).toBe(producer.spanId);
    expect(consumer.attributes['hub.request_id']).toBe(requestIds.mutation);
    // The job's own SQL (its report) is traced under its run.
    const jobSql = await eventually(
      async () =>
        receiver.spans.find(
          (span) => span.traceId === consumer.traceId && span.service === 'hub-jobs' && isPgSpan(span),
        ),
      10_000,
      'the job SQL span',
    );
    expect(jobSql.traceId).toBe(producer.traceId);
    // Probes and scrapes make no traces.
    expect(
      receiver.spans.filter((span) =>
        /healthz|readyz|metrics/.test(String(span.attributes['url.path'] ?? span.attributes['http.target'] ?? '')),
      ),
    ).toEqual([]);
  });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT unset', () => {
  it('every entry point runs with no OpenTelemetry SDK loaded, nothing patched and nothing sent', async () => {
    const receiver = new Receiver();
    await receiver.start();
    const database = await freshDatabase();
    const ports = await freePorts();
    // All five entry points in one process; on SIGUSR2 it reports what it loaded, from require.cache.
    const script = join(mkdtempSync(join(tmpdir(), 'hub-tracing-off-')), 'all-entries.js');
    writeFileSync(
      script,
      `const http = require('node:http');
const root = ${JSON.stringify(ROOT)};
process.on('SIGUSR2', () => {
  const api = require(root + '/node_modules/@opentelemetry/api');
  const span = api.trace.getTracer('probe').startSpan('probe');
  const report = { loaded: Object.keys(require.cache), httpPatched: Boolean(http.request.__wrapped || http.Server.prototype.emit.__wrapped), recording: span.isRecording() };
  span.end();
  process.stdout.write('TRACING-OFF-REPORT ' + JSON.stringify(report) + '\\n');
});
for (const entry of ['subgraphs/venues/main', 'subgraphs/experts/main', 'subgraphs/projects/main', 'jobs/main', 'gateway/main']) require(root + '/' + entry);
`,
    );
    const child: Child = (() => {
      // An SDK loaded by mistake would export to the standard traces variable: point it at the receiver to catch that.
      const env = {
        ...process.env,
        LOG_LEVEL: 'warn',
        APOLLO_TELEMETRY_DISABLED: '1',
        ...hubEnv(database, ports),
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
      };
      const spawned = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      spawned.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      spawned.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
        spawned.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
      );
      return { process: spawned, output: () => output, exited };
    })();
    try {
      await answering(`http://127.0.0.1:${ports.gateway}/readyz`, [child]);
      await answering(`http://127.0.0.1:${ports.jobs}/readyz`, [child]);
      await exercise(database, ports.gateway);
      // No waiting for an export interval: the report below shows that no exporter was ever loaded to send anything, and
      // every span the exercise could have made has ended by the time its answers came back.
      child.process.kill('SIGUSR2');
      const line = await eventually(
        async () =>
          child
            .output()
            .split('\n')
            .find((text) => text.startsWith('TRACING-OFF-REPORT ')),
        10_000,
        'the report',
      );
      const report = JSON.parse(line.slice('TRACING-OFF-REPORT '.length)) as {
        loaded: string[];
        httpPatched: boolean;
        recording: boolean;
      };
      // Apollo's gateway loads @opentelemetry/api and its own metrics packages regardless; the tracing SDK's are never loaded.
      const sdk = [
        'sdk-trace-node',
        'sdk-trace-base',
        'sdk-trace',
        'exporter-trace-otlp-http',
        'instrumentation',
        'instrumentation-http',
        'instrumentation-pg',
        'context-async-hooks',
      ].map((name) => join(ROOT, 'node_modules', '@opentelemetry', name) + '/');
      const hooks = [
        join(ROOT, 'node_modules', 'require-in-the-middle') + '/',
        join(ROOT, 'node_modules', 'import-in-the-middle') + '/',
      ];
      const loaded = report.loaded.filter((file) => [...sdk, ...hooks].some((prefix) => file.startsWith(prefix)));
      expect(report.loaded.some((file) => file.startsWith(join(ROOT, 'lib', 'otel.')))).toBe(true);
      expect({ loaded, httpPatched: report.httpPatched, recording: report.recording }).toEqual({
        loaded: [],
        httpPatched: false,
        recording: false,
      });
      expect(receiver.requests).toBe(0);
    } finally {
      await terminate([child]);
      await receiver.stop();
    }
  });
});
