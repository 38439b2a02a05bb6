// HTTP hardening in front of every gateway route: security headers on each response and a closed-by-default CORS policy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../lib/http';

export type Listener = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/** Headers every response carries: no MIME sniffing, no framing, no referrer, nothing loadable, nothing cached by default. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  // The gateway serves JSON only; should HTML ever be served, it may load nothing and be framed by nobody.
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  // Responses can carry sealed committee data once it is unsealed; no shared or browser cache may keep them.
  'cache-control': 'no-store',
};

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
// cache-control: a client may ask for a fresh answer instead of one from the response cache (gateway/response-cache.ts).
const ALLOWED_HEADERS = 'authorization, cache-control, content-type, apollo-require-preflight, x-apollo-operation-name';

/**
 * Wraps a listener with the security headers and CORS: a browser request from an origin not in `allowedOrigins`
 * (HUB_CORS_ORIGINS, empty by default) is refused with 403; an allowed origin gets its preflight answered and
 * `Access-Control-Allow-Origin` echoed. Requests without an Origin (servers, partner systems, curl) pass untouched.
 *
 * ```ts
 * createServer(secureListener(config.HUB_CORS_ORIGINS, listener));
 * ```
 */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * Every 401 the gateway answers (GraphQL, archives, the dashboard) is about the bearer token, so RFC 6750's challenge is
 * added here, in one place, whichever route wrote the status: `error="invalid_token"` when a token was sent.
 */
function challengeOn401(request: IncomingMessage, response: ServerResponse): void {
  const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
  response.writeHead = ((statusCode: number, ...rest: unknown[]) => {
    if (statusCode === 401 && !response.hasHeader('www-authenticate')) {
      response.setHeader(
        'www-authenticate',
        request.headers.authorization ? 'Bearer realm="hub", error="invalid_token"' : 'Bearer realm="hub"',
      );
    }
    return writeHead(statusCode, ...rest);
  }) as ServerResponse['writeHead'];
}

export function secureListener(allowedOrigins: readonly string[], listener: Listener): Listener {
  const allowed = new Set(allowedOrigins);
  return (request, response) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    challengeOn401(request, response);
    const origin = request.headers.origin;
    // A page the gateway serves itself (the schedule board) calls it from its own origin: that is not cross-origin.
    if (origin !== undefined && !sameOrigin(origin, request.headers.host)) {
      response.setHeader('vary', 'Origin');
      if (!allowed.has(origin)) {
        sendJson(response, 403, {
          errors: [
            {
              message: `origin ${origin} may not call this hub; an operator adds it to HUB_CORS_ORIGINS`,
              extensions: { code: 'FORBIDDEN' },
            },
          ],
        });
        return;
      }
      response.setHeader('access-control-allow-origin', origin);
      if (request.method === 'OPTIONS') {
        response.writeHead(204, {
          'access-control-allow-methods': ALLOWED_METHODS,
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '600',
        });
        response.end();
        return;
      }
    }
    return listener(request, response);
  };
}
