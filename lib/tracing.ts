// One request id per client request, carried through every log line of the gateway, the subgraphs it calls and the
// jobs the request starts. The id lives in AsyncLocalStorage, so code logs as usual and the logger adds it.
// (OpenTelemetry spans are not wired yet: see docs/runbook.md, "Tracing".)
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
/** The key under which an outbox message carries the id of the request that wrote it; the worker strips it again. */
export const JOB_REQUEST_ID_KEY = '__requestId';

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

type JobLike = { id?: string; data: unknown };
type HandlerMap<J extends JobLike> = Partial<Record<string, Record<string, (job: J, ...rest: never[]) => Promise<unknown>>>>;

/**
 * Wraps every job handler so that it runs under the request id its outbox message carried (or `job-<id>` when it
 * carried none), with that key taken off the data the handler sees.
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
          if (typeof job.data === 'object' && job.data !== null && JOB_REQUEST_ID_KEY in job.data) {
            const { [JOB_REQUEST_ID_KEY]: carried, ...data } = job.data as Record<string, unknown>;
            if (typeof carried === 'string') requestId = carried;
            job.data = data;
          }
          return withRequestId(requestId, () => handler(job, ...rest));
        },
      ]),
    );
  }
  return wrapped as H;
}
