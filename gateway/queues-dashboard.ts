// The queue dashboard at /queues: Bull Board (@bull-board/api with its express adapter) over the hub's queues.
// Its UI is served from node_modules (the one stylesheet link to a font CDN is taken out of the page, and the page's
// content security policy lets it load nothing from elsewhere). Only a PROVINCIAL_ADMIN may see it, by bearer token or
// by a token pasted once into the login form (kept in an HttpOnly, SameSite=Strict cookie scoped to /queues).
// Job data, return values, logs and scheduler templates are never shown: draw and invitation jobs carry seat and
// expert ids, which together would unseal a committee. Nor can a job be added or its data edited by hand: the hub's
// jobs come from the outbox.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { HubConfig } from '../lib/config';
import { readBody, sendJson } from '../lib/http';
import { QUEUE_NAMES } from '../lib/queue-names';
import { openRedis } from '../lib/redis';
import { verifyBearer } from './tokens';

export const QUEUES_PATH = '/queues';
const COOKIE = 'hub_queues_token';
/** What the board shows in place of a job's data, return value or a scheduler's template data. */
export const HIDDEN = '[hidden]';

export interface QueuesDashboard {
  /** Whether a request for this path is the dashboard's: the gateway hands it over before reading any body. */
  owns(pathname: string): boolean;
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
  close(): Promise<void>;
}

/** Bull Board's adapter for one BullMQ queue, with everything that could carry job data redacted. */
class RedactingAdapter extends BullMQAdapter {
  constructor(queue: Queue) {
    super(queue, { allowRetries: true });
    this.setFormatter('data', () => HIDDEN);
    this.setFormatter('returnValue', () => HIDDEN);
  }

  override async getJobLogs(): Promise<string[]> {
    return [];
  }

  override async getJobSchedulers(): ReturnType<BullMQAdapter['getJobSchedulers']> {
    const schedulers = await super.getJobSchedulers();
    return schedulers.map((scheduler) =>
      scheduler.template ? { ...scheduler, template: { ...scheduler.template, data: HIDDEN } } : scheduler,
    );
  }
}

/** Writes of job data the dashboard refuses, by method and a pattern of the path below /queues. */
const REFUSED_WRITES: readonly { method: string; path: RegExp; reason: string }[] = [
  {
    method: 'POST',
    path: /^\/api\/queues\/[^/]+\/add$/,
    reason: 'jobs are added by the hub through its outbox, not by hand',
  },
  {
    method: 'PATCH',
    path: /^\/api\/queues\/[^/]+\/[^/]+\/update-data$/,
    reason: "a job's data is not shown and cannot be edited here",
  },
  // Whole-queue removals would lose work the hub relayed from its outboxes (the outbox row is already marked sent).
  { method: 'PUT', path: /^\/api\/queues\/[^/]+\/(empty|obliterate)$/, reason: 'a queue is never emptied here' },
  { method: 'PUT', path: /^\/api\/queues\/[^/]+\/clean\/[^/]+$/, reason: 'jobs are not removed in bulk here' },
  // The schedulers are the hub's own (reconciliation, hold sweeps): its configuration sets them, not this page.
  {
    method: 'PUT',
    path: /^\/api\/queues\/[^/]+\/job-schedulers\/[^/]+\/remove$/,
    reason: "the hub's schedulers are set by its configuration",
  },
  {
    method: 'PATCH',
    path: /^\/api\/queues\/[^/]+\/job-schedulers\/[^/]+$/,
    reason: "the hub's schedulers are set by its configuration",
  },
];

// The board's own scripts, styles, images and API calls, from this origin only.
const BOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; manifest-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

// With the gateway's `no-referrer`, a browser sends `Origin: null` on the login form's POST and the board's PUTs, which
// the gateway's CORS check refuses; `same-origin` sends the page's own origin and still no referrer to another site.
const SAME_ORIGIN_REFERRER = 'same-origin';

type Next = (error?: unknown) => void;
type RenderFile = (file: string, options: object, done: (error: Error | null, html?: string) => void) => void;
/** The part of the express application Bull Board's adapter builds that is used here. */
interface BoardApp {
  (request: IncomingMessage, response: ServerResponse, next: Next): void;
  disable(setting: string): void;
  engine(extension: string, render: RenderFile): void;
  engines: Record<string, RenderFile | undefined>;
}

/** The page Bull Board renders, without the <link> elements that would load from another host (a font CDN). */
export function withoutRemoteLinks(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi, '');
}

function openBoard(config: HubConfig): { app: BoardApp; queues: Queue[]; connection: Redis } {
  const connection = openRedis(config.REDIS_URL);
  const queues = QUEUE_NAMES.map((name) => new Queue(name, { connection, prefix: config.HUB_QUEUE_PREFIX }));
  const serverAdapter = new ExpressAdapter().setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: queues.map((queue) => new RedactingAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Hub queues', hideDocsLink: true } },
  });
  const app = serverAdapter.getRouter() as BoardApp;
  app.disable('x-powered-by');
  const render = app.engines['.ejs'];
  if (!render) throw new Error('Bull Board registered no ejs view engine; check the @bull-board/express version');
  app.engine('ejs', (file, options, done) =>
    render(file, options, (error, html) => done(error, html === undefined ? html : withoutRemoteLinks(html))),
  );
  return { app, queues, connection };
}

function cookieToken(request: IncomingMessage): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export function createQueuesDashboard(config: HubConfig): QueuesDashboard {
  // Redis is reached only once an admin opens the dashboard, so the gateway starts and serves GraphQL without it.
  let board: ReturnType<typeof openBoard> | null = null;

  /** The admin's check: a bearer header, else the cookie; answers false after sending the refusal. */
  const admitted = async (request: IncomingMessage, response: ServerResponse, asPage: boolean): Promise<boolean> => {
    const token = cookieToken(request);
    const header = request.headers.authorization ?? (token ? `Bearer ${token}` : undefined);
    try {
      const identity = await verifyBearer(config, header);
      if (identity.role === 'PROVINCIAL_ADMIN') return true;
      sendJson(response, 403, { error: 'the queue dashboard is for PROVINCIAL_ADMIN only; use an admin token' });
      return false;
    } catch {
      if (asPage) sendHtml(response, 401, LOGIN_PAGE);
      else
        sendJson(response, 401, {
          error: 'send an admin token as Authorization: Bearer <token>, or log in at /queues',
        });
      return false;
    }
  };

  const login = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const token = new URLSearchParams(await readBody(request, 16_384)).get('token')?.trim() ?? '';
    try {
      const identity = await verifyBearer(config, `Bearer ${token}`);
      if (identity.role !== 'PROVINCIAL_ADMIN') throw new Error('not an admin');
    } catch {
      sendHtml(
        response,
        401,
        LOGIN_PAGE.replace('<!--error-->', '<p class="error">That is not a valid PROVINCIAL_ADMIN token.</p>'),
      );
      return;
    }
    const secure = config.HUB_ENV === 'production' ? '; Secure' : '';
    response.writeHead(303, {
      location: QUEUES_PATH,
      'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; Path=${QUEUES_PATH}; HttpOnly; SameSite=Strict${secure}`,
    });
    response.end();
  };

  /** A change through the API: JSON or no body at all, which a cross-site form cannot send; and no job data written. */
  const refusedChange = (request: IncomingMessage, response: ServerResponse, path: string): boolean => {
    const method = request.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') return false;
    const type = request.headers['content-type'];
    if (type !== undefined && !type.toLowerCase().startsWith('application/json')) {
      sendJson(response, 415, { error: 'send application/json, or no body' });
      return true;
    }
    const refused = REFUSED_WRITES.find((write) => write.method === method && write.path.test(path));
    if (refused) sendJson(response, 403, { error: `${refused.reason}; retry, remove or promote the job instead` });
    return refused !== undefined;
  };

  return {
    owns: (pathname) => pathname === QUEUES_PATH || pathname.startsWith(`${QUEUES_PATH}/`),
    async handle(request, response) {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const path = url.pathname.slice(QUEUES_PATH.length) || '/';
      try {
        if (request.method === 'POST' && path === '/login') return await login(request, response);
        const api = path.startsWith('/api/');
        if (!(await admitted(request, response, !api))) return;
        if (api && refusedChange(request, response, path)) return;
        board ??= openBoard(config);
        response.setHeader('content-security-policy', BOARD_CSP);
        response.setHeader('referrer-policy', SAME_ORIGIN_REFERRER);
        // The board is mounted at /queues: it sees the path below it.
        request.url = path + url.search;
        const { app } = board;
        await new Promise<void>((resolve, reject) => {
          response.once('finish', resolve);
          response.once('close', resolve);
          app(request, response, (error) =>
            error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
          );
        });
        if (!response.headersSent)
          sendJson(response, 404, { error: `no page ${url.pathname} on the queue dashboard; open ${QUEUES_PATH}` });
      } catch (error) {
        if (!response.headersSent)
          sendJson(response, 500, {
            error: `the queue dashboard failed: ${error instanceof Error ? error.message : String(error)}`,
          });
        else response.end();
      }
    },
    async close() {
      if (!board) return;
      await Promise.all(board.queues.map((queue) => queue.close()));
      board.connection.disconnect();
      board = null;
    },
  };
}

function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    'cache-control': 'no-store',
    'referrer-policy': SAME_ORIGIN_REFERRER,
  });
  response.end(html);
}

const LOGIN_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Hub queues</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}.error{color:#b00}</style></head><body>
<h1>Hub queues</h1><p>Paste a PROVINCIAL_ADMIN token (<code>npm run --silent token -- --role PROVINCIAL_ADMIN --platform 410000</code>).</p>
<!--error--><form method="post" action="/queues/login"><input name="token" size="80" autocomplete="off"> <button>Open</button></form></body></html>`;
