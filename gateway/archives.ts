// Archive exports over plain HTTP: GET /archives/:projectId.json (the bundle) and GET /archives/:projectId.ocds.json
// (the OCDS release package). The gateway only verifies the bearer token and runs the projects subgraph's query with
// the caller's identity, so who may read what stays decided in the subgraph. It also serves the hub's OCDS extension
// (GET /ocds/extension/…), which the packages list.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ApolloServer } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { codeOf } from '../lib/errors';
import { sendJson, type Route } from '../lib/http';
import type { Identity } from '../lib/identity';
import { OCDS_EXTENSION_PATH } from '../subgraphs/projects';
import type { IdentityRateLimiter } from './rate-limit';

const EXPORTS = {
  bundle: {
    suffix: '.json',
    query: 'query ArchiveBundle($projectId: ID!) { archive: archiveBundle(projectId: $projectId) }',
  },
  ocds: {
    suffix: '.ocds.json',
    query: 'query ArchiveReleasePackage($projectId: ID!) { archive: archiveReleasePackage(projectId: $projectId) }',
  },
} as const;

// The extension's files live in <root>/schema/ocds-extension, beside the SDL, whether run from source or from dist/.
const EXTENSION_DIR = join(
  __dirname,
  ...(__dirname.split(/[\\/]/).includes('dist') ? ['..', '..'] : ['..']),
  'schema',
  'ocds-extension',
);

const STATUS_BY_CODE: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  SEALED: 403,
};

/** Which export a path asks for, and of which project; undefined when the path is not an export. */
export function parseArchivePath(pathname: string): { kind: keyof typeof EXPORTS; projectId: string } | undefined {
  const match = /^\/archives\/([^/]+)$/.exec(pathname);
  if (!match) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
  const kind = name.endsWith(EXPORTS.ocds.suffix)
    ? 'ocds'
    : name.endsWith(EXPORTS.bundle.suffix)
      ? 'bundle'
      : undefined;
  if (!kind) return undefined;
  const projectId = name.slice(0, -EXPORTS[kind].suffix.length);
  return projectId ? { kind, projectId } : undefined;
}

function refusal(response: ServerResponse, errors: readonly GraphQLFormattedError[]): void {
  const code = String(errors[0]?.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  sendJson(response, STATUS_BY_CODE[code] ?? 500, {
    errors: errors.map((error) => ({ message: error.message, extensions: { code: error.extensions?.code } })),
  });
}

/**
 * The export routes, to spread into the gateway's routes.
 *
 * ```ts
 * routes: { 'GET /healthz': …, ...archiveRoutes(apollo, { authenticate, rateLimiter }) }
 * ```
 */
export function archiveRoutes(
  apollo: ApolloServer<{ identity: Identity }>,
  guard: { authenticate(authorization: string | undefined): Promise<Identity>; rateLimiter: IdentityRateLimiter },
): Record<string, Route> {
  const exportArchive: Route = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const target = parseArchivePath(url.pathname);
    if (!target) {
      sendJson(response, 404, {
        error: 'archives are exported at /archives/<projectId>.json and /archives/<projectId>.ocds.json',
      });
      return;
    }
    let identity: Identity;
    try {
      // The same verification as /graphql: token, lifetime, platform.
      identity = await guard.authenticate(request.headers.authorization);
    } catch (error) {
      sendJson(response, 401, {
        errors: [
          {
            message: error instanceof Error ? error.message : 'unauthenticated',
            extensions: { code: codeOf(error) ?? 'UNAUTHENTICATED' },
          },
        ],
      });
      return;
    }
    // An export counts against the caller's budget like a /graphql request: the same limiter, the same 429.
    try {
      await guard.rateLimiter.consume(identity);
    } catch (error) {
      if (!(error instanceof GraphQLError) || error.extensions.code !== 'RATE_LIMITED') throw error;
      const { http: _http, ...extensions } = error.extensions;
      sendJson(
        response,
        429,
        { errors: [{ message: error.message, extensions }] },
        { 'retry-after': String(extensions.retryAfter) },
      );
      return;
    }
    // The OCDS package's uri comes from HUB_PUBLIC_URL in the projects subgraph, never from this request's Host header.
    const result = await apollo.executeOperation(
      { query: EXPORTS[target.kind].query, variables: { projectId: target.projectId } },
      { contextValue: { identity } },
    );
    if (result.body.kind !== 'single') throw new Error('an archive export answered incrementally');
    const { data, errors } = result.body.singleResult;
    const text = (data as { archive?: string | null } | null | undefined)?.archive;
    if (errors?.length || typeof text !== 'string') {
      refusal(
        response,
        errors ?? [{ message: 'the archive is not available', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
      );
      return;
    }
    const file = `${target.projectId}${EXPORTS[target.kind].suffix}`.replace(/[^A-Za-z0-9_.-]/g, '_');
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'content-disposition': `attachment; filename="${file}"`,
      'cache-control': 'no-store',
    });
    response.end(text);
  };
  return { 'GET /archives/*': exportArchive, [`GET ${OCDS_EXTENSION_PATH}*`]: ocdsExtensionRoute() };
}

/**
 * The hub's OCDS extension (schema/ocds-extension): extension.json and the files it lists, public schema text that
 * any consumer of a package fetches from the package's `extensions` URL, so no token is asked for.
 */
export function ocdsExtensionRoute(): Route {
  const read = (file: string) => readFileSync(join(EXTENSION_DIR, file));
  const manifest = read('extension.json');
  const listed = JSON.parse(manifest.toString('utf8')) as { schemas?: string[]; codelists?: string[] };
  const files = new Map<string, { body: Buffer; type: string }>([
    ['extension.json', { body: manifest, type: 'application/json; charset=utf-8' }],
  ]);
  for (const schema of listed.schemas ?? [])
    files.set(schema, { body: read(schema), type: 'application/json; charset=utf-8' });
  for (const codelist of listed.codelists ?? [])
    files.set(`codelists/${codelist}`, { body: read(`codelists/${codelist}`), type: 'text/csv; charset=utf-8' });
  return (request: IncomingMessage, response: ServerResponse) => {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    let name: string;
    try {
      name = decodeURIComponent(pathname.slice(OCDS_EXTENSION_PATH.length));
    } catch {
      name = '';
    }
    const file = files.get(name);
    if (!file) {
      sendJson(response, 404, {
        error: `the OCDS extension has ${[...files.keys()].map((known) => `${OCDS_EXTENSION_PATH}${known}`).join(', ')}`,
      });
      return;
    }
    response.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'public, max-age=3600',
    });
    response.end(file.body);
  };
}
