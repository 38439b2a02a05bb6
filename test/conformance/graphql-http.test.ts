// The GraphQL-over-HTTP spec's own audit suite (graphql-http's serverAudits) against the gateway, with a valid bearer
// token on every request as a real client sends it. Each audit is one test: every MUST, SHOULD and MAY passes, except
// the SHOULDs listed in DEVIATIONS, whose warning is expected and explained (docs/conformance.md).
import { serverAudits, type AuditResult } from 'graphql-http';
import { startTestHub, type TestHub } from '../support/hub';
import { README_IDENTITY } from './readme-queries';

let t: TestHub;
let token: string;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  token = await t.token(README_IDENTITY);
});
afterAll(async () => {
  await t.stop();
});

/**
 * The spec's SHOULDs the hub deliberately does not follow, by audit id. The spec asks a server answering
 * `application/json` (the legacy media type) to use 200 for a request that fails before execution, because old clients
 * read no body from a 4xx. @apollo/server answers 400 for these whatever the accept header, which is what the spec asks
 * for `application/graphql-response+json` (those audits pass), and the hub's own refusals of bad custom scalar values
 * are 400 for the same reason: one status for one kind of failure, whatever the client accepts. Every client the hub
 * is tested with (test/conformance/clients.test.ts) reads `errors` from a 400.
 */
const DEVIATIONS: Record<string, string> = {
  '572B': 'SHOULD use 200 status code on document parsing failure when accepting application/json',
  FDE2: 'SHOULD use 200 status code on document validation failure when accepting application/json',
  '7B9B': 'SHOULD use a status code of 200 on variable coercion failure when accepting application/json',
};

/** The platform fetch, with the caller's bearer token added to whatever headers the audit sends. */
const fetchWithToken = (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
  const headers = new Headers(init?.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

// The URL is read when each audit runs, once the hub has its port.
const audits = serverAudits({ url: () => t.hub.gateway.url, fetchFn: fetchWithToken });

async function explained(result: AuditResult): Promise<string> {
  if (result.status === 'ok') return 'ok';
  return `${result.status}: ${result.reason} (HTTP ${result.response.status}: ${(await result.response.text()).slice(0, 300)})`;
}

it('runs the full suite', () => {
  // graphql-http 1.23.1's suite: a release that adds, drops or renames audits must be looked at, not silently pass.
  expect(audits).toHaveLength(61);
  expect(audits.filter((audit) => audit.name.startsWith('MUST'))).toHaveLength(13);
  for (const id of Object.keys(DEVIATIONS)) expect(audits.find((audit) => audit.id === id)?.name).toBe(DEVIATIONS[id]);
});

it.each(audits.filter((audit) => !(audit.id in DEVIATIONS)).map((audit) => [audit.id, audit.name, audit] as const))(
  '%s %s',
  async (_id, _name, audit) => {
    expect(await explained(await audit.fn())).toBe('ok');
  },
);

it.each(audits.filter((audit) => audit.id in DEVIATIONS).map((audit) => [audit.id, audit.name, audit] as const))(
  '%s %s: answered 400 (deviation)',
  async (_id, _name, audit) => {
    const result = await audit.fn();
    expect(result.status).toBe('warn');
    if (result.status !== 'ok') expect(result.response.status).toBe(400);
  },
);
