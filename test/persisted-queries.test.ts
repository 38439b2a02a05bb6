// Automatic persisted queries at the gateway: a client that sends only a query's sha256 is asked for the query once,
// then answered from the hash alone (shorter requests for partner systems polling the same schedule all day).
import { createHash } from 'node:crypto';
import { as, startTestHub, type TestHub } from './support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(async () => {
  await t.stop();
});

const QUERY = 'query Partners($id: ID!) { platform(id: $id) { name partners { partner { id } autoConfirm } } }';
const persisted = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(QUERY).digest('hex') } };

const post = (body: Record<string, unknown>) => t.post({ ...as.partner('410100'), sub: 'apq' }, body);

it('asks for an unknown hash once, then answers from the hash alone', async () => {
  const variables = { id: '411700' };
  const unknown = await post({ extensions: persisted, variables });
  expect(unknown.errors?.[0].extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  const registered = await post({ query: QUERY, extensions: persisted, variables });
  expect(registered.errors).toBeUndefined();
  expect(registered.data).toMatchObject({
    platform: { partners: expect.arrayContaining([expect.objectContaining({ autoConfirm: true })]) },
  });
  const byHash = await post({ extensions: persisted, variables: { id: '410100' } });
  expect(byHash.errors).toBeUndefined();
  expect(byHash.data).not.toEqual(registered.data);
  expect(await post({ extensions: persisted, variables })).toEqual(registered);
});

it('refuses a query whose hash does not match it', async () => {
  const mismatched = await post({ query: `${QUERY} `, extensions: persisted, variables: { id: '411700' } });
  expect(mismatched.errors?.[0]).toMatchObject({
    message: 'provided sha does not match query',
    extensions: { code: 'BAD_REQUEST' },
  });
});
