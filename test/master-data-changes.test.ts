// masterDataChanges shows the change records of the pool (experts) and of the venues domain as one list, newest first
// by (at, source, id), with cursors that neither repeat nor skip a record across the two sources, even at the same
// instant; sealed fields stay out of what a supervisor reads; everyone but the province and supervisors is refused.
import { as, startTestHub, type TestHub } from './support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(() => t.stop());

const QUERY = `query ($type: String, $id: ID, $first: Int, $after: String) {
  masterDataChanges(entityType: $type, entityId: $id, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id at entityType entityId before after role } } } }`;
type Page = {
  masterDataChanges: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { id: string; at: string; entityType: string; entityId: string; after: string | null } }[];
  };
};

const T1 = new Date('2030-01-01T00:00:00.000Z');
const T2 = new Date('2030-01-02T00:00:00.000Z');
const row = (
  at: Date,
  entityType: string,
  entityId: string,
  after: Record<string, unknown>,
  sealed: string[] = [],
) => ({
  at,
  actor: 'test-admin',
  role: 'PROVINCIAL_ADMIN',
  platform: '410000',
  entity_type: entityType,
  entity_id: entityId,
  before: null,
  after: JSON.stringify(after),
  sealed_fields: sealed,
  note: null,
});

beforeAll(async () => {
  // Records of both domains, several at the same instant (the merge's tie-breaks), written as the writers write them.
  await t.databases.venues.db
    .insertInto('master_data_change')
    .values([
      row(T1, 'FeeRates', '411700', { expertFeeRate: '1' }),
      row(T2, 'Platform', '411700', { webhookUrl: 'https://a.example/' }),
      row(T2, 'CooperationAgreement', '411700/411721', { autoConfirm: true }),
    ])
    .execute();
  await t.databases.experts.db
    .insertInto('master_data_change')
    .values([
      row(T2, 'Expert', 'exp-1', { name: '张三', status: 'SUSPENDED' }, ['name']),
      row(T1, 'Expert', 'exp-2', { status: 'ACTIVE' }),
    ])
    .execute();
});

async function walk(identity: Parameters<TestHub['graphql']>[0], first: number, type?: string) {
  const seen: Page['masterDataChanges']['edges'][number]['node'][] = [];
  let after: string | null = null;
  let total = -1;
  for (let pages = 0; pages < 50; pages++) {
    const answer: Awaited<ReturnType<typeof t.graphql<Page>>> = await t.graphql<Page>(identity, QUERY, {
      first,
      after,
      type,
    });
    expect(answer.errors).toBeUndefined();
    const page: Page['masterDataChanges'] = answer.data!.masterDataChanges;
    total = page.totalCount;
    seen.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return { seen, total };
}

describe('masterDataChanges', () => {
  it("merges the venues domain's records with the pool's, newest first, one page at a time without repeats or gaps", async () => {
    const whole = await walk(as.admin, 100);
    const venueRecords = whole.seen.filter((node) => node.id.startsWith('venues-'));
    expect(venueRecords.map((node) => node.entityType).sort()).toEqual([
      'CooperationAgreement',
      'FeeRates',
      'Platform',
    ]);
    expect(whole.total).toBe(whole.seen.length);
    const ats = whole.seen.map((node) => node.at);
    expect([...ats].sort().reverse()).toEqual(ats);
    // At T2: venues' records after experts' (source descending), each source's newest id first.
    const atT2 = whole.seen.filter((node) => node.at === T2.toISOString()).map((node) => node.entityType);
    expect(atT2).toEqual(['CooperationAgreement', 'Platform', 'Expert']);

    for (const first of [1, 2, 3]) {
      const paged = await walk(as.admin, first);
      expect(paged.seen.map((node) => node.id)).toEqual(whole.seen.map((node) => node.id));
      expect(paged.total).toBe(whole.total);
    }
  });

  it('filters by entity across both sources', async () => {
    const answer = await t.graphql<Page>(as.admin, QUERY, { type: 'FeeRates', id: '411700', first: 10 });
    expect(answer.data!.masterDataChanges.totalCount).toBe(1);
    expect(answer.data!.masterDataChanges.edges[0].node.after).toBe(JSON.stringify({ expertFeeRate: '1' }));
  });

  it('shows supervisors the records without sealed fields, and refuses every other role', async () => {
    const supervisor = await walk(as.supervisor('FINANCE'), 100, 'Expert');
    const suspended = supervisor.seen.find((node) => node.entityId === 'exp-1');
    expect(JSON.parse(suspended!.after!)).toEqual({ status: 'SUSPENDED' });
    const admin = await walk(as.admin, 100, 'Expert');
    expect(JSON.parse(admin.seen.find((node) => node.entityId === 'exp-1')!.after!)).toEqual({
      name: '张三',
      status: 'SUSPENDED',
    });
    for (const caller of [as.operator(), as.partner('411700'), as.agency('某代理'), as.expert('exp-1')]) {
      const refused = await t.graphql(caller, QUERY, { first: 5 });
      expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('refuses a cursor it did not hand out', async () => {
    const answer = await t.graphql(as.admin, QUERY, {
      first: 5,
      after: Buffer.from('["x","venues","1"]').toString('base64url'),
    });
    expect(answer.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
