// Expert draws end to end: committee arithmetic, an impossible group, the regional rule, invitations with a decline and
// its replacement, the committee's confirmation with the seed revealed, verification, and sealing with its audit.
import { createHash } from 'node:crypto';
import { signIdentity } from '../lib/identity';
import { as, eventually, startTestHub, type TestHub } from './support/hub';
import {
  AGENCY,
  DRAW,
  drawSettled,
  feeAdvancedProject,
  HOST,
  projectStatus,
  roomsOf,
  seatsOf,
} from './support/expert-draw';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

type DrawResult = {
  drawExperts: {
    id: string;
    status: string;
    expertDraw: { id: string; status: string; seedCommitment: string; seed: string | null };
  };
};
const SEATS_QUERY = `query($id: ID!) { project(id: $id) { expertDraw { seats { id status round expert { id name } } } } }`;
const RESPOND = `mutation($seatId: ID!, $accept: Boolean!, $reason: String) { respondToInvitation(seatId: $seatId, accept: $accept, reason: $reason) { id status } }`;
const VERIFY = `query($id: ID!) { verifyExpertDraw(drawId: $id) { drawId matches detail } }`;

async function mainRoom(): Promise<{ id: string; seats: number }> {
  return (await roomsOf(t, HOST))[0];
}

describe('committee arithmetic', () => {
  it('refuses seats that do not add up, rooms without a confirmed booking and an overfull room, writing nothing', async () => {
    const room = await mainRoom();
    const projectId = await feeAdvancedProject(t, {
      mode: 'LOCAL',
      bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
    });
    const cases: [unknown[], string][] = [
      [[{ roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: 3 }], 'seats'],
      [[{ roomId: 'room-410100-1', specialty: 'CIVIL_ENGINEERING', count: 4 }], 'seats[0].roomId'],
      [[{ roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: 0 }], 'seats[0].count'],
      [[{ roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: room.seats }], 'seats[0].count'],
      [
        [
          { roomId: room.id, specialty: 'LEGAL', count: 2 },
          { roomId: room.id, specialty: 'LEGAL', count: 2 },
        ],
        'seats[1]',
      ],
      [[], 'seats'],
    ];
    for (const [seats, field] of cases) {
      const response = await t.graphql(as.operator(HOST), DRAW, { projectId, seats });
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const other = await t.graphql(as.operator('410100'), DRAW, {
      projectId,
      seats: [{ roomId: room.id, specialty: 'LEGAL', count: 4 }],
    });
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(
      await t.databases.experts.db.selectFrom('draw').select('id').where('project_id', '=', projectId).execute(),
    ).toEqual([]);
    expect(await projectStatus(t, projectId)).toBe('FEE_ADVANCED');
  });
});

describe('an impossible group', () => {
  it('fails the draw with INSUFFICIENT_EXPERTS naming the group, reserves nothing and returns the project to FEE_ADVANCED', async () => {
    const room = await mainRoom();
    const projectId = await feeAdvancedProject(t, {
      mode: 'LOCAL',
      bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
    });
    const response = await t.graphql<DrawResult>(as.operator(HOST), DRAW, {
      projectId,
      seats: [
        { roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: 2 },
        { roomId: room.id, specialty: 'UNDERWATER_BASKET_WEAVING', count: 2 },
      ],
    });
    expect(response.errors).toBeUndefined();
    expect(response.data!.drawExperts.status).toBe('EXPERTS_DRAWING');
    expect(response.data!.drawExperts.expertDraw.seedCommitment).toMatch(/^[0-9a-f]{64}$/);
    const draw = await drawSettled(t, projectId);
    expect(draw.status).toBe('FAILED');
    expect(draw.failure_reason).toContain('INSUFFICIENT_EXPERTS');
    expect(draw.failure_reason).toContain(`${room.id} × UNDERWATER_BASKET_WEAVING`);
    expect(draw.failure_reason).toContain('only 0 are eligible');
    const live = await t.databases.experts.db
      .selectFrom('committee_seat')
      .select('id')
      .where('draw_id', '=', draw.id)
      .where('live', '=', true)
      .execute();
    expect(live).toEqual([]);
    const timeline = await t.hub.services.projects.eventsOfProjects([projectId]);
    expect(timeline.at(-1)).toMatchObject({ kind: 'EXPERT_DRAW_FAILED' });
    expect(timeline.at(-1)!.detail).toContain('UNDERWATER_BASKET_WEAVING');
  });
});

describe('the regional rule of a REMOTE project', () => {
  it('seats secondary-venue experts from that venue region and at most floor(share × seats) from the host region', async () => {
    const room = await mainRoom();
    const secondary = (await roomsOf(t, '410100'))[0];
    const projectId = await feeAdvancedProject(t, {
      mode: 'REMOTE',
      committeeSize: 7,
      tendererRepresentatives: 1,
      startsAt: new Date(Date.now() + 30 * 86_400_000),
      endsAt: new Date(Date.now() + 30 * 86_400_000 + 8 * 3_600_000),
      bookings: [
        { roomId: room.id, role: 'MAIN', seats: room.seats },
        { roomId: secondary.id, role: 'SECONDARY', seats: 3 },
      ],
    });
    const response = await t.graphql(as.operator(HOST), DRAW, {
      projectId,
      seats: [
        { roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: 3 },
        { roomId: secondary.id, specialty: 'CIVIL_ENGINEERING', count: 3 },
      ],
    });
    expect(response.errors).toBeUndefined();
    const draw = await drawSettled(t, projectId);
    expect(draw.status).toBe('PENDING');
    const seats = await t.databases.experts.db
      .selectFrom('committee_seat as s')
      .innerJoin('expert as e', 'e.id', 's.expert_id')
      .select(['s.room_id', 'e.home_platform_id'])
      .where('s.draw_id', '=', draw.id)
      .execute();
    expect(seats).toHaveLength(6);
    for (const seat of seats.filter((s) => s.room_id === secondary.id)) expect(seat.home_platform_id).toBe('410100');
    const hostRegion = new Set([HOST, ...(await t.hub.services.venues.childrenOfPlatforms([HOST])).map((p) => p.id)]);
    expect(seats.filter((seat) => hostRegion.has(seat.home_platform_id)).length).toBeLessThanOrEqual(2);
    const rounds = await t.hub.services.experts.roundsOfDraw(draw.id);
    const secondaryRound = rounds.find((round) => round.group_key === `${secondary.id}/CIVIL_ENGINEERING`)!;
    const homes = await t.databases.experts.db
      .selectFrom('expert')
      .select('home_platform_id')
      .where('id', 'in', secondaryRound.candidates)
      .execute();
    expect(new Set(homes.map((h) => h.home_platform_id))).toEqual(new Set(['410100']));
    expect(rounds.find((round) => round.group_key === `${room.id}/CIVIL_ENGINEERING`)!.host_quota).toBe(2);
  });
});

describe('invitations, replacement, confirmation, verification and sealing', () => {
  let projectId: string;
  let drawId: string;
  let commitment: string;

  it('draws, publishing the seed commitment at once and the seed not before the committee is confirmed', async () => {
    const room = await mainRoom();
    projectId = await feeAdvancedProject(t, {
      mode: 'LOCAL',
      startsAt: new Date(Date.now() + 40 * 86_400_000),
      endsAt: new Date(Date.now() + 40 * 86_400_000 + 8 * 3_600_000),
      bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
    });
    const response = await t.graphql<DrawResult>(as.operator(HOST), DRAW, {
      projectId,
      seats: [{ roomId: room.id, specialty: 'COST_ESTIMATION', count: 4 }],
      nonce: 'supervisor-witness-42',
    });
    expect(response.errors).toBeUndefined();
    const drawn = response.data!.drawExperts;
    expect(drawn).toMatchObject({ status: 'EXPERTS_DRAWING', expertDraw: { status: 'PENDING', seed: null } });
    drawId = drawn.expertDraw.id;
    commitment = drawn.expertDraw.seedCommitment;
    const draw = await drawSettled(t, projectId);
    expect(draw.id).toBe(drawId);
    const seats = await seatsOf(t, drawId);
    expect(seats.map((seat) => [seat.status, seat.round])).toEqual([
      ['INVITED', 1],
      ['INVITED', 1],
      ['INVITED', 1],
      ['INVITED', 1],
    ]);
    expect(new Set(seats.map((seat) => seat.expert_id)).size).toBe(4);
  });

  it('seals the committee from the agency, partner systems and the operator before the evaluation, at any depth', async () => {
    const seats = await seatsOf(t, drawId);
    for (const identity of [
      as.agency(AGENCY, HOST),
      as.partner(HOST),
      as.operator(HOST),
      as.admin,
      as.supervisor('HOUSING_AND_CONSTRUCTION', HOST),
    ]) {
      const response = await t.graphql<{ project: { expertDraw: { seats: { expert: unknown }[] } } | null }>(
        identity,
        SEATS_QUERY,
        { id: projectId },
      );
      // Each of them may see the project and its draw, so a refusal outright (or a missing project) fails here, not silently.
      const seats = response.data?.project?.expertDraw.seats;
      expect({ role: identity.role, seats: seats?.length }).toEqual({ role: identity.role, seats: 4 });
      expect(seats!.every((seat) => seat.expert === null)).toBe(true);
      expect(response.errors?.length).toBeGreaterThan(0);
      expect(response.errors!.every((error) => error.extensions?.code === 'SEALED')).toBe(true);
    }
    // Directly by draw id (its overseers only), and through _entities (the gateway resolves CommitteeSeat by key).
    const byDraw = await t.graphql<{ expertDraw: { seats: { expert: unknown }[] } }>(
      as.operator(HOST),
      `query($id: ID!) { expertDraw(id: $id) { seats { expert { id } } } }`,
      { id: drawId },
    );
    expect(byDraw.data!.expertDraw.seats.every((seat) => seat.expert === null)).toBe(true);
    expect(byDraw.errors![0].extensions?.code).toBe('SEALED');
    // _entities, as the gateway asks the experts subgraph for a seat by its key.
    const body = JSON.stringify({
      query: `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on CommitteeSeat { id expert { id name } } } }`,
      variables: { reps: [{ __typename: 'CommitteeSeat', id: seats[0].id }] },
    });
    const identity = { sub: 'agency-user', role: 'AGENCY', platform: HOST, org: AGENCY } as const;
    const entities = await fetch(t.hub.subgraphs.experts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signIdentity(t.config.HUB_INTERNAL_SECRET, identity, body) },
      body,
    });
    const json = (await entities.json()) as {
      data: { _entities: { id: string; expert: unknown }[] };
      errors: { extensions: { code: string } }[];
    };
    expect(json.data._entities).toEqual([{ id: seats[0].id, expert: null }]);
    expect(json.errors[0].extensions.code).toBe('SEALED');
    const audit = await t.hub.services.experts.accessAuditOfProject(projectId);
    expect(audit).toEqual([]);
  });

  it('shows the expert its own invitation, with its name, and audits that read', async () => {
    const [seat] = await seatsOf(t, drawId);
    const mine = await t.graphql<{
      myInvitations: { id: string; status: string; expert: { id: string; name: string } }[];
    }>(as.expert(seat.expert_id!), `{ myInvitations { id status answerDueAt expert { id name } } }`);
    expect(mine.errors).toBeUndefined();
    expect(mine.data!.myInvitations[0]).toMatchObject({
      id: seat.id,
      status: 'INVITED',
      expert: { id: seat.expert_id, name: expect.any(String) },
    });
    const audit = await t.hub.services.experts.accessAuditOfProject(projectId);
    expect(audit.map((row) => [row.field, row.actor, row.seat_id])).toEqual(
      expect.arrayContaining([
        ['CommitteeSeat.expert', `expert:${seat.expert_id}`, seat.id],
        ['Expert.name', `expert:${seat.expert_id}`, seat.id],
      ]),
    );
    const other = await seatsOf(t, drawId);
    const foreign = await t.graphql(as.expert(seat.expert_id!), RESPOND, { seatId: other[1].id, accept: true });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('replaces a decline in the next round, never redrawing the decliner', async () => {
    const [declined] = await seatsOf(t, drawId);
    const noReason = await t.graphql(as.expert(declined.expert_id!), RESPOND, { seatId: declined.id, accept: false });
    expect(noReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    const response = await t.graphql(as.expert(declined.expert_id!), RESPOND, {
      seatId: declined.id,
      accept: false,
      reason: '出差在外',
    });
    expect(response.errors).toBeUndefined();
    const replacement = await eventually(async () => {
      const seat = await t.databases.experts.db
        .selectFrom('committee_seat')
        .selectAll()
        .where('replaces_seat_id', '=', declined.id)
        .executeTakeFirst();
      return seat?.invited_at ? seat : undefined;
    });
    expect(replacement).toMatchObject({ round: 2, status: 'INVITED', group_key: declined.group_key });
    expect(replacement.expert_id).not.toBe(declined.expert_id);
    const rounds = await t.hub.services.experts.roundsOfDraw(drawId);
    expect(rounds.map((round) => [round.round, round.wanted, round.outcome])).toEqual([
      [1, 4, 'SEATED'],
      [2, 1, 'SEATED'],
    ]);
    expect(rounds[1].candidates).not.toContain(declined.expert_id);
    expect(Number(rounds[1].counter_start)).toBe(Number(rounds[0].counter_end));
    expect((await seatsOf(t, drawId)).find((seat) => seat.id === declined.id)!.status).toBe('DECLINED');
  });

  it('confirms the committee once every seat is accepted, keeps the seed sealed until the evaluation starts, then reveals it and it verifies', async () => {
    const live = (await seatsOf(t, drawId)).filter((seat) => seat.status === 'INVITED');
    expect(live).toHaveLength(4);
    await Promise.all(
      live.map((seat) => t.graphql(as.expert(seat.expert_id!), RESPOND, { seatId: seat.id, accept: true })),
    );
    await eventually(async () => ((await projectStatus(t, projectId)) === 'COMMITTEE_CONFIRMED' ? true : undefined));
    const draw = await eventually(async () => {
      const row = await t.databases.experts.db
        .selectFrom('draw')
        .selectAll()
        .where('id', '=', drawId)
        .executeTakeFirstOrThrow();
      return row.status === 'COMPLETED' ? row : undefined;
    });
    const SEED = `query($id: ID!) { project(id: $id) { expertDraw { status seed } } }`;
    const sealed = await t.graphql<{ project: { expertDraw: { seed: string | null; status: string } } }>(
      as.agency(AGENCY, HOST),
      SEED,
      { id: projectId },
    );
    expect(sealed.data!.project.expertDraw).toEqual({ status: 'COMPLETED', seed: null });
    const early = await t.graphql(as.supervisor('HOUSING_AND_CONSTRUCTION', HOST), VERIFY, { id: drawId });
    expect(early.errors?.[0]).toMatchObject({
      extensions: { code: 'SEALED' },
      message: expect.stringContaining('IN_EVALUATION'),
    });
    const confirmed = (await t.hub.services.projects.eventsOfProjects([projectId])).find(
      (event) => event.kind === 'COMMITTEE_CONFIRMED',
    )!;
    expect(JSON.stringify(confirmed)).not.toContain(draw.seed!);

    await t.hub.services.experts.unsealCommittee(projectId);
    // Another text than SEED: the gateway may answer that one from its cache for a few seconds (a stale null reveals nothing).
    const read = await t.graphql<{ project: { expertDraw: { seed: string; status: string } } }>(
      as.agency(AGENCY, HOST),
      `query($id: ID!) { project(id: $id) { expertDraw { seed status } } }`,
      { id: projectId },
    );
    expect(read.data!.project.expertDraw).toEqual({ status: 'COMPLETED', seed: draw.seed });
    expect(createHash('sha256').update(Buffer.from(draw.seed!, 'hex')).digest('hex')).toBe(commitment);
    const verified = await t.graphql<{ verifyExpertDraw: { matches: boolean } }>(
      as.supervisor('HOUSING_AND_CONSTRUCTION', HOST),
      VERIFY,
      { id: drawId },
    );
    expect(verified.errors).toBeUndefined();
    expect(verified.data!.verifyExpertDraw).toMatchObject({ drawId, matches: true });
    const timeline = await t.hub.services.projects.eventsOfProjects([projectId]);
    expect(JSON.stringify(timeline)).not.toContain('exp-');
  });

  it('says a draw does not match once a stored candidate list or the seed is altered', async () => {
    const db = t.databases.experts.db;
    const [round] = await t.hub.services.experts.roundsOfDraw(drawId);
    const outsider = round.candidates.includes('exp-00001') ? 'exp-00002' : 'exp-00001';
    const altered = [...round.candidates.slice(1), outsider].sort();
    await db
      .updateTable('draw_round')
      .set({ candidates: altered })
      .where('draw_id', '=', drawId)
      .where('round', '=', 1)
      .execute();
    const tampered = await t.graphql<{ verifyExpertDraw: { matches: boolean; detail: string } }>(as.admin, VERIFY, {
      id: drawId,
    });
    expect(tampered.data!.verifyExpertDraw).toMatchObject({
      matches: false,
      detail: expect.stringContaining('digest'),
    });
    await db
      .updateTable('draw_round')
      .set({ candidates: round.candidates })
      .where('draw_id', '=', drawId)
      .where('round', '=', 1)
      .execute();
    expect((await t.hub.services.experts.verifyDraw(drawId)).matches).toBe(true);

    const { seed } = await db.selectFrom('draw').select('seed').where('id', '=', drawId).executeTakeFirstOrThrow();
    const otherSeed = createHash('sha256').update('another seed').digest('hex');
    await db.updateTable('draw').set({ seed: otherSeed }).where('id', '=', drawId).execute();
    expect(await t.hub.services.experts.verifyDraw(drawId)).toMatchObject({
      matches: false,
      detail: expect.stringContaining('commitment'),
    });
    // Even with a matching forged commitment, the recomputed selections give the forgery away.
    await db
      .updateTable('draw')
      .set({ seed_commitment: createHash('sha256').update(Buffer.from(otherSeed, 'hex')).digest('hex') })
      .where('id', '=', drawId)
      .execute();
    expect(await t.hub.services.experts.verifyDraw(drawId)).toMatchObject({
      matches: false,
      detail: expect.stringContaining('selection'),
    });
    await db.updateTable('draw').set({ seed, seed_commitment: commitment }).where('id', '=', drawId).execute();
    expect((await t.hub.services.experts.verifyDraw(drawId)).matches).toBe(true);
  });

  it('unseals for the host operator and the supervisors once the evaluation starts, never for the agency; every read audited', async () => {
    await t.hub.services.experts.unsealCommittee(projectId);
    const operatorRead = await t.graphql<{
      project: { expertDraw: { seats: { status: string; expert: { id: string; name: string } | null }[] } };
    }>(as.operator(HOST), SEATS_QUERY, { id: projectId });
    expect(operatorRead.errors).toBeUndefined();
    const visible = operatorRead.data!.project.expertDraw.seats.filter((seat) => seat.expert !== null);
    expect(visible).toHaveLength(5);
    const agencyRead = await t.graphql<{ project: { expertDraw: { seats: { expert: unknown }[] } } }>(
      as.agency(AGENCY, HOST),
      SEATS_QUERY,
      { id: projectId },
    );
    expect(agencyRead.data!.project.expertDraw.seats.every((seat) => seat.expert === null)).toBe(true);
    expect(agencyRead.errors![0].extensions?.code).toBe('SEALED');
    const otherOperator = await t.graphql<{ expertDraw: { seats: { expert: unknown }[] } }>(
      as.operator('410100'),
      `query($id: ID!) { expertDraw(id: $id) { seats { expert { id } } } }`,
      { id: drawId },
    );
    expect(['SEALED', 'FORBIDDEN']).toContain(otherOperator.errors![0].extensions?.code);
    expect(JSON.stringify(otherOperator.data ?? null)).not.toContain('exp-');

    const audit = await t.graphql<{ sealedAccessAudit: { actor: string; field: string; role: string }[] }>(
      as.supervisor('HOUSING_AND_CONSTRUCTION', HOST),
      `query($id: ID!) { sealedAccessAudit(projectId: $id) { at actor role field } }`,
      { id: projectId },
    );
    expect(audit.errors).toBeUndefined();
    const operatorRows = audit.data!.sealedAccessAudit.filter((row) => row.role === 'PLATFORM_OPERATOR');
    expect(operatorRows.filter((row) => row.field === 'CommitteeSeat.expert')).toHaveLength(5);
    expect(operatorRows.filter((row) => row.field === 'Expert.name')).toHaveLength(5);
    expect(audit.data!.sealedAccessAudit.some((row) => row.role === 'AGENCY')).toBe(false);
    const refused = await t.graphql(
      as.supervisor('FINANCE', HOST),
      `query($id: ID!) { sealedAccessAudit(projectId: $id) { actor } }`,
      { id: projectId },
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('releases the live seats when the project is cancelled', async () => {
    const released = await t.hub.services.experts.withdrawProjectSeats(projectId);
    expect(released).toBe(4);
    const live = await t.databases.experts.db
      .selectFrom('committee_seat')
      .select('id')
      .where('project_id', '=', projectId)
      .where('live', '=', true)
      .execute();
    expect(live).toEqual([]);
  });
});

describe('cancellation', () => {
  it('releases the committee seats of a cancelled project (jobs/cancellation.ts)', async () => {
    const room = await mainRoom();
    const projectId = await feeAdvancedProject(t, {
      mode: 'LOCAL',
      startsAt: new Date(Date.now() + 45 * 86_400_000),
      endsAt: new Date(Date.now() + 45 * 86_400_000 + 8 * 3_600_000),
      bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
    });
    expect(
      (
        await t.graphql(as.operator(HOST), DRAW, {
          projectId,
          seats: [{ roomId: room.id, specialty: 'LEGAL', count: 4 }],
        })
      ).errors,
    ).toBeUndefined();
    const draw = await drawSettled(t, projectId);
    const cancelled = await t.graphql(
      as.operator(HOST),
      `mutation($id: ID!) { cancelProject(projectId: $id, reason: "招标人撤回") { status } }`,
      { id: projectId },
    );
    expect(cancelled.errors).toBeUndefined();
    await eventually(async () => {
      const live = await t.databases.experts.db
        .selectFrom('committee_seat')
        .select('id')
        .where('draw_id', '=', draw.id)
        .where('live', '=', true)
        .execute();
      return live.length === 0 ? true : undefined;
    });
    await eventually(async () =>
      (await t.hub.services.projects.eventsOfProjects([projectId])).some((event) => event.kind === 'COMMITTEE_RELEASED')
        ? true
        : undefined,
    );
    expect(
      (
        await t.databases.experts.db
          .selectFrom('draw')
          .select('status')
          .where('id', '=', draw.id)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('FAILED');
  });
});
