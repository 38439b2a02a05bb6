// Abuse limits at the gateway: depth, cost, aliases, batch size, body size, per-identity rate limit (429 + Retry-After),
// CORS closed by default, security headers, and introspection off in production. Each refusal names its limit.
import { randomBytes } from 'node:crypto';
import { parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { loadConfig } from '../lib/config';
import { IDENTITY_HEADER, signIdentity } from '../lib/identity';
import { readSupergraph } from '../schema/supergraph';
import { measureOperation } from '../gateway/limits';
import { startGateway } from '../gateway/server';
import { closeServer, createServer, listen, readBody } from '../lib/http';
import { createLogger } from '../lib/logger';
import { as, startTestHub, type TestHub } from './support/hub';
import { buildSupergraphApiSchema } from './support/api-schema';

const ALLOWED_ORIGIN = 'https://console.example.gov.cn';
let t: TestHub;
let production: TestHub;
beforeAll(async () => {
  t = await startTestHub({
    jobs: false,
    overrides: {
      HUB_MAX_QUERY_DEPTH: '6',
      HUB_MAX_QUERY_COST: '2000',
      HUB_COST_LIST_WEIGHT: '10',
      HUB_MAX_ALIASES: '3',
      HUB_MAX_BATCH: '2',
      HUB_MAX_BODY_BYTES: '4000',
      HUB_RATE_LIMIT: '5',
      HUB_RATE_LIMIT_WINDOW: '60s',
      HUB_CORS_ORIGINS: ALLOWED_ORIGIN,
      HUB_SIGNATURE_MAX_AGE: '2s',
    },
  });
  production = await startTestHub({
    jobs: false,
    overrides: {
      HUB_ENV: 'production',
      HUB_JWT_SECRET: randomBytes(32).toString('hex'),
      HUB_INTERNAL_SECRET: randomBytes(32).toString('hex'),
      WEBHOOK_SECRET: randomBytes(32).toString('hex'),
    },
  });
});
afterAll(async () => {
  await t?.stop();
  await production?.stop();
});

// Each test its own identity: the rate limit counts per identity, so tests do not spend each other's budget.
let callers = 0;
const caller = () => ({ ...as.admin, sub: `limits-${++callers}` });

async function post(body: string, headers: Record<string, string> = {}, hub: TestHub = t) {
  const token = await hub.token(caller());
  const response = await fetch(hub.hub.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text
      ? (JSON.parse(text) as { errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown })
      : {},
  };
}

function expectLimit(
  response: { errors?: { message: string; extensions?: Record<string, unknown> }[] },
  limit: string,
) {
  expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit });
  expect(response.errors?.[0]?.message).toContain(limit);
}

describe('query shape', () => {
  it('refuses a query nested deeper than HUB_MAX_QUERY_DEPTH and answers one at the limit', async () => {
    const tooDeep = await t.graphql(
      caller(),
      '{ platforms { venues { rooms { venue { platform { venues { id } } } } } } }',
    );
    expectLimit(tooDeep, 'HUB_MAX_QUERY_DEPTH');
    expect(tooDeep.status).toBe(400);
    const atLimit = await t.graphql(
      caller(),
      '{ platform(id: "411700") { venues { rooms { venue { platform { id } } } } } }',
    );
    expect(atLimit.errors).toBeUndefined();
  });

  it('weighs a paginated list by its page size and refuses over HUB_MAX_QUERY_COST', async () => {
    const query = 'query($first: Int) { projects(first: $first) { edges { node { id timeline { kind actor } } } } }';
    const expensive = await t.graphql(caller(), query, { first: 100 });
    expectLimit(expensive, 'HUB_MAX_QUERY_COST');
    expect(expensive.errors![0].extensions).toMatchObject({ max: 2000, actual: 2401 });
    const smaller = await t.graphql(caller(), query, { first: 50 });
    expect(smaller.errors).toBeUndefined();
  });

  it('costs a `first` from a variable default as what will execute, and a sent variable over its default', async () => {
    const query =
      'query($first: Int = 100) { projects(first: $first) { edges { node { id timeline { kind actor } } } } }';
    const byDefault = await t.graphql(caller(), query);
    expectLimit(byDefault, 'HUB_MAX_QUERY_COST');
    expect(byDefault.errors![0].extensions).toMatchObject({ max: 2000, actual: 2401 });
    const sent = await t.graphql(caller(), query, { first: 50 });
    expect(sent.errors).toBeUndefined();
    // A variable sent as null is null when the field runs (its default page), not the declared default.
    const sentNull = await t.graphql(caller(), query, { first: null });
    expect(sentNull.errors).toBeUndefined();
  });

  it('counts aliases of __typename like any other field', async () => {
    const four = await t.graphql(caller(), '{ a: __typename b: __typename c: __typename d: __typename }');
    expectLimit(four, 'HUB_MAX_ALIASES');
    expect(four.errors![0].extensions).toMatchObject({ max: 3, actual: 4 });
    // 5,000 of them under the default limits (HUB_MAX_ALIASES = 30), through the production gateway.
    const flood = `{ ${Array.from({ length: 5000 }, (_, index) => `a${index}: __typename`).join(' ')} }`;
    const refused = await post(JSON.stringify({ query: flood }), {}, production);
    expect(refused.status).toBe(400);
    expectLimit(refused.body, 'HUB_MAX_ALIASES');
    expect(refused.body.errors![0].extensions).toMatchObject({ actual: 5000 });
  });

  it('counts fragments and refuses more aliases than HUB_MAX_ALIASES', async () => {
    const four = await t.graphql(
      caller(),
      '{ a: platform(id: "411700") { id } b: platform(id: "411721") { id } ...more } fragment more on Query { c: platform(id: "411722") { id } d: platform(id: "411723") { id } }',
    );
    expectLimit(four, 'HUB_MAX_ALIASES');
    const three = await t.graphql(
      caller(),
      '{ a: platform(id: "411700") { id } b: platform(id: "411721") { id } c: platform(id: "411722") { id } }',
    );
    expect(three.errors).toBeUndefined();
  });

  it('lets the deep N+1 query through the default limits', () => {
    const config = loadConfig({ HUB_ENV: 'test' });
    const document = parse(
      'query($from: DateTime!, $to: DateTime!) { platforms { id venues { id rooms { id bookings(from: $from, to: $to) { id project { code hostPlatform { name } } } } } } }',
    );
    const measure = measureOperation(
      buildSupergraphApiSchema(readSupergraph()),
      [] as FragmentDefinitionNode[],
      document.definitions[0] as OperationDefinitionNode,
      {},
      config.HUB_COST_LIST_WEIGHT,
    );
    expect(measure.depth).toBeLessThanOrEqual(config.HUB_MAX_QUERY_DEPTH);
    expect(measure.cost).toBeLessThanOrEqual(config.HUB_MAX_QUERY_COST);
  });
});

describe('request size', () => {
  it('refuses a batch of more than HUB_MAX_BATCH operations and answers one within it', async () => {
    const operation = { query: '{ platform(id: "411700") { id } }' };
    const tooMany = await post(JSON.stringify([operation, operation, operation]));
    expect(tooMany.status).toBe(400);
    expectLimit(tooMany.body, 'HUB_MAX_BATCH');
    const two = await post(JSON.stringify([operation, operation]));
    expect(two.status).toBe(200);
    expect(two.body).toEqual([{ data: { platform: { id: '411700' } } }, { data: { platform: { id: '411700' } } }]);
  });

  it('limits a batch as a whole: its aliases and cost add up across its operations', async () => {
    const twoAliases = { query: '{ a: platform(id: "411700") { id } b: platform(id: "411721") { id } }' };
    const aliases = await post(JSON.stringify([twoAliases, twoAliases]));
    const aliasAnswers = aliases.body as unknown as {
      data?: unknown;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    }[];
    expect(aliasAnswers).toHaveLength(2);
    // Each operation alone is within HUB_MAX_ALIASES = 3; together they are not, so one of them is refused.
    expect(aliasAnswers.filter((answer) => answer.errors === undefined)).toHaveLength(1);
    const aliasRefusal = aliasAnswers.find((answer) => answer.errors)!;
    expectLimit(aliasRefusal, 'HUB_MAX_ALIASES');
    expect(aliasRefusal.errors![0].extensions).toMatchObject({ max: 3, actual: 4 });
    expect(aliasRefusal.errors![0].message).toMatch(/batch/);

    // 1,201 each (50 × 24 + 1), 2,402 together against HUB_MAX_QUERY_COST = 2000.
    const page = {
      query: 'query($first: Int) { projects(first: $first) { edges { node { id timeline { kind actor } } } } }',
      variables: { first: 50 },
    };
    const cost = await post(JSON.stringify([page, page]));
    const costAnswers = cost.body as unknown as {
      data?: unknown;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    }[];
    expect(costAnswers.filter((answer) => answer.errors === undefined)).toHaveLength(1);
    const costRefusal = costAnswers.find((answer) => answer.errors)!;
    expectLimit(costRefusal, 'HUB_MAX_QUERY_COST');
    expect(costRefusal.errors![0].extensions).toMatchObject({ max: 2000, actual: 2402 });
  });

  it('refuses a body over HUB_MAX_BODY_BYTES with 413', async () => {
    const big = await post(JSON.stringify({ query: `{ platform(id: "411700") { id } } # ${'x'.repeat(5000)}` }));
    expect(big.status).toBe(413);
    expect(big.body.errors?.[0]?.extensions).toMatchObject({ limit: 'HUB_MAX_BODY_BYTES' });
    expect(big.body.errors?.[0]?.message).toContain('HUB_MAX_BODY_BYTES');
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After once an identity spent HUB_RATE_LIMIT, while another identity goes on', async () => {
    const spender = caller();
    const query = '{ platform(id: "411700") { id } }';
    for (let request = 0; request < 5; request++) expect((await t.graphql(spender, query)).status).toBe(200);
    const token = await t.token(spender);
    const refused = await fetch(t.hub.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await refused.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'HUB_RATE_LIMIT', retryAfter });
    expect(body.errors[0].message).toMatch(/HUB_RATE_LIMIT/);
    expect((await t.graphql(caller(), query)).status).toBe(200);
  });

  it('counts a batch as one request per operation', async () => {
    const spender = caller();
    const token = await t.token(spender);
    const operation = { query: '{ platform(id: "411700") { id } }' };
    const send = (body: unknown) =>
      fetch(t.hub.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    // Two batches of two and one single operation spend HUB_RATE_LIMIT = 5 exactly.
    expect((await send([operation, operation])).status).toBe(200);
    expect((await send([operation, operation])).status).toBe(200);
    expect((await send(operation)).status).toBe(200);
    const refused = await send([operation, operation]);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(
      ((await refused.json()) as { errors: { extensions: Record<string, unknown> }[] }).errors[0].extensions,
    ).toMatchObject({ code: 'RATE_LIMITED', limit: 'HUB_RATE_LIMIT' });
  });

  it('counts archive exports against the same per-identity budget as /graphql', async () => {
    const exporter = caller();
    const token = await t.token(exporter);
    const exportArchive = (path: string) =>
      fetch(new URL(path, t.hub.gateway.url), { headers: { authorization: `Bearer ${token}` } });
    const graphql = () =>
      fetch(t.hub.gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ platform(id: "411700") { id } }' }),
      });
    // Two GraphQL requests, then both kinds of export, fill HUB_RATE_LIMIT = 5 (an unknown project is still a request).
    expect((await graphql()).status).toBe(200);
    expect((await graphql()).status).toBe(200);
    expect((await exportArchive('/archives/no-such-project.json')).status).toBe(404);
    expect((await exportArchive('/archives/no-such-project.ocds.json')).status).toBe(404);
    expect((await exportArchive('/archives/no-such-project.json')).status).toBe(404);
    for (const path of ['/archives/no-such-project.json', '/archives/no-such-project.ocds.json']) {
      const refused = await exportArchive(path);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await refused.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
      expect(body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'HUB_RATE_LIMIT' });
      expect(body.errors[0].message).toMatch(/HUB_RATE_LIMIT/);
    }
    expect((await graphql()).status).toBe(429);
  });
});

describe('HTTP hardening', () => {
  it('refuses a browser origin not in HUB_CORS_ORIGINS and answers the preflight of one that is', async () => {
    const stranger = await post(JSON.stringify({ query: '{ platforms { id } }' }), {
      origin: 'https://evil.example.com',
    });
    expect(stranger.status).toBe(403);
    expect(stranger.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(t.hub.gateway.url, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const allowed = await post(JSON.stringify({ query: '{ platform(id: "411700") { id } }' }), {
      origin: ALLOWED_ORIGIN,
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
  });

  it('closes CORS by default: no origin is allowed', async () => {
    const response = await post(
      JSON.stringify({ query: '{ platform(id: "411700") { id } }' }),
      { origin: ALLOWED_ORIGIN },
      production,
    );
    expect(response.status).toBe(403);
  });

  it('sends the security headers on GraphQL answers and plain routes', async () => {
    const graphql = await post(JSON.stringify({ query: '{ platform(id: "411700") { id } }' }));
    const health = await fetch(new URL('/healthz', t.hub.gateway.url));
    for (const headers of [graphql.headers, health.headers]) {
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(headers.get('cache-control')).toBe('no-store');
    }
  });

  it('turns introspection off in production and keeps it in development and test', async () => {
    const query = JSON.stringify({ query: '{ __schema { queryType { name } } }' });
    const off = await post(query, {}, production);
    expect(off.body.errors?.[0]?.message).toMatch(/introspection/i);
    const on = await post(query);
    expect(on.body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });
});

describe('token platforms', () => {
  it('refuses a token whose platform claim names no platform of the hub, on /graphql and on the archive routes', async () => {
    const query = '{ platform(id: "411700") { id } }';
    const madeUp = { ...as.operator('999999'), sub: 'limits-made-up-platform' };
    const refused = await t.graphql(madeUp, query);
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      message: expect.stringMatching(/platform claim 999999 names no platform of this hub/),
    });
    const exported = await fetch(new URL('/archives/no-such-project.json', t.hub.gateway.url), {
      headers: { authorization: `Bearer ${await t.token(madeUp)}` },
    });
    expect(exported.status).toBe(401);
    // A county platform of the seed is known, as is the province's.
    expect((await t.graphql({ ...as.partner('411725'), sub: 'limits-county' }, query)).status).toBe(200);
    expect((await t.graphql(caller(), query)).status).toBe(200);
  });
});

describe('gateway to subgraph trust', () => {
  it('binds subgraphs to loopback by default', () => {
    expect(loadConfig({ HUB_ENV: 'test' }).SUBGRAPH_HOST).toBe('127.0.0.1');
  });

  it('refuses a captured signed request replayed to any subgraph, or on another body, with 401', async () => {
    // Capture what a gateway really sends to the venues subgraph: a second gateway of this hub whose venues calls pass
    // through a recording relay on the way.
    let captured: { headers: Record<string, string>; body: string } | undefined;
    const relay = createServer((incoming, outgoing) => {
      void readBody(incoming, 1_000_000).then(async (body) => {
        const headers = Object.fromEntries(
          Object.entries(incoming.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
        ) as Record<string, string>;
        if (!captured && headers[IDENTITY_HEADER]) captured = { headers, body };
        const answer = await fetch(t.hub.subgraphs.venues.url, { method: 'POST', headers, body });
        outgoing.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        outgoing.end(await answer.text());
      });
    });
    const relayPort = await listen(relay, 0, '127.0.0.1');
    const { hub } = t;
    const gateway = await startGateway({
      config: t.config,
      logger: createLogger('test', 'silent'),
      port: 0,
      subgraphUrls: {
        venues: `http://127.0.0.1:${relayPort}/graphql`,
        experts: hub.subgraphs.experts.url,
        projects: hub.subgraphs.projects.url,
      },
    });
    try {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(caller())}` },
        body: JSON.stringify({ query: '{ platform(id: "411700") { id name } }' }),
      });
      expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    } finally {
      await gateway.stop();
      await closeServer(relay);
    }
    expect(captured).toBeDefined();
    const replay = async (url: string, body: string) => {
      const response = await fetch(url, { method: 'POST', headers: captured!.headers, body });
      return {
        status: response.status,
        ...((await response.json()) as {
          data?: unknown;
          errors?: { message: string; extensions?: { code?: string } }[];
        }),
      };
    };
    // The gateway's own use spent the capture's nonce: the same request again, to the same or another subgraph, is
    // refused with 401 although its signature is genuine and in time.
    for (const url of [t.hub.subgraphs.venues.url, t.hub.subgraphs.experts.url]) {
      const again = await replay(url, captured!.body);
      expect(again.status).toBe(401);
      expect(again.data ?? null).toBeNull();
      expect(again.errors?.[0]).toMatchObject({
        extensions: { code: 'UNAUTHENTICATED' },
        message: expect.stringMatching(/already used/),
      });
    }
    const otherBody = await replay(
      t.hub.subgraphs.venues.url,
      JSON.stringify({ query: '{ platforms { id name expertFeeRate } }' }),
    );
    expect(otherBody.status).toBe(401);
    expect(otherBody.errors?.[0]).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      message: expect.stringMatching(/does not match/),
    });
  });

  it('accepts a signature once, and only dated within HUB_SIGNATURE_MAX_AGE before and HUB_SIGNATURE_CLOCK_SKEW after now', async () => {
    const identity = { sub: 'signer', role: 'PROVINCIAL_ADMIN', platform: '410000' } as const;
    const body = JSON.stringify({ query: '{ platform(id: "411700") { id } }' });
    const send = async (headers: Record<string, string>) => {
      const response = await fetch(t.hub.subgraphs.venues.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      return {
        status: response.status,
        ...((await response.json()) as {
          data?: unknown;
          errors?: { message: string; extensions?: { code?: string } }[];
        }),
      };
    };
    const secret = t.config.HUB_INTERNAL_SECRET;
    const fresh = signIdentity(secret, identity, body);
    expect((await send(fresh)).data).toEqual({ platform: { id: '411700' } });
    expect((await send(fresh)).errors?.[0].message).toMatch(/already used/);
    // The window of this hub: 2 s back (HUB_SIGNATURE_MAX_AGE), 2 s ahead (HUB_SIGNATURE_CLOCK_SKEW, its default).
    expect(t.config.HUB_SIGNATURE_CLOCK_SKEW).toBe(2_000);
    const stale = await send(signIdentity(secret, identity, body, Date.now() - 3_000));
    expect(stale.status).toBe(401);
    expect(stale.errors?.[0]).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      message: expect.stringMatching(/stale/),
    });
    const ahead = await send(signIdentity(secret, identity, body, Date.now() + 30_000));
    expect(ahead.status).toBe(401);
    expect(ahead.errors?.[0]).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
      message: expect.stringMatching(/future/),
    });
    expect((await send(signIdentity(secret, identity, body, Date.now() + 500))).data).toEqual({
      platform: { id: '411700' },
    });
    // The default window is 15 s.
    expect(loadConfig({ HUB_ENV: 'test' }).HUB_SIGNATURE_MAX_AGE).toBe(15_000);
  });
});
