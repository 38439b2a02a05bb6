// A small node:http front for Apollo servers: /graphql, plus the plain routes each process needs (health, exports).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type BaseContext } from '@apollo/server';
import { traceGraphqlOperation } from './otel';
import { collectingChanges } from './change-notes';
import { currentRequestId, REQUEST_ID_HEADER, requestIdFrom, withRequestId } from './tracing';

export type Route = (request: IncomingMessage, response: ServerResponse, body: string) => Promise<void> | void;

export interface HttpOptions<C extends BaseContext> {
  apollo: ApolloServer<C>;
  /** Builds the per-request context, or throws a GraphQL error that becomes a refusal; `operations` is a batch's length, else 1. */
  context(request: IncomingMessage, body: string, operations: number): Promise<C>;
  /** Extra routes by "METHOD /path"; a route may also match a prefix ending in '*'. */
  routes?: Record<string, Route>;
  maxBodyBytes?: number;
  /** Operations allowed in one batched request (a JSON array); more are refused before any runs. */
  maxBatch?: number;
}

export class BodyTooLarge extends Error {}

export function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (declared > maxBytes) {
      reject(new BodyTooLarge(`request body larger than ${maxBytes} bytes (limit HUB_MAX_BODY_BYTES = ${maxBytes})`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new BodyTooLarge(`request body larger than ${maxBytes} bytes (limit HUB_MAX_BODY_BYTES = ${maxBytes})`));
        // Stop reading; the listener answers 413 and then closes the connection (destroying now would lose the answer).
        request.pause();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export function sendJson(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

function findRoute(routes: Record<string, Route>, method: string, path: string): Route | undefined {
  const exact = routes[`${method} ${path}`];
  if (exact) return exact;
  for (const [key, route] of Object.entries(routes)) {
    const [routeMethod, routePath] = key.split(' ');
    if (routeMethod === method && routePath.endsWith('*') && path.startsWith(routePath.slice(0, -1))) return route;
  }
  return undefined;
}

/** The request listener: GraphQL on /graphql, the given routes elsewhere, 404 otherwise. */
export function graphqlListener<C extends BaseContext>(options: HttpOptions<C>) {
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const routes = options.routes ?? {};
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const method = request.method ?? 'GET';
    try {
      const body = method === 'GET' || method === 'HEAD' ? '' : await readBody(request, maxBodyBytes);
      const route = findRoute(routes, method, url.pathname);
      if (route) {
        await route(request, response, body);
        return;
      }
      if (url.pathname !== '/graphql') {
        sendJson(response, 404, { error: `no route ${method} ${url.pathname}; GraphQL is served at POST /graphql` });
        return;
      }
      const headers = new HeaderMap();
      for (const [key, value] of Object.entries(request.headers)) {
        if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
      }
      let parsedBody: unknown = undefined;
      const mediaType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (method === 'POST' && mediaType === 'application/graphql') {
        // The body is the document itself (GraphQL's own media type); a preflight guards it like JSON.
        parsedBody = { query: body };
      } else if (method === 'POST' && mediaType !== 'application/json') {
        const message = `send the request as content-type: application/json (or application/graphql), not ${mediaType || 'without a content type'}`;
        sendJson(response, 415, { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
        return;
      } else if (body) {
        try {
          parsedBody = JSON.parse(body);
        } catch {
          sendJson(response, 400, {
            errors: [{ message: 'the request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
          });
          return;
        }
      }
      if (Array.isArray(parsedBody) && options.maxBatch !== undefined && parsedBody.length > options.maxBatch) {
        const message = `the batch holds ${parsedBody.length} operations; send at most ${options.maxBatch} per request (limit HUB_MAX_BATCH = ${options.maxBatch})`;
        sendJson(response, 400, {
          errors: [{ message, extensions: { code: 'BAD_USER_INPUT', limit: 'HUB_MAX_BATCH', max: options.maxBatch } }],
        });
        return;
      }
      // Each request collects what its writes note they changed (lib/change-notes.ts).
      const result = await collectingChanges(() =>
        traceGraphqlOperation(parsedBody, currentRequestId(), () =>
          options.apollo.executeHTTPGraphQLRequest({
            httpGraphQLRequest: { method: method.toUpperCase(), headers, search: url.search, body: parsedBody },
            context: () => options.context(request, body, Array.isArray(parsedBody) ? parsedBody.length : 1),
          }),
        ),
      );
      for (const [key, value] of result.headers) response.setHeader(key, value);
      response.statusCode = result.status ?? 200;
      if (result.body.kind === 'complete') {
        response.end(result.body.string);
      } else {
        for await (const chunk of result.body.asyncIterator) response.write(chunk);
        response.end();
      }
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        response.on('finish', () => request.destroy());
        sendJson(
          response,
          413,
          {
            errors: [
              {
                message: `${error.message}; send a smaller request`,
                extensions: { code: 'BAD_REQUEST', limit: 'HUB_MAX_BODY_BYTES' },
              },
            ],
          },
          { connection: 'close' },
        );
        return;
      }
      if (!response.headersSent)
        sendJson(response, 500, {
          errors: [{ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        });
      else response.end();
    }
  };
  // Everything the request does, here and in the subgraphs it reaches, logs under one id; the client sees it too.
  return (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = requestIdFrom(request.headers[REQUEST_ID_HEADER]);
    response.setHeader(REQUEST_ID_HEADER, requestId);
    return withRequestId(requestId, () => handle(request, response));
  };
}

/** Listens and resolves with the bound port (port 0 picks a free one). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    // A keep-alive connection whose request was in flight goes idle only once answered; without this sweep it would hold
    // the close open for keepAliveTimeout (65 s), past the shutdown bound.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    sweep.unref();
    server.once('close', () => clearInterval(sweep));
  });
}

export { createServer };
