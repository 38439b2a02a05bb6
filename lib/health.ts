// Liveness and readiness, written once for every process (gateway, subgraphs, jobs): GET /healthz and GET /readyz.
import { sendJson, type Route } from './http';

/** What a process must reach to serve: each named check answers true when that dependency answers. */
export type ReadinessChecks = Record<string, () => Promise<boolean>>;

/**
 * The one payload of both endpoints. /healthz: `{ status: 'ok', service }` (the process runs); /readyz:
 * `{ status: 'ready' | 'unready', service, checks }` with 200 when every check passed, else 503.
 */
export interface HealthPayload {
  status: 'ok' | 'ready' | 'unready';
  service: string;
  checks?: Record<string, boolean>;
}

export async function readiness(service: string, checks: ReadinessChecks): Promise<HealthPayload> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const),
  );
  const ready = results.every(([, passed]) => passed);
  return { status: ready ? 'ready' : 'unready', service, checks: Object.fromEntries(results) };
}

/** The two routes, by "METHOD /path", for a process named `service` that is ready when every check passes. */
export function healthRoutes(service: string, checks: ReadinessChecks): Record<string, Route> {
  return {
    'GET /healthz': (_request, response) => sendJson(response, 200, { status: 'ok', service } satisfies HealthPayload),
    'GET /readyz': async (_request, response) => {
      const payload = await readiness(service, checks);
      sendJson(response, payload.status === 'ready' ? 200 : 503, payload);
    },
  };
}

/** A readiness check on another process: its /readyz answers 2xx within the timeout. */
export function answersReadyz(baseUrl: string, timeoutMs = 2000): () => Promise<boolean> {
  return async () => {
    const response = await fetch(new URL('/readyz', baseUrl), { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  };
}
