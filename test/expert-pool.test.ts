// The pool kept by PROVINCIAL_ADMIN through the gateway (MASTER-DATA.md, "The expert pool"): registering and updating
// experts, employment, suspension and reinstatement, penalties, retirement and removing a declared conflict. Bad input
// is BAD_USER_INPUT naming the field and what to change, and writes nothing; every change writes one audit record,
// whose sealed fields (name, employer) only PROVINCIAL_ADMIN reads. Seat withdrawal: test/expert-withdrawal.test.ts.
import type { EligibilityFacts } from '../subgraphs/experts';
import { as, startTestHub, type TestHub } from './support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(async () => {
  await t.stop();
});

const EXPERT_FIELDS = 'id code status suspendedUntil specialties name employer homePlatform { id }';
const REGISTER = `mutation($input: ExpertInput!) { registerExpert(input: $input) { ${EXPERT_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $patch: ExpertPatch!) { updateExpert(expertId: $id, patch: $patch) { ${EXPERT_FIELDS} } }`;
const EMPLOY = `mutation($id: ID!, $employer: String!, $from: DateTime!, $to: DateTime) { recordEmployment(expertId: $id, employer: $employer, from: $from, to: $to) { ${EXPERT_FIELDS} } }`;
const SUSPEND = `mutation($id: ID!, $until: DateTime, $reason: String!) { suspendExpert(expertId: $id, until: $until, reason: $reason) { ${EXPERT_FIELDS} } }`;
const REINSTATE = `mutation($id: ID!) { reinstateExpert(expertId: $id) { ${EXPERT_FIELDS} } }`;
const PENALISE = `mutation($id: ID!, $reason: String!, $until: DateTime) { recordPenalty(expertId: $id, reason: $reason, until: $until) { ${EXPERT_FIELDS} } }`;
const RETIRE = `mutation($id: ID!) { retireExpert(expertId: $id) { ${EXPERT_FIELDS} } }`;
const REMOVE_CONFLICT = `mutation($id: ID!, $org: String!, $kind: ConflictKind!) { removeConflict(expertId: $id, organisation: $org, kind: $kind) { id } }`;
const CHANGES = `query($type: String, $id: ID) { masterDataChanges(entityType: $type, entityId: $id, first: 20) { totalCount edges { node { entityType entityId actor role before after } } } }`;

const DAY = 86_400_000;
type ExpertAnswer = {
  id: string;
  code: string;
  status: string;
  suspendedUntil: string | null;
  specialties: string[];
  name: string;
  employer: string;
  homePlatform: { id: string };
};

let serial = 0;
const input = (overrides: Record<string, unknown> = {}) => ({
  code: `POOL-${process.pid}-${++serial}`,
  name: '王示例',
  homePlatformId: '411700',
  specialties: ['LEGAL', 'COST_ESTIMATION'],
  employer: '示例律师事务所',
  ...overrides,
});

async function register(overrides: Record<string, unknown> = {}): Promise<ExpertAnswer> {
  const answer = await t.graphql<{ registerExpert: ExpertAnswer }>(as.admin, REGISTER, { input: input(overrides) });
  expect(answer.errors).toBeUndefined();
  return answer.data!.registerExpert;
}

/** Rows of the pool's tables and its change records: equal counts, nothing written. */
async function counts() {
  const db = t.databases.experts.db;
  const count = async (table: 'expert' | 'employment' | 'penalty' | 'declared_conflict' | 'master_data_change') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    experts: await count('expert'),
    employment: await count('employment'),
    penalties: await count('penalty'),
    conflicts: await count('declared_conflict'),
    changes: await count('master_data_change'),
  };
}

async function changesOf(id: string, reader: Parameters<TestHub['graphql']>[0] = as.admin) {
  const answer = await t.graphql<{
    masterDataChanges: {
      totalCount: number;
      edges: {
        node: { entityType: string; actor: string; role: string; before: string | null; after: string | null };
      }[];
    };
  }>(reader, CHANGES, { id });
  expect(answer.errors).toBeUndefined();
  return answer.data!.masterDataChanges;
}

const facts = (startsAt: Date): EligibilityFacts => ({
  projectId: 'prj-pool-keeping',
  tenderer: '示例招标人有限公司',
  agency: '示例代理有限公司',
  bidders: ['示例投标人甲有限公司'],
  department: 'TRANSPORT',
  hostRegion: ['411700'],
  mode: 'LOCAL',
  startsAt: startsAt.toISOString(),
  endsAt: new Date(startsAt.getTime() + 8 * 3_600_000).toISOString(),
  pools: {},
});
const inWindow = facts(new Date(Date.now() + 40 * DAY));

describe('registerExpert and updateExpert', () => {
  it('registers an ACTIVE expert with one change record; its name and employer are left out for supervisors', async () => {
    const expert = await register();
    expect(expert).toMatchObject({ status: 'ACTIVE', specialties: ['LEGAL', 'COST_ESTIMATION'], name: '王示例' });
    const mine = await changesOf(expert.id);
    expect(mine.totalCount).toBe(1);
    expect(mine.edges[0].node).toMatchObject({ entityType: 'Expert', role: 'PROVINCIAL_ADMIN', before: null });
    expect(JSON.parse(mine.edges[0].node.after!)).toMatchObject({
      code: expert.code,
      name: '王示例',
      status: 'ACTIVE',
    });
    const supervised = await changesOf(expert.id, as.supervisor('TRANSPORT'));
    const after = JSON.parse(supervised.edges[0].node.after!) as Record<string, unknown>;
    expect(after.code).toBe(expert.code);
    expect(after).not.toHaveProperty('name');
    expect(after).not.toHaveProperty('employer');
  });

  it('refuses a taken code, an unknown specialty (naming the nearest known ones) and an unknown platform, writing nothing', async () => {
    const taken = await register();
    const before = await counts();
    const duplicate = await t.graphql(as.admin, REGISTER, { input: input({ code: taken.code }) });
    expect(duplicate.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.code' });
    expect(duplicate.errors?.[0]?.message).toContain(taken.id);
    const misspelt = await t.graphql(as.admin, REGISTER, { input: input({ specialties: ['CIVIL_ENGINERING'] }) });
    expect(misspelt.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.specialties' });
    expect(misspelt.errors?.[0]?.message).toMatch(/nearest known ones are CIVIL_ENGINEERING/);
    const nowhere = await t.graphql(as.admin, REGISTER, { input: input({ homePlatformId: '999999' }) });
    expect(nowhere.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.homePlatformId' });
    const blank = await t.graphql(as.admin, REGISTER, { input: input({ name: '  ' }) });
    expect(blank.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    const badPatch = await t.graphql(as.admin, UPDATE, { id: taken.id, patch: { specialties: ['HAVC'] } });
    expect(badPatch.errors?.[0]?.message).toMatch(/nearest known ones are HVAC/);
    expect(await counts()).toEqual(before);
  });

  it('gives a code to one of six registrations racing for it', async () => {
    const code = `RACE-${process.pid}`;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => t.graphql(as.admin, REGISTER, { input: input({ code }) })),
    );
    expect(answers.filter((answer) => !answer.errors)).toHaveLength(1);
    expect(answers.filter((answer) => answer.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT')).toHaveLength(5);
  });

  it('updates the given fields, recording only what changed; an update that changes nothing records nothing', async () => {
    const expert = await register();
    const updated = await t.graphql<{ updateExpert: ExpertAnswer }>(as.admin, UPDATE, {
      id: expert.id,
      patch: { specialties: ['HVAC'], homePlatformId: '411721' },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateExpert).toMatchObject({ specialties: ['HVAC'], homePlatform: { id: '411721' } });
    const changes = await changesOf(expert.id);
    expect(changes.totalCount).toBe(2);
    expect(JSON.parse(changes.edges[0].node.before!)).toEqual({
      homePlatformId: '411700',
      specialties: ['LEGAL', 'COST_ESTIMATION'],
    });
    expect(JSON.parse(changes.edges[0].node.after!)).toEqual({ homePlatformId: '411721', specialties: ['HVAC'] });
    const again = await t.graphql(as.admin, UPDATE, { id: expert.id, patch: { specialties: ['HVAC'] } });
    expect(again.errors).toBeUndefined();
    expect((await changesOf(expert.id)).totalCount).toBe(2);
  });
});

describe('employment, suspension, penalties and retirement', () => {
  it('records a current employment as the employer, so ground 1 avoids the expert for that party', async () => {
    const expert = await register();
    const employed = await t.graphql<{ recordEmployment: ExpertAnswer }>(as.admin, EMPLOY, {
      id: expert.id,
      employer: inWindow.tenderer,
      from: new Date(Date.now() - 30 * DAY).toISOString(),
    });
    expect(employed.errors).toBeUndefined();
    expect(employed.data!.recordEmployment.employer).toBe(inWindow.tenderer);
    expect(await t.hub.services.experts.expertsAvoidedBy('employedByParty', inWindow, [expert.id])).toEqual([
      expert.id,
    ]);
    expect((await changesOf(expert.id)).totalCount).toBe(2);
  });

  it('refuses an employment that ends before it starts, writing nothing', async () => {
    const expert = await register();
    const before = await counts();
    const backwards = await t.graphql(as.admin, EMPLOY, {
      id: expert.id,
      employer: '示例公司',
      from: new Date(Date.now() - 10 * DAY).toISOString(),
      to: new Date(Date.now() - 20 * DAY).toISOString(),
    });
    expect(backwards.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(backwards.errors?.[0]?.message).toMatch(/ends before/);
    expect(await counts()).toEqual(before);
  });

  it('suspends until a date (ground 5 avoids), refuses an end in the past, reinstates (ground 5 no longer avoids)', async () => {
    const expert = await register();
    const before = await counts();
    const past = await t.graphql(as.admin, SUSPEND, {
      id: expert.id,
      reason: '调查中',
      until: new Date(Date.now() - DAY).toISOString(),
    });
    expect(past.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' });
    expect(await counts()).toEqual(before);
    const until = new Date(Date.now() + 90 * DAY).toISOString();
    const suspended = await t.graphql<{ suspendExpert: ExpertAnswer }>(as.admin, SUSPEND, {
      id: expert.id,
      reason: '调查中',
      until,
    });
    expect(suspended.errors).toBeUndefined();
    expect(suspended.data!.suspendExpert).toMatchObject({ status: 'SUSPENDED', suspendedUntil: until });
    const avoided = () => t.hub.services.experts.expertsAvoidedBy('suspendedOrPenalised', inWindow, [expert.id]);
    expect(await avoided()).toEqual([expert.id]);
    const reinstated = await t.graphql<{ reinstateExpert: ExpertAnswer }>(as.admin, REINSTATE, { id: expert.id });
    expect(reinstated.data!.reinstateExpert).toMatchObject({ status: 'ACTIVE', suspendedUntil: null });
    expect(await avoided()).toEqual([]);
    expect((await changesOf(expert.id)).totalCount).toBe(3);
  });

  it('records a penalty (ground 5 avoids while it runs) and retires for good (never reinstated)', async () => {
    const [penalised, retiring] = [await register(), await register()];
    const penalty = await t.graphql(as.admin, PENALISE, {
      id: penalised.id,
      reason: '评标中未客观公正履行职责',
      until: new Date(Date.now() + 365 * DAY).toISOString(),
    });
    expect(penalty.errors).toBeUndefined();
    const retired = await t.graphql<{ retireExpert: ExpertAnswer }>(as.admin, RETIRE, { id: retiring.id });
    expect(retired.data!.retireExpert.status).toBe('RETIRED');
    expect(
      await t.hub.services.experts.expertsAvoidedBy('suspendedOrPenalised', inWindow, [penalised.id, retiring.id]),
    ).toEqual([penalised.id, retiring.id].sort());
    const before = await counts();
    const back = await t.graphql(as.admin, REINSTATE, { id: retiring.id });
    expect(back.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const unknown = await t.graphql(as.admin, RETIRE, { id: 'exp-no-such-expert' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await counts()).toEqual(before);
  });

  it('removes a declared conflict as a recorded change, after which ground 3 no longer avoids the expert', async () => {
    const expert = await register();
    const bidder = inWindow.bidders[0];
    const declared = await t.graphql(
      as.expert(expert.id),
      `mutation($org: String!) { declareConflict(organisation: $org, kind: KINSHIP) { id } }`,
      {
        org: bidder,
      },
    );
    expect(declared.errors).toBeUndefined();
    const avoided = () => t.hub.services.experts.expertsAvoidedBy('declaredConflictWithBidder', inWindow, [expert.id]);
    expect(await avoided()).toEqual([expert.id]);
    const before = await counts();
    const wrongKind = await t.graphql(as.admin, REMOVE_CONFLICT, { id: expert.id, org: bidder, kind: 'OTHER' });
    expect(wrongKind.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await counts()).toEqual(before);
    const removed = await t.graphql(as.admin, REMOVE_CONFLICT, { id: expert.id, org: bidder, kind: 'KINSHIP' });
    expect(removed.errors).toBeUndefined();
    expect(await avoided()).toEqual([]);
    const record = await t.graphql<{
      masterDataChanges: { edges: { node: { before: string; after: string | null } }[] };
    }>(as.admin, CHANGES, { type: 'DeclaredConflict', id: expert.id });
    expect(record.data!.masterDataChanges.edges.map((edge) => edge.node.after)).toEqual([null, expect.any(String)]);
    expect(JSON.parse(record.data!.masterDataChanges.edges[0].node.before)).toEqual({
      organisation: bidder,
      kind: 'KINSHIP',
    });
  });
});
