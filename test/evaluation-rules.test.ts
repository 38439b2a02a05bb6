// Step 7, 评标评审, rule by rule: the evaluation starts only once every member is checked in; a member is replaced
// this way only during the evaluation, and once however many replacements of the seat race; the evaluation completes
// only with a report digest of 64 hexadecimal digits, only while under way, and only with every member checked in.
// Each refusal carries its code and writes nothing. Projects reach each state through the gateway, step by step.
import { as, jobsSettled, startTestHub, type TestHub } from './support/hub';
import {
  accept,
  advanceFee,
  arrangeConfirmed,
  checkInAll,
  confirmCommittee,
  file,
  host,
  projectStatus,
  seatsOf,
  startEvaluation,
  submit,
  type Seat,
} from './support/workflow';

jest.setTimeout(120_000);

let t: TestHub;
beforeAll(async () => {
  // Long enough that no invitation of these tests lapses while they run.
  t = await startTestHub({ overrides: { INVITE_TTL: '10m' } });
});
afterAll(async () => {
  await t.stop();
});

const START = `mutation($id: ID!) { startEvaluation(projectId: $id) { status } }`;
const REPLACE = `mutation($seat: ID!, $reason: String!) { replaceCommitteeMember(seatId: $seat, reason: $reason) { status } }`;
const COMPLETE = `mutation($id: ID!, $digest: String!) { completeEvaluation(projectId: $id, reportDigest: $digest) { status } }`;
const DIGEST = 'ab'.repeat(32);

// Windows of ten minutes one after the other, from five minutes from now: check-in opens an hour before the start.
let slots = 0;
const nearWindow = () => {
  const startsAt = new Date(Date.now() + (5 + 11 * slots++) * 60_000);
  return { startsAt, endsAt: new Date(startsAt.getTime() + 10 * 60_000) };
};

/** A project whose committee is confirmed and not yet checked in, with its four accepted seats. */
async function committeeConfirmed(): Promise<{ projectId: string; seats: Seat[] }> {
  const projectId = await submit(t, nearWindow());
  await file(t, projectId);
  await arrangeConfirmed(t, projectId);
  await advanceFee(t, projectId);
  return { projectId, seats: await confirmCommittee(t, projectId) };
}

/** A project IN_EVALUATION, with its four checked-in seats. */
async function inEvaluation(): Promise<{ projectId: string; seats: Seat[] }> {
  const { projectId, seats } = await committeeConfirmed();
  await checkInAll(t, seats);
  await startEvaluation(t, projectId);
  return { projectId, seats: await seatsOf(t, projectId) };
}

async function events(projectId: string, kind: string) {
  return t.databases.projects.db
    .selectFrom('project_event')
    .selectAll()
    .where('project_id', '=', projectId)
    .where('kind', '=', kind)
    .execute();
}

/**
 * What a refused call could have changed: the project's status and events, its seats, the committee's seal. Read once
 * the jobs have settled, since they put earlier steps (check-ins, invitations) on the timeline after the fact.
 */
async function stateOf(projectId: string) {
  await jobsSettled(t);
  const draw = await t.databases.experts.db
    .selectFrom('draw')
    .select(['unsealed_at'])
    .where('project_id', '=', projectId)
    .where('status', '!=', 'FAILED')
    .executeTakeFirst();
  const timeline = await t.databases.projects.db
    .selectFrom('project_event')
    .select(['kind', 'detail'])
    .where('project_id', '=', projectId)
    .orderBy('seq')
    .execute();
  return {
    status: await projectStatus(t, projectId),
    seats: await seatsOf(t, projectId),
    timeline,
    unsealedAt: draw?.unsealed_at ?? null,
  };
}

function codesOf(response: { errors?: { extensions?: { code?: string } }[] }): (string | undefined)[] {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

describe('startEvaluation', () => {
  it('is refused with CONFLICT, naming the seat, while a member is not checked in, and writes nothing; starts once all are', async () => {
    const { projectId, seats } = await committeeConfirmed();
    await checkInAll(t, seats.slice(0, 3));
    const before = await stateOf(projectId);
    expect(before.unsealedAt).toBeNull();
    const refused = await t.graphql(host, START, { id: projectId });
    expect(codesOf(refused)).toEqual(['CONFLICT']);
    expect(refused.errors![0].message).toContain(`3 of the 4 expert seats`);
    expect(refused.errors![0].message).toContain(`${seats[3].id} (ACCEPTED)`);
    expect(await stateOf(projectId)).toEqual(before);

    await checkInAll(t, seats.slice(3));
    const started = await t.graphql<{ startEvaluation: { status: string } }>(host, START, { id: projectId });
    expect(started.errors).toBeUndefined();
    expect(started.data!.startEvaluation.status).toBe('IN_EVALUATION');
    expect(await events(projectId, 'EVALUATION_STARTED')).toHaveLength(1);
  });
});

describe('replaceCommitteeMember', () => {
  it('is refused with CONFLICT outside IN_EVALUATION (a confirmed committee) and writes nothing', async () => {
    const { projectId, seats } = await committeeConfirmed();
    await checkInAll(t, seats);
    const before = await stateOf(projectId);
    const refused = await t.graphql(host, REPLACE, { seat: seats[0].id, reason: '回避' });
    expect(codesOf(refused)).toEqual(['CONFLICT']);
    expect(refused.errors![0].message).toContain('COMMITTEE_CONFIRMED');
    expect(refused.errors![0].message).toContain('IN_EVALUATION');
    expect(await stateOf(projectId)).toEqual(before);
  });

  it('replaces a seat once when four replacements of it race: one answer, one new seat, one MEMBER_REPLACED', async () => {
    const { projectId, seats } = await inEvaluation();
    const target = seats[0];
    const answers = await Promise.all(
      ['身体不适，退出评审', '与投标人存在利害关系', '临时有事', '回避'].map((reason) =>
        t.graphql(host, REPLACE, { seat: target.id, reason }),
      ),
    );
    const codes = answers.map((answer) => codesOf(answer)[0] ?? 'REPLACED');
    expect(codes.sort()).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'REPLACED']);
    const after = await t.databases.experts.db
      .selectFrom('committee_seat')
      .selectAll()
      .where('project_id', '=', projectId)
      .execute();
    expect(after.filter((seat) => seat.replaces_seat_id === target.id)).toHaveLength(1);
    expect(after.find((seat) => seat.id === target.id)!.status).toBe('REPLACED');
    expect(after.filter((seat) => ['INVITED', 'ACCEPTED', 'CHECKED_IN'].includes(seat.status))).toHaveLength(4);
    expect(await events(projectId, 'MEMBER_REPLACED')).toHaveLength(1);
    expect(await projectStatus(t, projectId)).toBe('IN_EVALUATION');
  });
});

describe('completeEvaluation', () => {
  let projectId: string;
  let replacement: Seat;
  beforeAll(async () => {
    ({ projectId } = await inEvaluation());
  });

  it.each([
    ['not hexadecimal', 'z'.repeat(64)],
    ['63 digits', 'a'.repeat(63)],
    ['65 digits', 'a'.repeat(65)],
    ['empty', ''],
    ['a digest with a prefix', `sha256:${DIGEST}`],
  ])(
    'refuses a report digest that is %s with BAD_USER_INPUT naming reportDigest, and writes nothing',
    async (_label, digest) => {
      const before = await stateOf(projectId);
      const refused = await t.graphql(host, COMPLETE, { id: projectId, digest });
      expect(codesOf(refused)).toEqual(['BAD_USER_INPUT']);
      expect(refused.errors![0].message).toMatch(/64 hexadecimal digits/);
      expect(await stateOf(projectId)).toEqual(before);
    },
  );

  it('refuses while a replacement member is not checked in (CONFLICT), and writes nothing', async () => {
    const [member] = (await seatsOf(t, projectId)).filter((seat) => seat.status === 'CHECKED_IN');
    expect((await t.graphql(host, REPLACE, { seat: member.id, reason: '临时回避' })).errors).toBeUndefined();
    replacement = (await seatsOf(t, projectId)).find((seat) => seat.status === 'INVITED')!;
    expect(replacement).toBeDefined();
    const before = await stateOf(projectId);
    const refused = await t.graphql(host, COMPLETE, { id: projectId, digest: DIGEST });
    expect(codesOf(refused)).toEqual(['CONFLICT']);
    expect(refused.errors![0].message).toContain(`${replacement.id} (INVITED)`);
    expect(await stateOf(projectId)).toEqual(before);
  });

  it('completes once every member is checked in, keeping the digest in lower case; a second completion is CONFLICT', async () => {
    await accept(t, [replacement]);
    await checkInAll(t, [replacement]);
    const done = await t.graphql<{ completeEvaluation: { status: string } }>(host, COMPLETE, {
      id: projectId,
      digest: ` ${DIGEST.toUpperCase()} `,
    });
    expect(done.errors).toBeUndefined();
    expect(done.data!.completeEvaluation.status).toBe('EVALUATED');
    const [completed] = await events(projectId, 'EVALUATION_COMPLETED');
    expect(completed.data).toEqual({ reportDigest: DIGEST });

    const before = await stateOf(projectId);
    const again = await t.graphql(host, COMPLETE, { id: projectId, digest: DIGEST });
    expect(codesOf(again)).toEqual(['CONFLICT']);
    expect(again.errors![0].message).toContain('EVALUATED');
    expect(await stateOf(projectId)).toEqual(before);
  });

  it('is refused before the evaluation started (COMMITTEE_CONFIRMED) with CONFLICT, and for another platform with FORBIDDEN', async () => {
    const { projectId: confirmed, seats } = await committeeConfirmed();
    await checkInAll(t, seats);
    const before = await stateOf(confirmed);
    const early = await t.graphql(host, COMPLETE, { id: confirmed, digest: DIGEST });
    expect(codesOf(early)).toEqual(['CONFLICT']);
    expect(early.errors![0].message).toContain('COMMITTEE_CONFIRMED');
    const elsewhere = await t.graphql(as.operator('410100'), COMPLETE, { id: confirmed, digest: DIGEST });
    expect(codesOf(elsewhere)).toEqual(['FORBIDDEN']);
    expect(await stateOf(confirmed)).toEqual(before);
  });
});
