// Suspending, penalising or retiring an expert who sits on committees (MASTER-DATA.md, "The expert pool"): refused
// with CONFLICT naming the projects, writing nothing; with withdrawSeats: true each seat is replaced by the verifiable
// replacement draw (the drawReplacement a member's withdrawal during the evaluation uses). Until the evaluation starts
// nothing tells who was withdrawn; once the seal lifts, the archive shows the replacement round and verifyExpertDraw
// recomputes it.
import { sql } from 'kysely';
import { POOL_WITHDRAWAL_REASON } from '../subgraphs/experts/withdrawal';
import { as, startTestHub, type TestHub } from './support/hub';
import { AGENCY, drawFourOf, HOST, seatsOf } from './support/expert-draw';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

const SUSPEND = `mutation($id: ID!, $w: Boolean) { suspendExpert(expertId: $id, reason: "涉嫌违规，暂停抽取", withdrawSeats: $w) { id status } }`;
const PENALISE = `mutation($id: ID!, $w: Boolean) { recordPenalty(expertId: $id, reason: "无正当理由拒不参加评标", withdrawSeats: $w) { id status } }`;
const RETIRE = `mutation($id: ID!, $w: Boolean) { retireExpert(expertId: $id, withdrawSeats: $w) { id status } }`;
const SEATS = `query($id: ID!) { project(id: $id) { expertDraw { id seats { id status round reason expert { id code } } } } }`;
const CHANGES = `query($id: ID!) { masterDataChanges(entityType: "Expert", entityId: $id, first: 10) { totalCount edges { node { entityId before after note } } } }`;

let pools = 0;
/** The tenderer, agency and bidders of feeAdvancedProject's projects: experts tied to them are avoided (grounds 1-3). */
const PARTIES = ['示例城市建设投资有限公司', AGENCY, '河南示例路桥建设有限公司', '示例市政工程有限公司'];

/**
 * A committee of four drawn (LOCAL, one room) from a specialty that exactly 4 + `spare` experts have, each with a clean
 * record (no tie to the project's parties, no conflict or penalty on file), so that `spare` of them are left to replace a member.
 */
async function committee(spare: number) {
  const db = t.databases.experts.db;
  const specialty = `WITHDRAWAL_POOL_${++pools}_${process.pid}`;
  const pool = await db
    .selectFrom('expert as e')
    .select('e.id')
    .where('e.status', '=', 'ACTIVE')
    .where('e.supervision_department', 'is', null)
    .where(sql<boolean>`e.employer <> all(${PARTIES}::text[])`)
    .where(
      sql<boolean>`not exists (select 1 from employment m where m.expert_id = e.id and m.organisation = any(${PARTIES}::text[]))`,
    )
    .where(sql<boolean>`not exists (select 1 from declared_conflict c where c.expert_id = e.id)`)
    .where(sql<boolean>`not exists (select 1 from penalty p where p.expert_id = e.id)`)
    .orderBy('e.id')
    .offset(10 * pools)
    .limit(4 + spare)
    .execute();
  const { projectId, draw, seats } = await drawFourOf(
    t,
    pool.map((expert) => expert.id),
    specialty,
  );
  expect(seats).toHaveLength(4);
  return { projectId, draw, seats, member: seats[0].expert_id! };
}

const changeCount = async () =>
  Number(
    (
      await t.databases.experts.db
        .selectFrom('master_data_change')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
const expertRow = (id: string) =>
  t.databases.experts.db.selectFrom('expert').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const penalties = (id: string) =>
  t.databases.experts.db.selectFrom('penalty').selectAll().where('expert_id', '=', id).execute();

it('refuses to suspend, penalise or retire a member without withdrawSeats: CONFLICT naming the project, nothing written', async () => {
  const { projectId, draw, seats, member } = await committee(2);
  const before = { changes: await changeCount(), expert: await expertRow(member), penalties: await penalties(member) };
  for (const mutation of [SUSPEND, PENALISE, RETIRE]) {
    for (const w of [undefined, false]) {
      const refused = await t.graphql(as.admin, mutation, { id: member, w });
      expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect(refused.errors?.[0]?.message).toContain(projectId);
      expect(refused.errors?.[0]?.message).toMatch(/withdrawSeats: true/);
    }
  }
  expect(await changeCount()).toBe(before.changes);
  expect(await expertRow(member)).toEqual(before.expert);
  expect(await penalties(member)).toEqual(before.penalties);
  expect(await seatsOf(t, draw.id)).toEqual(seats);
});

it('withdraws the seats through the verifiable replacement draw: sealed before the evaluation starts, verifiable after', async () => {
  const { projectId, draw, seats, member } = await committee(2);
  const [{ code }] = [await expertRow(member)];
  const suspended = await t.graphql<{ suspendExpert: { status: string } }>(as.admin, SUSPEND, { id: member, w: true });
  expect(suspended.errors).toBeUndefined();
  expect(suspended.data!.suspendExpert.status).toBe('SUSPENDED');

  // The member's seat is REPLACED, and the next round of its group drew and invited somebody else.
  const after = await seatsOf(t, draw.id);
  const old = after.find((seat) => seat.id === seats[0].id)!;
  expect(old).toMatchObject({ status: 'REPLACED', reason: POOL_WITHDRAWAL_REASON, live: false });
  const replacement = after.find((seat) => seat.replaces_seat_id === old.id)!;
  expect(replacement).toMatchObject({ status: 'INVITED', round: 2, group_key: old.group_key, live: true });
  expect(replacement.expert_id).not.toBe(member);
  expect(replacement.invited_at).not.toBeNull();
  const rounds = await t.hub.services.experts.roundsOfDraw(draw.id);
  expect(rounds.map((round) => [round.round, round.outcome])).toEqual([
    [1, 'SEATED'],
    [2, 'SEATED'],
  ]);
  expect(rounds[1].candidates).not.toContain(member);

  // Before the evaluation starts: the host sees a seat replaced, never whose; the change record names no seat or draw.
  const hostView = await t.graphql<{
    project: { expertDraw: { seats: { id: string; status: string; reason: string | null }[] } };
  }>(as.operator(HOST), SEATS, { id: projectId });
  expect(hostView.errors?.length).toBeGreaterThan(0);
  expect(hostView.errors!.every((error) => error.extensions?.code === 'SEALED')).toBe(true);
  const shownSeats = hostView.data!.project.expertDraw.seats;
  expect(shownSeats.find((seat) => seat.id === old.id)).toMatchObject({
    status: 'REPLACED',
    reason: POOL_WITHDRAWAL_REASON,
  });
  expect(JSON.stringify(hostView)).not.toContain(member);
  expect(JSON.stringify(hostView)).not.toContain(code);
  for (const reader of [as.admin, as.supervisor('HOUSING_AND_CONSTRUCTION', HOST)]) {
    const changes = await t.graphql<{ masterDataChanges: { totalCount: number } }>(reader, CHANGES, { id: member });
    expect(changes.errors).toBeUndefined();
    expect(changes.data!.masterDataChanges.totalCount).toBe(1);
    const text = JSON.stringify(changes.data);
    for (const sealed of [projectId, draw.id, old.id, replacement.id]) expect(text).not.toContain(sealed);
  }
  const sealedVerify = await t.graphql(
    as.operator(HOST),
    `query($id: ID!) { verifyExpertDraw(drawId: $id) { matches } }`,
    {
      id: draw.id,
    },
  );
  expect(sealedVerify.errors?.[0]?.extensions?.code).toBe('SEALED');
  const sealedArchive = await t.graphql<{ archiveBundle: string }>(
    as.operator(HOST),
    `query($id: ID!) { archiveBundle(projectId: $id) }`,
    { id: projectId },
  );
  expect(sealedArchive.errors).toBeUndefined();
  expect(sealedArchive.data!.archiveBundle).not.toContain(member);

  // The evaluation starts (the step unseals the committee): the replacement round recomputes, and the archive shows it.
  await t.hub.services.experts.unsealCommittee(projectId);
  const verified = await t.graphql<{ verifyExpertDraw: { matches: boolean; detail: string | null } }>(
    as.operator(HOST),
    `query($id: ID!) { verifyExpertDraw(drawId: $id) { matches detail } }`,
    { id: draw.id },
  );
  expect(verified.errors).toBeUndefined();
  expect(verified.data!.verifyExpertDraw).toEqual({
    matches: true,
    detail: '2 round(s) recomputed from the stored candidate lists and the seed',
  });
  const archive = await t.graphql<{ archiveBundle: string }>(
    as.operator(HOST),
    `query($id: ID!) { archiveBundle(projectId: $id) }`,
    {
      id: projectId,
    },
  );
  expect(archive.errors).toBeUndefined();
  const bundle = JSON.parse(archive.data!.archiveBundle) as {
    draws: {
      id: string;
      groups: { rounds: { round: number; selected: string[] | null }[] }[];
      seats: { id: string; status: string; replacesSeatId: string | null; expertId?: string }[];
    }[];
  };
  const archived = bundle.draws.find((candidate) => candidate.id === draw.id)!;
  expect(archived.groups[0].rounds.map((round) => round.round)).toEqual([1, 2]);
  expect(archived.groups[0].rounds[1].selected).toEqual([replacement.expert_id]);
  expect(archived.seats.find((seat) => seat.id === old.id)).toMatchObject({ status: 'REPLACED', expertId: member });
  expect(archived.seats.find((seat) => seat.replacesSeatId === old.id)).toMatchObject({
    id: replacement.id,
    expertId: replacement.expert_id,
  });
});

it('penalises and retires with withdrawSeats the same way: each seat replaced, one change record each', async () => {
  const { draw, seats } = await committee(3);
  const [first, second] = [seats[0], seats[1]];
  const changes = await changeCount();
  const penalised = await t.graphql(as.admin, PENALISE, { id: first.expert_id, w: true });
  expect(penalised.errors).toBeUndefined();
  expect(await penalties(first.expert_id!)).toHaveLength(1);
  const retired = await t.graphql<{ retireExpert: { status: string } }>(as.admin, RETIRE, {
    id: second.expert_id,
    w: true,
  });
  expect(retired.errors).toBeUndefined();
  expect(retired.data!.retireExpert.status).toBe('RETIRED');
  expect(await changeCount()).toBe(changes + 2);
  const after = await seatsOf(t, draw.id);
  for (const seat of [first, second]) {
    expect(after.find((candidate) => candidate.id === seat.id)!.status).toBe('REPLACED');
    expect(after.some((candidate) => candidate.replaces_seat_id === seat.id && candidate.live)).toBe(true);
  }
  expect(after.filter((seat) => seat.live)).toHaveLength(4);
  expect((await t.hub.services.experts.verifyDraw(draw.id)).matches).toBe(true);
});

it('refuses with INSUFFICIENT_EXPERTS when nobody is left to replace a seat, writing nothing at all', async () => {
  const { draw, seats, member } = await committee(0);
  const before = { changes: await changeCount(), expert: await expertRow(member) };
  const refused = await t.graphql(as.admin, RETIRE, { id: member, w: true });
  expect(refused.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_EXPERTS');
  expect(await changeCount()).toBe(before.changes);
  expect(await expertRow(member)).toEqual(before.expert);
  expect(await seatsOf(t, draw.id)).toEqual(seats);
});
