// Fault: one subgraph stops. The gateway still answers with the other subgraphs' data and an error naming the missing
// one, /readyz turns unready, and everything recovers when the subgraph comes back on its port. A caller whose answer
// the gateway cached before the stop, with nothing changed since, keeps getting it whole.
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from '../support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(async () => {
  // The hub stops the subgraph it started; the one restarted here is this test's to stop.
  await t.hub.subgraphs.venues.stop();
  await t.stop();
});

const BOTH = `query Both($id: ID!) { platform(id: $id) { id name } projects(first: 2) { totalCount } }`;
const readyz = async () => {
  const response = await fetch(new URL('/readyz', t.hub.gateway.url));
  return { status: response.status, body: (await response.json()) as { subgraphs: Record<string, boolean> } };
};

it('answers without the stopped subgraph, names it, turns unready, and recovers when it returns (3 stop/start cycles)', async () => {
  for (let cycle = 0; cycle < 3; cycle += 1) {
    // Callers of their own per phase: what one of them had cached must not hide the outage from the other.
    const cached = { ...as.admin, sub: `subgraph-down-cached-${cycle}` };
    const fresh = { ...as.admin, sub: `subgraph-down-fresh-${cycle}` };
    const before = await t.graphql<{ platform: { id: string } | null; projects: { totalCount: number } }>(cached, BOTH, { id: ZHUMADIAN });
    expect(before.errors).toBeUndefined();
    expect(before.data?.platform?.id).toBe(ZHUMADIAN);
    expect((await readyz()).status).toBe(200);

    await t.hub.subgraphs.venues.stop();
    expect(await t.graphql(cached, BOTH, { id: ZHUMADIAN })).toEqual(before);
    const during = await t.graphql<{ platform: { id: string } | null; projects: { totalCount: number } }>(fresh, BOTH, { id: ZHUMADIAN });
    expect(during.status).toBe(200);
    expect(during.data?.platform).toBeNull();
    expect(during.data?.projects.totalCount).toBe(before.data?.projects.totalCount);
    expect(during.errors).toHaveLength(1);
    expect(during.errors?.[0].message).toMatch(/venues subgraph is unreachable/);
    expect(during.errors?.[0].extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', serviceName: 'venues', retryable: true });
    const unready = await readyz();
    expect(unready.status).toBe(503);
    expect(unready.body.subgraphs).toEqual({ venues: false, experts: true, projects: true });

    t.hub.subgraphs.venues = await t.hub.subgraphs.venues.restart();
    await eventually(async () => ((await readyz()).status === 200 ? true : undefined), 10_000, 'the gateway to be ready again');
    const after = await eventually(async () => {
      const response = await t.graphql<{ platform: { id: string } | null }>(fresh, BOTH, { id: ZHUMADIAN });
      return response.errors ? undefined : response;
    }, 10_000, 'a full answer again');
    expect(after.data?.platform?.id).toBe(ZHUMADIAN);
  }
});
