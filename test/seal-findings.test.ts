// Issue 14, findings 2, 3 and 9, each through the gateway as the role that exploited it: the access audit must not name
// the committee before the evaluation starts; the seed, candidate digests and stream positions must not leave the hub
// before then; a refused check-in is recorded as the caller's, and repeated sealed reads are counted, not multiplied.
import { as, eventually, startTestHub, type TestHub } from './support/hub';
import { formatReport, parseBundle, verifyBundle, type Bundle } from '../app/cli/verify-archive';
import {
  advanceFee,
  archive,
  arrangeConfirmed,
  checkInAll,
  completeEvaluation,
  confirmCommittee,
  file,
  host,
  ok,
  startEvaluation,
  submit,
  supervisor,
  type Seat,
} from './support/workflow';

let t: TestHub;
let projectId = '';
let drawId = '';
let seats: Seat[] = [];

const AUDIT = `query($id: ID!) { sealedAccessAudit(projectId: $id) { at lastAt reads actor role field seat { id } } }`;
const ATTEMPTS = `query($id: ID!) { accessAttempts(projectId: $id) { actor role admitted code seat { id } } }`;
const CHECK_IN = `mutation($seat: ID!, $room: ID!) { checkIn(seatId: $seat, roomId: $room) { id status } }`;
const VERIFY = `query($id: ID!) { verifyExpertDraw(drawId: $id) { drawId matches detail } }`;
/** Ten aliases of the sealed fields: each alias is one read of CommitteeSeat.expert and one of Expert.name. */
const MINE_TEN_TIMES = `{ myInvitations { id ${Array.from({ length: 10 }, (_, i) => `a${i}: expert { id name }`).join(' ')} } }`;

type AuditRow = {
  at: string;
  lastAt: string;
  reads: number;
  actor: string;
  role: string;
  field: string;
  seat: { id: string } | null;
};

function expertIds(): string[] {
  return seats.map((seat) => seat.expert_id!);
}
function idsIn(text: string): string[] {
  return expertIds().filter((id) => text.includes(id));
}

async function bundleAs(
  identity: Parameters<TestHub['graphql']>[0],
): Promise<{ graphql: Bundle; http: Bundle; text: string }> {
  const { archiveBundle } = await ok<{ archiveBundle: string }>(
    t,
    identity!,
    `query($id: ID!) { archiveBundle(projectId: $id) }`,
    { id: projectId },
  );
  const headers = { authorization: `Bearer ${await t.token(identity!)}` };
  const response = await fetch(new URL(`/archives/${projectId}.json`, t.hub.gateway.url), { headers });
  expect(response.status).toBe(200);
  const text = await response.text();
  return { graphql: parseBundle(archiveBundle), http: parseBundle(text), text: `${archiveBundle}\n${text}` };
}

/** What the database holds that would let the committee be recomputed: the seed and every round's digest. */
async function storedSecrets(): Promise<{ seed: string; digests: string[] }> {
  const draw = await t.databases.experts.db
    .selectFrom('draw')
    .select('seed')
    .where('id', '=', drawId)
    .executeTakeFirstOrThrow();
  const rounds = await t.databases.experts.db
    .selectFrom('draw_round')
    .select('candidates_digest')
    .where('draw_id', '=', drawId)
    .execute();
  return { seed: draw.seed!, digests: rounds.map((round) => round.candidates_digest) };
}

beforeAll(async () => {
  t = await startTestHub({ overrides: { HUB_RATE_LIMIT: '0' } });
  // Check-in opens one hour before the window: start it half an hour from now.
  const startsAt = new Date(Date.now() + 30 * 60_000);
  projectId = await submit(t, { startsAt, endsAt: new Date(startsAt.getTime() + 4 * 3_600_000) });
  await file(t, projectId);
  await arrangeConfirmed(t, projectId);
  await advanceFee(t, projectId);
  seats = await confirmCommittee(t, projectId);
  expect(seats).toHaveLength(4);
  drawId = (
    await t.databases.experts.db
      .selectFrom('draw')
      .select('id')
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow()
  ).id;
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe('finding 3: nothing that recomputes the committee leaves the hub before the evaluation starts', () => {
  it('at COMMITTEE_CONFIRMED the host operator gets no seed, no verification, and a bundle without digests or stream positions', async () => {
    const { seed, digests } = await storedSecrets();
    const read = await t.graphql<{ expertDraw: { seedCommitment: string; seed: string | null } }>(
      host,
      `query($id: ID!) { expertDraw(id: $id) { seedCommitment seed } }`,
      { id: drawId },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data!.expertDraw.seed).toBeNull();
    // The commitment stays public from the start.
    expect(read.data!.expertDraw.seedCommitment).toMatch(/^[0-9a-f]{64}$/);

    for (const caller of [host, supervisor, as.admin]) {
      const verify = await t.graphql(caller, VERIFY, { id: drawId });
      expect(verify.data ?? null).toBeNull();
      expect(verify.errors?.[0]).toMatchObject({
        extensions: { code: 'SEALED' },
        message: expect.stringContaining('IN_EVALUATION'),
      });
    }

    for (const caller of [host, supervisor, as.agency('驻马店示例招标代理有限公司')]) {
      const { graphql, http, text } = await bundleAs(caller);
      for (const bundle of [graphql, http]) {
        const [draw] = bundle.draws;
        expect(draw.seed).toBeNull();
        const rounds = draw.groups.flatMap((group) => group.rounds);
        expect(rounds.length).toBeGreaterThan(0);
        for (const round of rounds)
          expect(round).toMatchObject({
            candidatesDigest: null,
            counterStart: null,
            counterEnd: null,
            hostQuota: null,
            candidates: null,
            selected: null,
          });
      }
      // Nowhere in the bundle, the timeline included (its events carry the seed once revealed).
      expect(text).not.toContain(seed);
      for (const digest of digests) expect(text).not.toContain(digest);
      expect(idsIn(text)).toEqual([]);
    }
    const ocds = await ok<{ archiveReleasePackage: string }>(
      t,
      host,
      `query($id: ID!) { archiveReleasePackage(projectId: $id) }`,
      { id: projectId },
    );
    expect(ocds.archiveReleasePackage).not.toContain(seed);
    for (const digest of digests) expect(ocds.archiveReleasePackage).not.toContain(digest);
  });

  it('the expert reads its own seat, and the audit shows it to nobody before the evaluation (finding 2)', async () => {
    for (const seat of seats) {
      const mine = await t.graphql<{ myInvitations: { id: string; a0: { id: string; name: string } | null }[] }>(
        as.expert(seat.expert_id!),
        MINE_TEN_TIMES,
      );
      expect(mine.errors).toBeUndefined();
      expect(mine.data!.myInvitations.find((invitation) => invitation.id === seat.id)?.a0?.id).toBe(seat.expert_id);
    }
    // The reads are recorded…
    const recorded = await t.databases.experts.db
      .selectFrom('sealed_access')
      .selectAll()
      .where('project_id', '=', projectId)
      .where('role', '=', 'EXPERT')
      .execute();
    expect(recorded.length).toBeGreaterThan(0);
    // …and shown to neither the provincial admin nor the supervisors, who could look the expert up in the pool.
    for (const reader of [as.admin, supervisor]) {
      const audit = await t.graphql<{ sealedAccessAudit: AuditRow[] }>(reader, AUDIT, { id: projectId });
      expect(audit.errors).toBeUndefined();
      expect(audit.data!.sealedAccessAudit).toEqual([]);
      expect(idsIn(JSON.stringify(audit))).toEqual([]);
    }
  });
});

describe('finding 9: a refused check-in is recorded as the caller, not as the seat it named', () => {
  it('records a refused check-in as the caller, an expert by its own seat, not as the seat it named', async () => {
    // COMMITTEE_CONFIRMED: A holds an ACCEPTED seat, and names B's.
    const [a, b] = seats;
    const refused = await t.graphql(as.expert(a.expert_id!), CHECK_IN, { seat: b.id, room: b.room_id });
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const outsider = 'exp-09876';
    expect(expertIds()).not.toContain(outsider);
    expect(
      (await t.graphql(as.expert(outsider), CHECK_IN, { seat: b.id, room: b.room_id })).errors?.[0].extensions?.code,
    ).toBe('FORBIDDEN');

    const { accessAttempts } = await ok<{
      accessAttempts: { actor: string; role: string; admitted: boolean; seat: { id: string } | null }[];
    }>(t, supervisor, ATTEMPTS, { id: projectId });
    const atB = accessAttempts.filter((attempt) => !attempt.admitted && attempt.seat?.id === b.id);
    expect(atB.map((attempt) => attempt.actor)).toEqual([
      `expert@seat:${a.id}`,
      'expert@seat:none (holds no seat of this project)',
    ]);
    const rows = await t.databases.experts.db
      .selectFrom('access_attempt')
      .select(['actor', 'expert_id', 'caller_seat_id'])
      .where('seat_id', '=', b.id)
      .where('admitted', '=', false)
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      { actor: `expert:${a.expert_id}`, expert_id: a.expert_id, caller_seat_id: a.id },
      { actor: `expert:${outsider}`, expert_id: outsider, caller_seat_id: null },
    ]);
  });

  it('writes the refused attempts onto the timeline as the caller too', async () => {
    const [a, b] = seats;
    const events = await eventually(
      async () => {
        const rows = await t.databases.projects.db
          .selectFrom('project_event')
          .select(['kind', 'actor', 'data'])
          .where('project_id', '=', projectId)
          .where('kind', '=', 'ACCESS_REFUSED')
          .execute();
        return rows.length >= 2 ? rows : undefined;
      },
      20_000,
      'the refused attempts on the timeline',
    );
    for (const event of events) expect(event.actor).not.toBe(`expert@seat:${b.id}`);
    expect(events.some((event) => event.actor === `expert@seat:${a.id}`)).toBe(true);
  });
});

describe('from IN_EVALUATION on', () => {
  it('from IN_EVALUATION the seed is revealed, it verifies, the bundle carries the digests, and the archived bundle verifies offline', async () => {
    await checkInAll(t, seats);
    await startEvaluation(t, projectId);
    const { seed, digests } = await storedSecrets();
    const read = await ok<{ expertDraw: { seed: string | null } }>(
      t,
      host,
      `query($id: ID!) { expertDraw(id: $id) { seed } }`,
      { id: drawId },
    );
    expect(read.expertDraw.seed).toBe(seed);
    const verified = await ok<{ verifyExpertDraw: { matches: boolean } }>(t, as.admin, VERIFY, { id: drawId });
    expect(verified.verifyExpertDraw.matches).toBe(true);
    const { graphql } = await bundleAs(supervisor);
    expect(graphql.draws[0].seed).toBe(seed);
    expect(
      graphql.draws[0].groups.flatMap((group) => group.rounds.map((round) => round.candidatesDigest)).sort(),
    ).toEqual([...digests].sort());
    const revealed = graphql.events.filter((event) => event.kind === 'DRAW_SEED_REVEALED');
    expect(revealed).toHaveLength(1);
    expect(revealed[0].data).toMatchObject({ drawId, seed });
    // Only DRAW_SEED_REVEALED, after EVALUATION_STARTED, carries the seed.
    const carrying = graphql.events.filter((event) => JSON.stringify(event).includes(seed)).map((event) => event.kind);
    expect(carrying).toEqual(['DRAW_SEED_REVEALED']);
    expect(graphql.events.findIndex((event) => event.kind === 'DRAW_SEED_REVEALED')).toBeGreaterThan(
      graphql.events.findIndex((event) => event.kind === 'EVALUATION_STARTED'),
    );

    await completeEvaluation(t, projectId);
    await archive(t, projectId);
    const archived = await bundleAs(supervisor);
    const report = verifyBundle(archived.http);
    expect(formatReport(report)).toContain('VERIFIED');
    expect(report.ok).toBe(true);
    expect(report.draws.map((draw) => draw.verdict)).toEqual(['MATCHES']);
  });
});

describe('finding 2, after the seal lifts: the expert reads are shown, by seat, never by id', () => {
  it('shows the supervisors and the admin each expert read of its own seat as expert@seat:<seat>, aggregated', async () => {
    for (const reader of [as.admin, supervisor]) {
      const audit = await ok<{ sealedAccessAudit: AuditRow[] }>(t, reader, AUDIT, { id: projectId });
      const expertRows = audit.sealedAccessAudit.filter((row) => row.role === 'EXPERT');
      expect(new Set(expertRows.map((row) => row.seat?.id))).toEqual(new Set(seats.map((seat) => seat.id)));
      for (const row of expertRows) expect(row.actor).toBe(`expert@seat:${row.seat!.id}`);
      // The provincial admin never links an expert to a committee; the supervisors may follow seat.expert now.
      if (reader === as.admin) expect(idsIn(JSON.stringify(audit))).toEqual([]);
    }
  });
});

describe('finding 9: repeated reads are counted, not multiplied', () => {
  it('counts repeated reads of a seat in one row per (actor, seat, field, minute) instead of a row per read', async () => {
    const [seat] = seats;
    const db = t.databases.experts.db;
    await db.deleteFrom('sealed_access').where('actor', '=', `expert:${seat.expert_id}`).execute();
    for (let request = 0; request < 5; request++) {
      const mine = await t.graphql(as.expert(seat.expert_id!), MINE_TEN_TIMES);
      expect(mine.errors).toBeUndefined();
    }
    const rows = await db
      .selectFrom('sealed_access')
      .selectAll()
      .where('actor', '=', `expert:${seat.expert_id}`)
      .where('seat_id', '=', seat.id)
      .execute();
    // 5 requests × 10 aliases: 50 reads of each field, in as many rows as (field, minute) pairs the requests spanned.
    for (const field of ['CommitteeSeat.expert', 'Expert.name']) {
      const ofField = rows.filter((row) => row.field === field);
      expect(ofField.reduce((sum, row) => sum + row.reads, 0)).toBe(50);
      expect(ofField.length).toBe(new Set(ofField.map((row) => row.minute?.toISOString())).size);
    }
    expect(rows.length).toBeLessThanOrEqual(4);
    const audit = await ok<{ sealedAccessAudit: AuditRow[] }>(t, supervisor, AUDIT, { id: projectId });
    const shown = audit.sealedAccessAudit.filter(
      (row) => row.actor === `expert@seat:${seat.id}` && row.field === 'Expert.name',
    );
    expect(shown.reduce((sum, row) => sum + row.reads, 0)).toBe(50);
  });
});
