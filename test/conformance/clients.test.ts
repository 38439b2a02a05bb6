// Real GraphQL clients that users run against the hub, each with the README's queries and each checked on the values
// it hands back: Apollo Client (normalised cache, automatic persisted queries, batching), urql as it comes, and
// graphql-request. None of them was written for this hub, so each test shows the hub speaks what they expect.
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { cacheExchange, createClient, fetchExchange } from '@urql/core';
import { ClientError, GraphQLClient } from 'graphql-request';
import { startTestHub, type TestHub } from '../support/hub';
import {
  expectSeededProjects,
  expectSeededZhumadian,
  README_IDENTITY,
  README_QUERIES,
  withoutTypenames,
  type PlatformAnswer,
  type ProjectsAnswer,
} from './readme-queries';

let t: TestHub;
let token: string;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  token = await t.token(README_IDENTITY);
});
afterAll(async () => {
  await t.stop();
});

interface SentRequest {
  method: string;
  body: unknown;
}

/** A fetch that notes what each request carried before sending it unchanged. */
function recordingFetch(sent: SentRequest[]): typeof fetch {
  return (input, init) => {
    sent.push({
      method: init?.method ?? 'GET',
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    });
    return fetch(input, init);
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// A field the schema lacks: the gateway refuses the document with 400 before running it.
const INVALID_QUERY = '{ platform(id: "411700") { name seatCount } }';
const INVALID_MESSAGE = 'Cannot query field "seatCount" on type "Platform".';

describe('Apollo Client', () => {
  const authorization = () => ({ authorization: `Bearer ${token}` });

  it('runs the README queries and keeps one normalised entity per platform in its cache', async () => {
    const sent: SentRequest[] = [];
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({ uri: t.hub.gateway.url, headers: authorization(), fetch: recordingFetch(sent) }),
    });

    const platform = await client.query<PlatformAnswer>({ query: gql(README_QUERIES.platform) });
    expectSeededZhumadian(withoutTypenames(platform.data));
    const projects = await client.query<ProjectsAnswer>({ query: gql(README_QUERIES.projects) });
    expectSeededProjects(withoutTypenames(projects.data));
    // The same answers as a plain POST gets.
    expect(withoutTypenames(platform.data)).toEqual((await t.graphql(README_IDENTITY, README_QUERIES.platform)).data);
    expect(withoutTypenames(projects.data)).toEqual((await t.graphql(README_IDENTITY, README_QUERIES.projects)).data);

    // With ids selected, the cache keys entities by __typename and id: the projects' host platform and the platform
    // asked for by id are one cache entry, so what one query learns the other reads.
    await client.query({ query: gql('{ platform(id: "411700") { id name level } }') });
    await client.query({ query: gql('{ projects(first: 5) { edges { node { id code hostPlatform { id } } } } }') });
    const cache = client.cache.extract() as Record<string, Record<string, unknown> | undefined>;
    expect(cache['Platform:411700']).toMatchObject({
      __typename: 'Platform',
      id: '411700',
      name: '驻马店市公共资源交易中心',
      level: 'CITY',
    });
    const projectKeys = Object.keys(cache).filter((key) => key.startsWith('Project:'));
    expect(projectKeys).toHaveLength(5);
    for (const key of projectKeys) expect(cache[key]?.hostPlatform).toEqual({ __ref: 'Platform:411700' });
    const requestsSoFar = sent.length;
    const fromCache = await client.query<{
      projects: { edges: { node: { code: string; hostPlatform: { name: string; level: string } } }[] };
    }>({
      query: gql('{ projects(first: 5) { edges { node { id code hostPlatform { id name level } } } } }'),
      fetchPolicy: 'cache-only',
    });
    expect(sent.length).toBe(requestsSoFar);
    expect(fromCache.data?.projects.edges.map((edge) => edge.node.hostPlatform)).toEqual(
      Array.from({ length: 5 }, () => ({
        __typename: 'Platform',
        id: '411700',
        name: '驻马店市公共资源交易中心',
        level: 'CITY',
      })),
    );
  });

  it('sends a known query by its hash alone with the persisted queries link', async () => {
    const sent: SentRequest[] = [];
    const link = () =>
      ApolloLink.from([
        new PersistedQueryLink({ sha256 }),
        new HttpLink({ uri: t.hub.gateway.url, headers: authorization(), fetch: recordingFetch(sent) }),
      ]);
    const first = new ApolloClient({ cache: new InMemoryCache(), link: link() });
    const registered = await first.query<PlatformAnswer>({ query: gql(README_QUERIES.platform) });
    expectSeededZhumadian(withoutTypenames(registered.data));
    // The hub did not know the hash: the link sent it alone, was told PERSISTED_QUERY_NOT_FOUND, and sent the text.
    expect(sent.map(({ body }) => body !== null && typeof body === 'object' && 'query' in body)).toEqual([false, true]);

    // Another client (a fresh cache, so it must ask) is answered from the hash alone.
    const second = new ApolloClient({ cache: new InMemoryCache(), link: link() });
    const byHash = await second.query<PlatformAnswer>({ query: gql(README_QUERIES.platform) });
    expect(sent).toHaveLength(3);
    expect(sent[2].body).not.toHaveProperty('query');
    expect(sent[2].body).toHaveProperty('extensions.persistedQuery.version', 1);
    expect(byHash.data).toEqual(registered.data);
  });

  it('batches up to HUB_MAX_BATCH queries in one request and splits a larger burst', async () => {
    const sent: SentRequest[] = [];
    const max = t.config.HUB_MAX_BATCH;
    expect(max).toBeGreaterThan(1);
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new BatchHttpLink({
        uri: t.hub.gateway.url,
        headers: authorization(),
        fetch: recordingFetch(sent),
        batchMax: max,
        batchInterval: 50,
      }),
    });
    // The partner cities Zhumadian's README answer lists, by their division codes: one more than a batch holds.
    const cities: Record<string, string> = {
      '410100': '郑州市公共资源交易中心',
      '410200': '开封市公共资源交易中心',
      '410300': '洛阳市公共资源交易中心',
      '410400': '平顶山市公共资源交易中心',
      '410500': '安阳市公共资源交易中心',
      '410600': '鹤壁市公共资源交易中心',
    };
    const ids = Object.keys(cities).slice(0, max + 1);
    expect(ids).toHaveLength(max + 1);
    const answers = await Promise.all(
      ids.map((id) =>
        client.query<{ platform: { id: string; name: string } }>({
          query: gql('query City($id: ID!) { platform(id: $id) { id name } }'),
          variables: { id },
        }),
      ),
    );
    expect(answers.map((answer) => answer.data?.platform.name)).toEqual(ids.map((id) => cities[id]));
    // One request carried a full batch (a JSON array of operations), the one left over went in a second.
    expect(sent.map(({ body }) => (Array.isArray(body) ? body.length : 'single'))).toEqual([max, 1]);
  });

  it('hands back a refusal and a 400 for an invalid document with their codes', async () => {
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new HttpLink({ uri: t.hub.gateway.url, headers: authorization() }),
    });
    // Only provincial admins read reconciliation reports (API.md); the operator of the README is refused.
    const refused = await client.query({
      query: gql('{ reconciliationReport(id: "none") { status } }'),
      errorPolicy: 'all',
    });
    expect(refused.data).toEqual({ reconciliationReport: null });
    expect(CombinedGraphQLErrors.is(refused.error)).toBe(true);
    expect((refused.error as CombinedGraphQLErrors).errors[0]).toMatchObject({
      path: ['reconciliationReport'],
      extensions: { code: 'FORBIDDEN' },
    });

    // A document that does not validate is answered 400 (docs/conformance.md): the client still reads its errors.
    const invalid = await client.query({ query: gql(INVALID_QUERY), errorPolicy: 'all' });
    expect(CombinedGraphQLErrors.is(invalid.error)).toBe(true);
    expect((invalid.error as CombinedGraphQLErrors).errors[0]).toMatchObject({
      message: INVALID_MESSAGE,
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });
});

describe('urql', () => {
  it('runs the README queries with its default settings (GET for queries within the URL limit)', async () => {
    // Only the URL and the token: urql then sends queries as GET (preferGetMethod: 'within-url-limit').
    // cacheExchange and fetchExchange are the pair urql documents as its default exchanges.
    const client = createClient({
      url: t.hub.gateway.url,
      fetchOptions: { headers: { authorization: `Bearer ${token}` } },
      exchanges: [cacheExchange, fetchExchange],
    });
    const sentMethods = jest.spyOn(globalThis, 'fetch');
    try {
      const platform = await client.query<PlatformAnswer>(README_QUERIES.platform, {}).toPromise();
      expect(platform.error).toBeUndefined();
      expectSeededZhumadian(withoutTypenames(platform.data));
      const projects = await client.query<ProjectsAnswer>(README_QUERIES.projects, {}).toPromise();
      expect(projects.error).toBeUndefined();
      expectSeededProjects(withoutTypenames(projects.data));
      const invalid = await client.query(INVALID_QUERY, {}).toPromise();
      expect(invalid.error?.graphQLErrors[0]).toMatchObject({
        message: INVALID_MESSAGE,
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      });
      expect(sentMethods.mock.calls.map(([, init]) => init?.method)).toEqual(['GET', 'GET', 'GET']);
    } finally {
      sentMethods.mockRestore();
    }
  });
});

describe('graphql-request', () => {
  it('runs the README queries and throws a refusal or an invalid document as a ClientError with its code', async () => {
    const client = new GraphQLClient(t.hub.gateway.url, { headers: { authorization: `Bearer ${token}` } });
    expectSeededZhumadian(await client.request<PlatformAnswer>(README_QUERIES.platform));
    expectSeededProjects(await client.request<ProjectsAnswer>(README_QUERIES.projects));

    const anonymous = new GraphQLClient(t.hub.gateway.url);
    const refused = await anonymous.request(README_QUERIES.platform).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ClientError);
    expect((refused as ClientError).response.status).toBe(401);
    expect((refused as ClientError).response.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED' });

    const invalid = await client.request(INVALID_QUERY).then(
      () => null,
      (error: unknown) => error,
    );
    expect(invalid).toBeInstanceOf(ClientError);
    expect((invalid as ClientError).response.status).toBe(400);
    expect((invalid as ClientError).response.errors?.[0]).toMatchObject({
      message: INVALID_MESSAGE,
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });

  it('sends a batch of the README queries as one request', async () => {
    const sent: SentRequest[] = [];
    const client = new GraphQLClient(t.hub.gateway.url, {
      headers: { authorization: `Bearer ${token}` },
      fetch: recordingFetch(sent),
    });
    const [platform, projects] = await client.batchRequests<[{ data: PlatformAnswer }, { data: ProjectsAnswer }]>([
      { document: README_QUERIES.platform },
      { document: README_QUERIES.projects },
    ]);
    expectSeededZhumadian(platform.data);
    expectSeededProjects(projects.data);
    expect(sent.map(({ body }) => (Array.isArray(body) ? body.length : 'single'))).toEqual([2]);
  });
});
