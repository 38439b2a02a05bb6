// 现场服务: checking in at the closed evaluation area; each refusal is refused, changes no seat, and is recorded as an
// access attempt the supervisors read; admissions and refusals reach the project's timeline without expert identities.
import { sql } from 'kysely';
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

let t: TestHub;
let projectId: string;
beforeAll(async () => {
  t = await startTestHub();
  const starts = new Date(Date.now() + 40 * 86_400_000);
  const submitted = await t.graphql<{ submitProject: { id: string } }>(
    as.agency(AGENCY),
    `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }`,
    {
      input: {
        code: `ZMD-CHK-${Math.random().toString(36).slice(2, 8)}`,
        name: '示例工程',
        category: 'CONSTRUCTION',
        department: 'HOUSING_AND_CONSTRUCTION',
        hostPlatformId: ZHUMADIAN,
        tenderer: '示例城投',
        agency: AGENCY,
        bidders: ['示例建设公司'],
        budget: '100000000',
        mode: 'REMOTE',
        committeeSize: 5,
        tendererRepresentatives: 0,
        evaluationStartsAt: starts.toISOString(),
        evaluationEndsAt: new Date(starts.getTime() + 3_600_000).toISOString(),
      },
    },
  );
  projectId = submitted.data!.submitProject.id;
});
afterAll(async () => {
  await t.stop();
});

const AGENCY = '驻马店示例招标代理有限公司';
const ROOM = `room-${ZHUMADIAN}-1`;
const CHECK_IN = `mutation($seat: ID!, $room: ID!) { checkIn(seatId: $seat, roomId: $room) { id status checkedInAt } }`;
const ATTEMPTS = `query($id: ID!) { accessAttempts(projectId: $id) { actor role seat { id } roomId admitted code reason } }`;

let serial = 0;
/** A seat of its own draw whose window starts `startsInMinutes` from now and lasts an hour; its expert is fresh. */
async function seat(options: {
  startsInMinutes: number;
  status?: 'ACCEPTED' | 'INVITED';
}): Promise<{ seatId: string; expert: string }> {
  serial += 1;
  const expert = `exp-${String(2000 + serial).padStart(5, '0')}`;
  const starts = new Date(Date.now() + options.startsInMinutes * 60_000);
  const ends = new Date(starts.getTime() + 3_600_000);
  const drawId = `drw-checkin-${serial}`;
  const db = t.databases.experts.db;
  await db
    .insertInto('draw')
    .values({
      id: drawId,
      project_id: projectId,
      status: 'COMPLETED',
      seed_commitment: 'a'.repeat(64),
      seed: null,
      supervisor_nonce: null,
      failure_reason: null,
      starts_at: starts,
      ends_at: ends,
      completed_at: null,
      host_platform_id: ZHUMADIAN,
      host_parent_id: '410000',
      department: 'HOUSING_AND_CONSTRUCTION',
      mode: 'REMOTE',
    })
    .execute();
  const seatId = `seat-checkin-${serial}`;
  await db
    .insertInto('committee_seat')
    .values({
      id: seatId,
      draw_id: drawId,
      project_id: projectId,
      booking_id: 'bk-checkin',
      room_id: ROOM,
      specialty: 'CIVIL_ENGINEERING',
      round: 1,
      status: options.status ?? 'ACCEPTED',
      expert_id: expert,
      during: sql<string>`tstzrange(${starts}::timestamptz, ${ends}::timestamptz, '[)')`,
      invited_at: new Date(),
      answer_due_at: null,
      responded_at: new Date(),
      reason: null,
    })
    .execute();
  return { seatId, expert };
}

async function seatRow(seatId: string) {
  return t.databases.experts.db
    .selectFrom('committee_seat')
    .select(['status', 'checked_in_at'])
    .where('id', '=', seatId)
    .executeTakeFirstOrThrow();
}
async function attemptsOf(seatId: string) {
  return t.databases.experts.db
    .selectFrom('access_attempt')
    .selectAll()
    .where('seat_id', '=', seatId)
    .orderBy('id')
    .execute();
}

describe('checkIn', () => {
  it('admits the expert of an ACCEPTED seat in its room 30 minutes before the start, and records it on the timeline', async () => {
    const { seatId, expert } = await seat({ startsInMinutes: 30 });
    const response = await t.graphql<{ checkIn: { status: string; checkedInAt: string } }>(
      as.expert(expert),
      CHECK_IN,
      { seat: seatId, room: ROOM },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.checkIn).toMatchObject({ id: seatId, status: 'CHECKED_IN', checkedInAt: expect.any(String) });
    expect(await attemptsOf(seatId)).toMatchObject([
      { admitted: true, code: null, reason: 'checked in', expert_id: expert, room_id: ROOM },
    ]);
    const event = await eventually(async () => {
      const rows = await t.databases.projects.db
        .selectFrom('project_event')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('kind', '=', 'EXPERT_CHECKED_IN')
        .execute();
      return rows.find((row) => (row.data as { seatId?: string }).seatId === seatId);
    });
    expect(event.actor).toBe(`expert@seat:${seatId}`);
    expect(JSON.stringify(event)).not.toContain(expert);
  });

  const refusals: [
    string,
    () => Promise<{ identity: Parameters<TestHub['graphql']>[0]; seatId: string; room: string }>,
    string,
    RegExp,
  ][] = [
    [
      'an operator checking in for an expert',
      async () => ({ identity: as.operator(), seatId: (await seat({ startsInMinutes: 30 })).seatId, room: ROOM }),
      'FORBIDDEN',
      /only the seat's EXPERT/,
    ],
    [
      'another expert at this seat',
      async () => ({
        identity: as.expert('exp-00999'),
        seatId: (await seat({ startsInMinutes: 30 })).seatId,
        room: ROOM,
      }),
      'FORBIDDEN',
      /not yours/,
    ],
    [
      'the right expert in another room',
      async () => {
        const s = await seat({ startsInMinutes: 30 });
        return { identity: as.expert(s.expert), seatId: s.seatId, room: `room-${ZHUMADIAN}-2` };
      },
      'FORBIDDEN',
      /check in there/,
    ],
    [
      'an invitation not yet accepted',
      async () => {
        const s = await seat({ startsInMinutes: 30, status: 'INVITED' });
        return { identity: as.expert(s.expert), seatId: s.seatId, room: ROOM };
      },
      'CONFLICT',
      /only an ACCEPTED seat/,
    ],
    [
      'more than an hour before the start',
      async () => {
        const s = await seat({ startsInMinutes: 75 });
        return { identity: as.expert(s.expert), seatId: s.seatId, room: ROOM };
      },
      'CONFLICT',
      /opens one hour before/,
    ],
    [
      'after the evaluation ended',
      async () => {
        const s = await seat({ startsInMinutes: -61 });
        return { identity: as.expert(s.expert), seatId: s.seatId, room: ROOM };
      },
      'CONFLICT',
      /ended/,
    ],
  ];
  it.each(refusals)('refuses %s, changes nothing, and records the attempt', async (_name, arrange, code, message) => {
    const { identity, seatId, room } = await arrange();
    const before = await seatRow(seatId);
    const response = await t.graphql(identity, CHECK_IN, { seat: seatId, room });
    expect(response.errors?.[0]).toMatchObject({ extensions: { code }, message: expect.stringMatching(message) });
    expect(await seatRow(seatId)).toEqual(before);
    expect(await attemptsOf(seatId)).toMatchObject([
      { admitted: false, code, room_id: room, reason: expect.stringMatching(message) },
    ]);
  });

  it('refuses a second check-in, and an unknown seat, recording both', async () => {
    const { seatId, expert } = await seat({ startsInMinutes: 10 });
    expect((await t.graphql(as.expert(expert), CHECK_IN, { seat: seatId, room: ROOM })).errors).toBeUndefined();
    expect(
      (await t.graphql(as.expert(expert), CHECK_IN, { seat: seatId, room: ROOM })).errors?.[0].extensions?.code,
    ).toBe('CONFLICT');
    expect((await attemptsOf(seatId)).map((row) => row.admitted)).toEqual([true, false]);
    expect(
      (await t.graphql(as.expert(expert), CHECK_IN, { seat: 'seat-nope', room: ROOM })).errors?.[0].extensions?.code,
    ).toBe('NOT_FOUND');
    const unknown = await t.databases.experts.db
      .selectFrom('access_attempt')
      .selectAll()
      .where('seat_id', 'is', null)
      .where('expert_id', '=', expert)
      .execute();
    expect(unknown).toMatchObject([{ admitted: false, code: 'NOT_FOUND', project_id: null }]);
  });

  it('admits one of two simultaneous check-ins of the same seat', async () => {
    const { seatId, expert } = await seat({ startsInMinutes: 20 });
    const answers = await Promise.all(
      [1, 2, 3].map(() => t.graphql(as.expert(expert), CHECK_IN, { seat: seatId, room: ROOM })),
    );
    expect(answers.filter((answer) => !answer.errors)).toHaveLength(1);
    expect((await attemptsOf(seatId)).filter((row) => row.admitted)).toHaveLength(1);
  });

  it("lets the project's supervisors read the attempts, naming experts by seat only, and refuses the agency", async () => {
    const response = await t.graphql<{
      accessAttempts: { actor: string; admitted: boolean; seat: { id: string } | null }[];
    }>(as.supervisor('HOUSING_AND_CONSTRUCTION'), ATTEMPTS, { id: projectId });
    expect(response.errors).toBeUndefined();
    const attempts = response.data!.accessAttempts;
    expect(attempts.length).toBeGreaterThan(8);
    expect(attempts.some((attempt) => !attempt.admitted && attempt.actor.startsWith('platform_operator@'))).toBe(true);
    expect(
      attempts
        .filter((attempt) => attempt.actor.startsWith('expert'))
        .every((attempt) => /^expert@seat:(seat-checkin-\d+$|none )/.test(attempt.actor)),
    ).toBe(true);
    for (const identity of [as.agency(AGENCY), as.operator(), as.supervisor('FINANCE')]) {
      expect((await t.graphql(identity, ATTEMPTS, { id: projectId })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    // Refusals reach the timeline too, once each.
    await eventually(async () => {
      const refused = await t.databases.projects.db
        .selectFrom('project_event')
        .select('kind')
        .where('project_id', '=', projectId)
        .where('kind', '=', 'ACCESS_REFUSED')
        .execute();
      return refused.length >= 8 ? true : undefined;
    });
  });
});
