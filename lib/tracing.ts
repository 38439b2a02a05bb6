// One request id per client request, carried through every log line of the gateway, the subgraphs it calls and the
// jobs the request starts. The id lives in AsyncLocalStorage, so code logs as usual and the logger adds it.
// When OpenTelemetry is on (lib/otel.ts), a job's data also carries the trace context of the request that wrote it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { traceJobEnqueue, traceJobRun } from './otel';

export const REQUEST_ID_HEADER = 'x-request-id';
/** The key under which an outbox message carries the id of the request that wrote it; the worker strips it again. */
export const JOB_REQUEST_ID_KEY = '__requestId';
/** Likewise the W3C traceparent of the outbox message's producer span, present only while tracing is on. */
export const JOB_TRACEPARENT_KEY = '__traceparent';

const ACCEPTED_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const store = new AsyncLocalStorage<{ requestId: string }>();

/** The request id of the code running now, if it runs on behalf of a request or a job. */
export function currentRequestId(): string | undefined {
  return store.getStore()?.requestId;
}

/** Runs `work` with the request id in scope for every log line and outbox message it produces. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return store.run({ requestId }, work);
}

/** A caller's id when it is a sane token (a partner platform may pass its own), a fresh one otherwise. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTED_ID.test(value) ? value : randomUUID();
}

/**
 * What an outbox message adds to its job's data: the request id of the code running now, and with tracing on the
 * traceparent of a producer span for this job.
 */
export function jobTraceFields(queue: string, name: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const requestId = currentRequestId();
  if (requestId) fields[JOB_REQUEST_ID_KEY] = requestId;
  const traceparent = traceJobEnqueue(queue, name);
  if (traceparent) fields[JOB_TRACEPARENT_KEY] = traceparent;
  return fields;
}

type JobLike = { id?: string; name?: string; attemptsMade?: number; data: unknown };
type HandlerMap<J extends JobLike> = Partial<
  Record<string, Record<string, (job: J, ...rest: never[]) => Promise<unknown>>>
>;

/**
 * Wraps every job handler so that it runs under the request id its outbox message carried (or `job-<id>` when it
 * carried none), inside a consumer span when tracing is on, with those keys taken off the data the handler sees.
 */
export function withJobRequestIds<J extends JobLike, H extends HandlerMap<J>>(handlers: H): H {
  const wrapped: Record<string, Record<string, (job: J, ...rest: never[]) => Promise<unknown>>> = {};
  for (const [queue, byName] of Object.entries(handlers)) {
    if (!byName) continue;
    wrapped[queue] = Object.fromEntries(
      Object.entries(byName).map(([name, handler]) => [
        name,
        (job: J, ...rest: never[]) => {
          let requestId = `job-${job.id ?? 'unknown'}`;
          let traceparent: string | undefined;
          if (
            typeof job.data === 'object' &&
            job.data !== null &&
            (JOB_REQUEST_ID_KEY in job.data || JOB_TRACEPARENT_KEY in job.data)
          ) {
            const {
              [JOB_REQUEST_ID_KEY]: carried,
              [JOB_TRACEPARENT_KEY]: carriedTrace,
              ...data
            } = job.data as Record<string, unknown>;
            if (typeof carried === 'string') requestId = carried;
            if (typeof carriedTrace === 'string') traceparent = carriedTrace;
            job.data = data;
          }
          return withRequestId(requestId, () =>
            traceJobRun(
              { queue, name: job.name ?? name, id: job.id, attempt: job.attemptsMade, requestId },
              traceparent,
              () => handler(job, ...rest),
            ),
          );
        },
      ]),
    );
  }
  return wrapped as H;
}
