// An expert's own declarations through the gateway (MASTER-DATA.md, "The expert pool"): conflicts, unavailability and
// its cancellation, each for the token's own record only and each one audit record. A declared window keeps the expert
// out of every draw over it (avoidance ground 9); one over a seat it already accepted is CONFLICT.
import { sql } from 'kysely';
import type { EligibilityFacts } from '../subgraphs/experts';
import { eligibleExperts } from '../subgraphs/experts/eligibility';
import { as, startTestHub, type TestHub } from './support/hub';

let t: TestHub;
let experts: string[];
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  experts = (
    await t.databases.experts.db
      .selectFrom('expert')
      .select('id')
      .where('status', '=', 'ACTIVE')
      .orderBy('id')
      .limit(8)
      .execute()
  ).map((row) => row.id);
});
afterAll(async () => {
  await t.stop();
});

const DAY = 86_400_000;
const HOUR = 3_600_000;
const DECLARE_CONFLICT = `mutation($org: String!, $kind: ConflictKind!) { declareConflict(organisation: $org, kind: $kind) { id } }`;
const DECLARE = `mutation($from: DateTime!, $to: DateTime!, $reason: String) { declareUnavailability(from: $from, to: $to, reason: $reason) { id unavailability { id from to reason } } }`;
const CANCEL = `mutation($id: ID!) { cancelUnavailability(id: $id) { id unavailability { id } } }`;
type Declared = { declareUnavailability: { id: string; unavailability: { id: string; from: string; to: string }[] } };

const changeCount = async () =>
  Number(
    (
      await t.databases.experts.db
        .selectFrom('master_data_change')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
const windowAt = (days: number) => ({
  from: new Date(Date.now() + days * DAY),
  to: new Date(Date.now() + days * DAY + 8 * HOUR),
});
const iso = (window: { from: Date; to: Date }) => ({ from: window.from.toISOString(), to: window.to.toISOString() });

/** A seat of the expert over the window, in the given status, on a draw of its own. */
async function seatOf(expertId: string, window: { from: Date; to: Date }, status: 'INVITED' | 'ACCEPTED') {
  const db = t.databases.experts.db;
  const id = `${expertId}-${window.from.getTime()}`;
  await db
    .insertInto('draw')
    .values({
      id: `drw-${id}`,
      project_id: `prj-${id}`,
      status: 'PENDING',
      seed_commitment: 'b'.repeat(64),
      seed: null,
      supervisor_nonce: null,
      failure_reason: null,
      starts_at: window.from,
      ends_at: window.to,
      completed_at: null,
    })
    .execute();
  await db
    .insertInto('committee_seat')
    .values({
      id: `seat-${id}`,
      draw_id: `drw-${id}`,
      project_id: `prj-${id}`,
      booking_id: 'bk-declarations',
      room_id: 'room-declarations',
      specialty: 'LEGAL',
      round: 1,
      status,
      expert_id: expertId,
      during: sql<string>`tstzrange(${window.from}::timestamptz, ${window.to}::timestamptz, '[)')`,
      invited_at: new Date(),
      answer_due_at: null,
      responded_at: null,
      reason: null,
    })
    .execute();
  return `prj-${id}`;
}

describe('declareConflict', () => {
  it("adds a conflict to the caller's own record, once, with one change record; ground 3 then avoids it", async () => {
    const [expert] = experts;
    const before = await changeCount();
    const org = '示例投标人丙有限公司';
    for (let i = 0; i < 2; i++) {
      const answer = await t.graphql<{ declareConflict: { id: string } }>(as.expert(expert), DECLARE_CONFLICT, {
        org,
        kind: 'ECONOMIC_INTEREST',
      });
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.declareConflict.id).toBe(expert);
    }
    expect(await changeCount()).toBe(before + 1);
    const facts: EligibilityFacts = {
      projectId: 'prj-declared',
      tenderer: '示例招标人',
      agency: '示例代理',
      bidders: [org],
      department: 'TRANSPORT',
      hostRegion: ['411700'],
      mode: 'LOCAL',
      ...(({ from, to }) => ({ startsAt: from, endsAt: to }))(iso(windowAt(60))),
      pools: {},
    };
    expect(await t.hub.services.experts.expertsAvoidedBy('declaredConflictWithBidder', facts, [expert])).toEqual([
      expert,
    ]);
  });

  it('refuses an empty organisation, writing nothing', async () => {
    const before = await changeCount();
    const blank = await t.graphql(as.expert(experts[0]), DECLARE_CONFLICT, { org: ' ', kind: 'OTHER' });
    expect(blank.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'organisation' });
    expect(await changeCount()).toBe(before);
  });
});

describe('declareUnavailability and cancelUnavailability', () => {
  it('keeps the expert out of every draw over the window, and lets it back once cancelled', async () => {
    const [, expert] = experts;
    const window = windowAt(90);
    const declared = await t.graphql<Declared>(as.expert(expert), DECLARE, { ...iso(window), reason: '出国访问' });
    expect(declared.errors).toBeUndefined();
    const [unavailable] = declared.data!.declareUnavailability.unavailability;
    expect(unavailable).toMatchObject({ reason: '出国访问' });
    expect(new Date(unavailable.from)).toEqual(window.from);
    const specialty = `DECLARED_${process.pid}`;
    await t.databases.experts.db
      .updateTable('expert')
      .set({ specialties: sql<string[]>`specialties || array[${specialty}]::text[]` })
      .where('id', '=', expert)
      .execute();
    const candidates = async (from: Date) => {
      const eligible = await eligibleExperts(
        t.databases.experts.db,
        {
          projectId: 'prj-over-the-window',
          tenderer: '示例招标人',
          agency: '示例代理',
          bidders: [],
          department: 'TRANSPORT',
          hostRegion: ['411700'],
          mode: 'LOCAL',
          startsAt: from.toISOString(),
          endsAt: new Date(from.getTime() + 4 * HOUR).toISOString(),
          pools: {},
          now: new Date(),
          drawLimit30d: 3,
        },
        [{ group_key: 'g', specialty }],
      );
      return eligible.get('g')!.candidates;
    };
    expect(await candidates(new Date(window.from.getTime() + 2 * HOUR))).toEqual([]);
    expect(await candidates(window.to)).toEqual([expert]);
    const cancelled = await t.graphql<{ cancelUnavailability: { unavailability: unknown[] } }>(
      as.expert(expert),
      CANCEL,
      {
        id: unavailable.id,
      },
    );
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data!.cancelUnavailability.unavailability).toEqual([]);
    expect(await candidates(new Date(window.from.getTime() + 2 * HOUR))).toEqual([expert]);
  });

  it("refuses to cancel another expert's window (FORBIDDEN) and an unknown one, writing nothing", async () => {
    const [, , owner, other] = experts;
    const declared = await t.graphql<Declared>(as.expert(owner), DECLARE, iso(windowAt(100)));
    const [mine] = declared.data!.declareUnavailability.unavailability;
    const before = await changeCount();
    const theirs = await t.graphql(as.expert(other), CANCEL, { id: mine.id });
    expect(theirs.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unknown = await t.graphql(as.expert(other), CANCEL, { id: 'unav_nothing' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await changeCount()).toBe(before);
    const row = await t.databases.experts.db
      .selectFrom('unavailability')
      .selectAll()
      .where('id', '=', mine.id)
      .executeTakeFirstOrThrow();
    expect(row.cancelled_at).toBeNull();
  });

  it('refuses a window that ends before it starts or is over, and one over an accepted seat (CONFLICT), writing nothing', async () => {
    const [, , , , expert] = experts;
    const window = windowAt(120);
    const project = await seatOf(expert, window, 'ACCEPTED');
    const before = await changeCount();
    const backwards = await t.graphql(as.expert(expert), DECLARE, {
      from: window.to.toISOString(),
      to: window.from.toISOString(),
    });
    expect(backwards.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    expect(backwards.errors?.[0]?.message).toMatch(/ends before/);
    const over = await t.graphql(
      as.expert(expert),
      DECLARE,
      iso({ from: new Date(Date.now() - 3 * DAY), to: new Date(Date.now() - DAY) }),
    );
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    const overSeat = await t.graphql(
      as.expert(expert),
      DECLARE,
      iso({ from: new Date(window.from.getTime() + HOUR), to: new Date(window.to.getTime() + DAY) }),
    );
    expect(overSeat.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(overSeat.errors?.[0]?.message).toMatch(/ask the host to replace you/);
    expect(overSeat.errors?.[0]?.message).toContain(project);
    expect(await changeCount()).toBe(before);
    const rows = await t.databases.experts.db
      .selectFrom('unavailability')
      .select('id')
      .where('expert_id', '=', expert)
      .execute();
    expect(rows).toEqual([]);
  });

  it('accepts a window over a seat only invited, after which that invitation can only be declined', async () => {
    const [, , , , , expert] = experts;
    const window = windowAt(130);
    const project = await seatOf(expert, window, 'INVITED');
    const seatId = `seat-${project.slice('prj-'.length)}`;
    const before = await changeCount();
    const declared = await t.graphql<Declared>(as.expert(expert), DECLARE, iso(window));
    expect(declared.errors).toBeUndefined();
    expect(await changeCount()).toBe(before + 1);
    const respond = `mutation($id: ID!) { respondToInvitation(seatId: $id, accept: true) { id status } }`;
    const accepted = await t.graphql(as.expert(expert), respond, { id: seatId });
    expect(accepted.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(accepted.errors?.[0]?.message).toMatch(/declared yourself unavailable/);
    const seat = await t.databases.experts.db
      .selectFrom('committee_seat')
      .select('status')
      .where('id', '=', seatId)
      .executeTakeFirstOrThrow();
    expect(seat.status).toBe('INVITED');
  });

  it('records the declaration as a change by the expert; its reason is left out for supervisors', async () => {
    const [, , , , , , expert] = experts;
    const declared = await t.graphql<Declared>(as.expert(expert), DECLARE, {
      ...iso(windowAt(140)),
      reason: '手术住院',
    });
    const [window] = declared.data!.declareUnavailability.unavailability;
    const query = `query($id: ID!) { masterDataChanges(entityType: "ExpertUnavailability", entityId: $id) { edges { node { actor role after } } } }`;
    const admin = await t.graphql<{ masterDataChanges: { edges: { node: { role: string; after: string } }[] } }>(
      as.admin,
      query,
      { id: window.id },
    );
    expect(admin.data!.masterDataChanges.edges).toHaveLength(1);
    expect(admin.data!.masterDataChanges.edges[0].node.role).toBe('EXPERT');
    expect(JSON.parse(admin.data!.masterDataChanges.edges[0].node.after)).toMatchObject({
      expertId: expert,
      reason: '手术住院',
    });
    const supervisor = await t.graphql<{ masterDataChanges: { edges: { node: { after: string } }[] } }>(
      as.supervisor('TRANSPORT'),
      query,
      {
        id: window.id,
      },
    );
    expect(JSON.parse(supervisor.data!.masterDataChanges.edges[0].node.after)).not.toHaveProperty('reason');
  });
});
