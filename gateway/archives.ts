// Archive exports over plain HTTP: GET /archives/:projectId.json (the bundle) and GET /archives/:projectId.ocds.json
// (the OCDS release package). The gateway only verifies the bearer token and runs the projects subgraph's query with
// the caller's identity, so who may read what stays decided in the subgraph.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { HubConfig } from '../lib/config';
import { codeOf } from '../lib/errors';
import { sendJson, type Route } from '../lib/http';
import type { Identity } from '../lib/identity';
import { verifyBearer } from './tokens';

const EXPORTS = {
  bundle: { suffix: '.json', query: 'query ArchiveBundle($projectId: ID!) { archive: archiveBundle(projectId: $projectId) }' },
  ocds: { suffix: '.ocds.json', query: 'query ArchiveReleasePackage($projectId: ID!, $uri: String) { archive: archiveReleasePackage(projectId: $projectId, uri: $uri) }' },
} as const;

const STATUS_BY_CODE: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400, CONFLICT: 409, SEALED: 403 };

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
  const kind = name.endsWith(EXPORTS.ocds.suffix) ? 'ocds' : name.endsWith(EXPORTS.bundle.suffix) ? 'bundle' : undefined;
  if (!kind) return undefined;
  const projectId = name.slice(0, -EXPORTS[kind].suffix.length);
  return projectId ? { kind, projectId } : undefined;
}

function refusal(response: ServerResponse, errors: readonly GraphQLFormattedError[]): void {
  const code = String(errors[0]?.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
  sendJson(response, STATUS_BY_CODE[code] ?? 500, { errors: errors.map((error) => ({ message: error.message, extensions: { code: error.extensions?.code } })) });
}

/**
 * The export routes, to spread into the gateway's routes.
 *
 * ```ts
 * routes: { 'GET /healthz': …, ...archiveRoutes(config, apollo) }
 * ```
 */
export function archiveRoutes(config: HubConfig, apollo: ApolloServer<{ identity: Identity }>): Record<string, Route> {
  const exportArchive: Route = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const target = parseArchivePath(url.pathname);
    if (!target) {
      sendJson(response, 404, { error: 'archives are exported at /archives/<projectId>.json and /archives/<projectId>.ocds.json' });
      return;
    }
    let identity: Identity;
    try {
      identity = await verifyBearer(config, request.headers.authorization);
    } catch (error) {
      sendJson(response, 401, { errors: [{ message: error instanceof Error ? error.message : 'unauthenticated', extensions: { code: codeOf(error) ?? 'UNAUTHENTICATED' } }] });
      return;
    }
    const host = request.headers.host ?? 'localhost';
    const result = await apollo.executeOperation(
      { query: EXPORTS[target.kind].query, variables: { projectId: target.projectId, ...(target.kind === 'ocds' ? { uri: `http://${host}${url.pathname}` } : {}) } },
      { contextValue: { identity } },
    );
    if (result.body.kind !== 'single') throw new Error('an archive export answered incrementally');
    const { data, errors } = result.body.singleResult;
    const text = (data as { archive?: string | null } | null | undefined)?.archive;
    if (errors?.length || typeof text !== 'string') {
      refusal(response, errors ?? [{ message: 'the archive is not available', extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
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
  return { 'GET /archives/*': exportArchive };
}
