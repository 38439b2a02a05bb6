// The queue dashboard at /queues: counts per queue and state, the failed jobs, and retry/discard buttons.
// Our own small page rather than Bull Board: Bull Board's server adapters need express, koa, fastify or hapi and a
// body the adapter parses itself, while the gateway is plain node:http that has read the body already. Everything is
// served from this file (no CDN); only a PROVINCIAL_ADMIN may see it, by bearer token or by a token pasted once into
// the login form (kept in an HttpOnly, SameSite=Strict cookie scoped to /queues).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HubConfig } from '../lib/config';
import type { Route } from '../lib/http';
import { sendJson } from '../lib/http';
import { openRedis } from '../lib/redis';
import { QUEUE_NAMES, isQueueName, type QueueName } from '../jobs/queues';
import { verifyBearer } from './tokens';

const COOKIE = 'hub_queues_token';
const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
const PAGE_SIZE = 50;

export interface QueuesDashboard {
  routes: Record<string, Route>;
  close(): Promise<void>;
}

function cookieToken(request: IncomingMessage): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export function createQueuesDashboard(config: HubConfig): QueuesDashboard {
  // Redis is reached only once someone opens the dashboard, so the gateway starts and serves GraphQL without it.
  let connection: Redis | null = null;
  let queues: Record<QueueName, Queue> | null = null;
  const open = (): Record<QueueName, Queue> => {
    if (!queues) {
      connection = openRedis(config.REDIS_URL);
      const shared = connection;
      queues = Object.fromEntries(QUEUE_NAMES.map((name) => [name, new Queue(name, { connection: shared, prefix: config.HUB_QUEUE_PREFIX })])) as Record<QueueName, Queue>;
    }
    return queues;
  };

  /** The admin's check: a bearer header, else the cookie; answers false after sending the refusal. */
  const admitted = async (request: IncomingMessage, response: ServerResponse, asPage: boolean): Promise<boolean> => {
    const header = request.headers.authorization ?? (cookieToken(request) ? `Bearer ${cookieToken(request)}` : undefined);
    try {
      const identity = await verifyBearer(config, header);
      if (identity.role === 'PROVINCIAL_ADMIN') return true;
      sendJson(response, 403, { error: 'the queue dashboard is for PROVINCIAL_ADMIN only; use an admin token' });
      return false;
    } catch {
      if (asPage) sendHtml(response, 401, LOGIN_PAGE);
      else sendJson(response, 401, { error: 'send an admin token as Authorization: Bearer <token>, or log in at /queues' });
      return false;
    }
  };

  const jobOf = async (body: string, response: ServerResponse) => {
    let parsed: { queue?: unknown; jobId?: unknown };
    try {
      parsed = JSON.parse(body) as { queue?: unknown; jobId?: unknown };
    } catch {
      sendJson(response, 400, { error: 'send JSON {"queue": "...", "jobId": "..."}' });
      return null;
    }
    if (typeof parsed.queue !== 'string' || !isQueueName(parsed.queue) || typeof parsed.jobId !== 'string') {
      sendJson(response, 400, { error: `queue must be one of ${QUEUE_NAMES.join(', ')} and jobId a string` });
      return null;
    }
    const job = await open()[parsed.queue].getJob(parsed.jobId);
    if (!job) {
      sendJson(response, 404, { error: `job ${parsed.jobId} is not in ${parsed.queue}; reload the list` });
      return null;
    }
    return job;
  };

  // Cross-site forms cannot send JSON without a preflight, and the cookie is SameSite=Strict: together no CSRF.
  const isJson = (request: IncomingMessage) => (request.headers['content-type'] ?? '').startsWith('application/json');

  const routes: Record<string, Route> = {
    'GET /queues': async (request, response) => {
      if (await admitted(request, response, true)) sendHtml(response, 200, DASHBOARD_PAGE);
    },
    'GET /queues/app.js': (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      response.end(DASHBOARD_SCRIPT);
    },
    'POST /queues/login': async (_request, response, body) => {
      const token = new URLSearchParams(body).get('token')?.trim() ?? '';
      try {
        const identity = await verifyBearer(config, `Bearer ${token}`);
        if (identity.role !== 'PROVINCIAL_ADMIN') throw new Error('not an admin');
      } catch {
        sendHtml(response, 401, LOGIN_PAGE.replace('<!--error-->', '<p class="error">That is not a valid PROVINCIAL_ADMIN token.</p>'));
        return;
      }
      const secure = config.HUB_ENV === 'production' ? '; Secure' : '';
      response.writeHead(303, { location: '/queues', 'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; Path=/queues; HttpOnly; SameSite=Strict${secure}` });
      response.end();
    },
    'GET /queues/api/queues': async (request, response) => {
      if (!(await admitted(request, response, false))) return;
      const counts = await Promise.all(QUEUE_NAMES.map(async (name) => ({ name, counts: await open()[name].getJobCounts(...STATES) })));
      sendJson(response, 200, { queues: counts });
    },
    'GET /queues/api/failed': async (request, response) => {
      if (!(await admitted(request, response, false))) return;
      const url = new URL(request.url ?? '/', 'http://localhost');
      const queue = url.searchParams.get('queue') ?? '';
      if (!isQueueName(queue)) return sendJson(response, 400, { error: `queue must be one of ${QUEUE_NAMES.join(', ')}` });
      const start = Math.max(0, Number(url.searchParams.get('start') ?? 0) || 0);
      const jobs = await open()[queue].getJobs(['failed'], start, start + PAGE_SIZE - 1);
      sendJson(response, 200, {
        queue,
        // Job data is not shown: draw and invitation jobs carry seat and expert ids, which together would unseal a committee.
        jobs: jobs.map((job) => ({ id: job.id, name: job.name, attemptsMade: job.attemptsMade, failedReason: job.failedReason, finishedOn: job.finishedOn })),
      });
    },
    'POST /queues/api/retry': async (request, response, body) => {
      if (!(await admitted(request, response, false))) return;
      if (!isJson(request)) return sendJson(response, 415, { error: 'send application/json' });
      const job = await jobOf(body, response);
      if (!job) return;
      await job.retry('failed');
      sendJson(response, 200, { retried: job.id });
    },
    'POST /queues/api/discard': async (request, response, body) => {
      if (!(await admitted(request, response, false))) return;
      if (!isJson(request)) return sendJson(response, 415, { error: 'send application/json' });
      const job = await jobOf(body, response);
      if (!job) return;
      await job.remove();
      sendJson(response, 200, { discarded: job.id });
    },
  };
  return {
    routes,
    async close() {
      if (queues) await Promise.all(Object.values(queues).map((queue) => queue.close()));
      connection?.disconnect();
    },
  };
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'",
    'cache-control': 'no-store',
  });
  response.end(html);
}

const STYLE = `<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}.error{color:#b00}pre{margin:0;max-width:40em;white-space:pre-wrap}button{margin-right:4px}</style>`;

const LOGIN_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Hub queues</title>${STYLE}</head><body>
<h1>Hub queues</h1><p>Paste a PROVINCIAL_ADMIN token (<code>npm run --silent token -- --role PROVINCIAL_ADMIN --platform 410000</code>).</p>
<!--error--><form method="post" action="/queues/login"><input name="token" size="80" autocomplete="off"> <button>Open</button></form></body></html>`;

const DASHBOARD_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Hub queues</title>${STYLE}</head><body>
<h1>Hub queues</h1><p>Counts refresh every 5 s. A failed job has used all its attempts: retry it once its cause is fixed, or discard it.</p>
<table id="counts"></table><h2>Failed jobs in <select id="queue"></select></h2><div id="failed"></div><p id="message" class="error"></p>
<script src="/queues/app.js"></script></body></html>`;

const DASHBOARD_SCRIPT = `
const queues = ${JSON.stringify(QUEUE_NAMES)};
const states = ${JSON.stringify(STATES)};
const select = document.getElementById('queue');
for (const name of queues) { const option = document.createElement('option'); option.textContent = name; select.appendChild(option); }
const cell = (tag, text) => { const element = document.createElement(tag); element.textContent = text; return element; };
async function call(path, body) {
  const response = await fetch(path, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {});
  const value = await response.json();
  if (!response.ok) throw new Error(value.error || response.status);
  return value;
}
async function showCounts() {
  const { queues: rows } = await call('/queues/api/queues');
  const table = document.getElementById('counts'); table.replaceChildren();
  const head = document.createElement('tr'); head.appendChild(cell('th', 'queue')); for (const state of states) head.appendChild(cell('th', state)); table.appendChild(head);
  for (const row of rows) { const line = document.createElement('tr'); line.appendChild(cell('td', row.name)); for (const state of states) line.appendChild(cell('td', String(row.counts[state] ?? 0))); table.appendChild(line); }
}
async function showFailed() {
  const { jobs } = await call('/queues/api/failed?queue=' + encodeURIComponent(select.value));
  const target = document.getElementById('failed'); target.replaceChildren();
  if (jobs.length === 0) { target.appendChild(cell('p', 'No failed jobs.')); return; }
  const table = document.createElement('table');
  const head = document.createElement('tr'); for (const title of ['id', 'name', 'attempts', 'reason', '']) head.appendChild(cell('th', title)); table.appendChild(head);
  for (const job of jobs) {
    const line = document.createElement('tr');
    line.appendChild(cell('td', job.id)); line.appendChild(cell('td', job.name)); line.appendChild(cell('td', String(job.attemptsMade)));
    line.appendChild(cell('td', job.failedReason || ''));
    const actions = document.createElement('td');
    for (const action of ['retry', 'discard']) {
      const button = cell('button', action);
      button.onclick = () => call('/queues/api/' + action, { queue: select.value, jobId: job.id }).then(refresh, (error) => { document.getElementById('message').textContent = error.message; });
      actions.appendChild(button);
    }
    line.appendChild(actions); table.appendChild(line);
  }
  target.appendChild(table);
}
function refresh() { document.getElementById('message').textContent = ''; return Promise.all([showCounts(), showFailed()]).catch((error) => { document.getElementById('message').textContent = error.message; }); }
select.onchange = refresh; refresh(); setInterval(showCounts, 5000);
`;
