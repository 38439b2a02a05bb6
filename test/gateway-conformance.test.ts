// What real clients meet at the gateway's HTTP surface: GET queries with a token (urql's default), custom scalars refused
// as request errors before planning, client mistakes as 4xx, and what production keeps to itself.
import { randomBytes } from 'node:crypto';
import { startGateway, type RunningGateway } from '../gateway/server';
import { createLogger } from '../lib/logger';
import { DateTime } from '../lib/scalars';
import { as, startTestHub, testConfig, ZHUMADIAN, type TestHub } from './support/hub';

const secrets = {
  HUB_JWT_SECRET: randomBytes(32).toString('hex'),
  HUB_INTERNAL_SECRET: randomBytes(32).toString('hex'),
  WEBHOOK_SECRET: randomBytes(32).toString('hex'),
};
let t: TestHub;
let production: RunningGateway;
beforeAll(async () => {
  t = await startTestHub({ jobs: false, overrides: { ...secrets, HUB_RATE_LIMIT: '0' } });
  // A production gateway in front of the same subgraphs.
  production = await startGateway({
    config: testConfig(t.database, { ...secrets, HUB_ENV: 'production' }),
    logger: createLogger('conformance', 'silent'),
    port: 0,
    subgraphUrls: {
      venues: t.hub.subgraphs.venues.url,
      experts: t.hub.subgraphs.experts.url,
      projects: t.hub.subgraphs.projects.url,
    },
  });
});
afterAll(async () => {
  await production?.stop();
  await t?.stop();
});

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function send(url: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

const post = async (
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
  url = t.hub.gateway.url,
) =>
  send(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await t.token(as.operator())}`,
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });

describe('GET requests (urql default client)', () => {
  const getUrl = (query: string) => `${t.hub.gateway.url}?query=${encodeURIComponent(query)}`;

  it('answers a GET query that carries only the Authorization header', async () => {
    const answer = await send(getUrl(`{ platform(id: "${ZHUMADIAN}") { id } }`), {
      headers: { authorization: `Bearer ${await t.token(as.operator())}` },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data).toEqual({ platform: { id: ZHUMADIAN } });
  });

  it('refuses a GET query without a token, and a mutation over GET', async () => {
    const anonymous = await send(getUrl(`{ platform(id: "${ZHUMADIAN}") { id } }`), {});
    expect([400, 401]).toContain(anonymous.status);
    expect(anonymous.body.data).toBeUndefined();
    const mutation = await send(getUrl('mutation { fileProject(projectId: "x", approve: true) { id } }'), {
      headers: { authorization: `Bearer ${await t.token(as.operator())}` },
    });
    expect(mutation.status).toBe(405);
  });
});

describe('custom scalars are request errors before planning', () => {
  const SCHEDULE = (from: string) =>
    `{ schedule(from: ${JSON.stringify(from)}, to: "2027-01-01T00:00:00Z") { __typename } }`;
  const accepts: Record<string, string>[] = [{}, { accept: 'application/graphql-response+json' }];

  it.each(accepts)("a bad DateTime literal is a 400 without data, with the scalar's message (%j)", async (headers) => {
    const answer = await post(SCHEDULE('yesterday'), undefined, headers);
    expect(answer.status).toBe(400);
    expect(answer.body).not.toHaveProperty('data');
    expect(answer.body.errors?.[0].message).toMatch(/DateTime must be an ISO-8601 string with an offset/);
    expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(answer.body.errors?.[0].extensions?.code);
  });

  it.each(accepts)('a bad DateTime or Money variable is a 400 without data (%j)', async (headers) => {
    const date = await post(
      'query($from: DateTime!) { schedule(from: $from, to: "2027-01-01T00:00:00Z") { __typename } }',
      { from: 'yesterday' },
      headers,
    );
    expect(date.status).toBe(400);
    expect(date.body).not.toHaveProperty('data');
    expect(date.body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/DateTime must be an ISO-8601/),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const input = {
      code: 'SCALAR-1',
      name: 'x',
      category: 'CONSTRUCTION',
      department: 'HOUSING_AND_CONSTRUCTION',
      hostPlatformId: ZHUMADIAN,
      tenderer: 't',
      agency: 'a',
      bidders: ['b'],
      budget: '1e3',
      mode: 'LOCAL',
      committeeSize: 5,
      tendererRepresentatives: 1,
      evaluationStartsAt: '2027-03-01T01:00:00Z',
      evaluationEndsAt: '2027-03-01T09:00:00Z',
    };
    const refused = await post(
      'mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }',
      { input },
      headers,
    );
    expect(refused.status).toBe(400);
    expect(refused.body).not.toHaveProperty('data');
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/Money must be a string of digits/),
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
  });

  it('refuses an impossible calendar date instead of normalising it', async () => {
    for (const impossible of [
      '2027-02-30T00:00:00Z',
      '2027-02-29T00:00:00+08:00',
      '2027-04-31T09:00:00Z',
      '2027-01-01T24:00:00Z',
      '2027-01-01T09:60:00Z',
      '2027-13-01T00:00:00Z',
    ]) {
      expect(() => DateTime.parseValue(impossible)).toThrow(/not a real calendar instant/);
      const answer = await post(
        'query($from: DateTime!) { schedule(from: $from, to: "2028-01-01T00:00:00Z") { __typename } }',
        { from: impossible },
      );
      expect({ impossible, status: answer.status, code: answer.body.errors?.[0].extensions?.code }).toEqual({
        impossible,
        status: 400,
        code: 'BAD_USER_INPUT',
      });
    }
    expect((DateTime.parseValue('2028-02-29T09:00:00+08:00') as Date).toISOString()).toBe('2028-02-29T01:00:00.000Z');
  });
});

describe('client mistakes are 4xx', () => {
  it.each(['development', 'production'])('two anonymous operations and a subscription are 400s (%s)', async (mode) => {
    const url = mode === 'production' ? production.url : t.hub.gateway.url;
    for (const query of [
      '{ __typename } { __typename }',
      `{ platform(id: "${ZHUMADIAN}") { id } } { platform(id: "${ZHUMADIAN}") { name } }`,
      'subscription { __typename }',
      'subscription S { __typename }',
    ]) {
      const answer = await post(query, undefined, {}, url);
      expect({ query, status: answer.status, code: answer.body.errors?.[0].extensions?.code }).toEqual({
        query,
        status: 400,
        code: 'GRAPHQL_VALIDATION_FAILED',
      });
    }
  });

  it('a 401 carries WWW-Authenticate: Bearer', async () => {
    const missing = await send(t.hub.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    const forged = await send(t.hub.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not-a-token' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/^Bearer\b.*error="invalid_token"/);
  });

  it('a body that is neither JSON nor application/graphql is 415; application/graphql is served', async () => {
    const token = await t.token(as.operator());
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const answer = await send(t.hub.gateway.url, {
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect({ type, status: answer.status }).toEqual({ type, status: 415 });
    }
    const graphql = await send(t.hub.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/graphql', authorization: `Bearer ${token}` },
      body: `{ platform(id: "${ZHUMADIAN}") { id } }`,
    });
    expect(graphql.body.data).toEqual({ platform: { id: ZHUMADIAN } });
  });
});

describe('production keeps the schema and the development tooling to itself', () => {
  it('gives no field suggestions in production (development still does)', async () => {
    const development = await post('{ projec { id } }');
    expect(development.body.errors?.[0].message).toMatch(/Did you mean/);
    const answer = await post('{ projec { id } }', undefined, {}, production.url);
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0].message).toMatch(/Cannot query field "projec"/);
    expect(JSON.stringify(answer.body)).not.toMatch(/Did you mean|"project"/);
  });

  it('does not point production callers at the development token command', async () => {
    const answer = await send(production.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(answer.status).toBe(401);
    expect(answer.body.errors?.[0].message).toMatch(/Authorization: Bearer/);
    expect(answer.body.errors?.[0].message).not.toMatch(/npm run/);
  });

  it('serves /metrics on its own loopback listener, not on the public port', async () => {
    expect((await fetch(new URL('/metrics', production.url))).status).toBe(404);
    expect(production.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const metrics = await fetch(production.metricsUrl!);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/hub_graphql_requests_total/);
  });
});
