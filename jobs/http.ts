// The jobs process's own small HTTP server: /healthz, /readyz (Redis and the outbox databases answer) and /metrics.
import type { Server } from 'node:http';
import { closeServer, createServer, listen, sendJson } from '../lib/http';
import { healthRoutes } from '../lib/health';
import { sendMetrics, type HubMetrics } from '../lib/metrics';

export interface JobsHttp {
  port: number;
  stop(): Promise<void>;
}

export async function startJobsHttp(options: {
  host: string;
  port: number;
  metrics: HubMetrics;
  ready: () => Promise<boolean>;
}): Promise<JobsHttp> {
  const health = healthRoutes('jobs', { redisAndOutboxes: options.ready });
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const route = `${request.method ?? 'GET'} ${path}`;
    const answer = async () => {
      const healthRoute = health[route];
      if (healthRoute) return healthRoute(request, response, '');
      if (route === 'GET /metrics') return sendMetrics(response, options.metrics);
      sendJson(response, 404, { error: `no route ${route}; the jobs process serves /healthz, /readyz and /metrics` });
    };
    answer().catch(() => {
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.end();
    });
  });
  const port = await listen(server, options.port, options.host);
  return { port, stop: () => closeServer(server) };
}
