// projectsEvaluatedBetween: the projects whose evaluation window overlaps [from, to), by window start then id, paged
// by cursor. Windows touching the range's ends from outside are not in it (the range and the windows are half-open);
// windows reaching into it by a minute, or around it, are. Projects are submitted through the gateway.
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import { agency, submit } from './support/workflow';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(async () => {
  await t.stop();
});

const BETWEEN = `query($from: DateTime!, $to: DateTime!, $first: Int, $after: String) {
  projectsEvaluatedBetween(from: $from, to: $to, first: $first, after: $after) {
    totalCount edges { cursor node { id evaluationStartsAt } } pageInfo { hasNextPage endCursor } } }`;
type Page = {
  totalCount: number;
  edges: { cursor: string; node: { id: string; evaluationStartsAt: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
};

const HOUR = 3_600_000;
const MINUTE = 60_000;
// A day far from the seeded projects' windows: [from, to) is 08:00 to 20:00 UTC on it.
const day = new Date(Date.now() + 300 * 86_400_000);
day.setUTCHours(0, 0, 0, 0);
const from = new Date(day.getTime() + 8 * HOUR);
const to = new Date(day.getTime() + 20 * HOUR);

const windows = {
  endsAtFrom: { startsAt: new Date(from.getTime() - 4 * HOUR), endsAt: from },
  startsAtTo: { startsAt: to, endsAt: new Date(to.getTime() + 4 * HOUR) },
  endsAMinuteIn: { startsAt: new Date(from.getTime() - 4 * HOUR), endsAt: new Date(from.getTime() + MINUTE) },
  startsAMinuteBeforeTo: { startsAt: new Date(to.getTime() - MINUTE), endsAt: new Date(to.getTime() + 3 * HOUR) },
  around: { startsAt: new Date(from.getTime() - HOUR), endsAt: new Date(to.getTime() + HOUR) },
  inside: { startsAt: new Date(from.getTime() + 2 * HOUR), endsAt: new Date(from.getTime() + 6 * HOUR) },
  insideSameStart: { startsAt: new Date(from.getTime() + 2 * HOUR), endsAt: new Date(from.getTime() + 5 * HOUR) },
};
const ids: Record<keyof typeof windows, string> = {} as Record<keyof typeof windows, string>;

beforeAll(async () => {
  for (const [name, window] of Object.entries(windows) as [keyof typeof windows, { startsAt: Date; endsAt: Date }][])
    ids[name] = await submit(t, window);
});

async function page(first?: number, after?: string | null): Promise<Page> {
  const response = await t.graphql<{ projectsEvaluatedBetween: Page }>(as.admin, BETWEEN, {
    from: from.toISOString(),
    to: to.toISOString(),
    first,
    after,
  });
  expect(response.errors).toBeUndefined();
  return response.data!.projectsEvaluatedBetween;
}

/** The overlapping projects in their order: by window start, two of the same start by id. */
const expected = () => {
  const same = [ids.inside, ids.insideSameStart].sort();
  return [ids.endsAMinuteIn, ids.around, ...same, ids.startsAMinuteBeforeTo];
};

it('lists the windows that overlap [from, to) and none that only touch its ends, by window start then id', async () => {
  const all = await page(50);
  expect(all.edges.map((edge) => edge.node.id)).toEqual(expected());
  expect(all.totalCount).toBe(5);
  expect(all.pageInfo.hasNextPage).toBe(false);
  for (const outside of [ids.endsAtFrom, ids.startsAtTo])
    expect(all.edges.map((edge) => edge.node.id)).not.toContain(outside);
});

it('pages through them two at a time, each exactly once, the same total on every page', async () => {
  const seen: string[] = [];
  let after: string | null = null;
  const pages: Page[] = [];
  do {
    const current: Page = await page(2, after);
    pages.push(current);
    seen.push(...current.edges.map((edge) => edge.node.id));
    after = current.pageInfo.hasNextPage ? current.pageInfo.endCursor : null;
  } while (after && pages.length < 10);
  expect(pages.map((current) => current.edges.length)).toEqual([2, 2, 1]);
  expect(pages.map((current) => current.totalCount)).toEqual([5, 5, 5]);
  expect(seen).toEqual(expected());
  // A cursor is the last row's: a page after the middle one of the same start goes on from its id.
  expect(pages[1].edges[1].cursor).toBe(pages[1].pageInfo.endCursor);
});

it('refuses anyone but a provincial admin (FORBIDDEN), a reversed range and a page size out of bounds (BAD_USER_INPUT)', async () => {
  const variables = { from: from.toISOString(), to: to.toISOString() };
  for (const identity of [as.operator(ZHUMADIAN), agency, as.supervisor('HOUSING_AND_CONSTRUCTION')]) {
    expect((await t.graphql(identity, BETWEEN, variables)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  }
  expect(
    (await t.graphql(as.admin, BETWEEN, { from: variables.to, to: variables.from })).errors?.[0].extensions?.code,
  ).toBe('BAD_USER_INPUT');
  for (const first of [0, 1001])
    expect((await t.graphql(as.admin, BETWEEN, { ...variables, first })).errors?.[0].extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
});
