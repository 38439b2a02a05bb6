// One REMOTE project from application to a sealed, verified, exported archive, through the gateway with each role's
// token: submit, file, venues, fee advance, draw (one decline replaced), check-in, evaluation (one member replaced),
// completion, archive, exports, the independent verifier and the OCDS package.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport, parseBundle, verifyBundle } from '../app/cli/verify-archive';
import { ocdsReleasePackage, officialOcdsIssues } from './support/ocds-release-package';
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ overrides: { INVITE_TTL: '10m' } });
});
afterAll(async () => {
  await t.stop();
});

const AGENCY = '驻马店示例招标代理有限公司';
const CITY = '410100';
const MAIN_ROOM = `room-${ZHUMADIAN}-1`;
const CITY_ROOM = `room-${CITY}-1`;
const COUNTY_ROOM = 'room-411721-1';
const SPECIALTY = 'CIVIL_ENGINEERING';
const operator = as.operator();
const supervisor = as.supervisor('HOUSING_AND_CONSTRUCTION');

async function ok<T>(
  identity: Parameters<TestHub['graphql']>[0],
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await t.graphql<T>(identity, query, variables);
  if (response.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(response.errors)}`);
  return response.data as T;
}

type Seat = { id: string; status: string; round: number; expert_id: string | null; room_id: string };
async function seatsOf(projectId: string): Promise<Seat[]> {
  return t.databases.experts.db
    .selectFrom('committee_seat')
    .select(['id', 'status', 'round', 'expert_id', 'room_id'])
    .where('project_id', '=', projectId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}
async function status(projectId: string): Promise<string> {
  return (
    await ok<{ project: { status: string } }>(operator, `query($id: ID!) { project(id: $id) { status } }`, {
      id: projectId,
    })
  ).project.status;
}
const RESPOND = `mutation($seat: ID!, $accept: Boolean!, $reason: String) { respondToInvitation(seatId: $seat, accept: $accept, reason: $reason) { id status } }`;
const CHECK_IN = `mutation($seat: ID!, $room: ID!) { checkIn(seatId: $seat, roomId: $room) { id status } }`;

it('drives a REMOTE project through all eight steps and exports a verifiable archive', async () => {
  const started = Date.now();
  // Check-in opens one hour before the window: start it half an hour from now.
  const startsAt = new Date(Date.now() + 30 * 60_000);
  const endsAt = new Date(startsAt.getTime() + 4 * 3_600_000);

  // 1 申请提交
  const { submitProject } = await ok<{ submitProject: { id: string; status: string } }>(
    as.agency(AGENCY),
    `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id status } }`,
    {
      input: {
        code: `ZMD-E2E-${Date.now().toString(36)}`,
        name: '驿城区示例道路改造工程施工',
        category: 'CONSTRUCTION',
        department: 'HOUSING_AND_CONSTRUCTION',
        hostPlatformId: ZHUMADIAN,
        tenderer: '驻马店市示例城市建设投资有限公司',
        agency: AGENCY,
        bidders: ['河南示例路桥建设有限公司', '驻马店示例市政工程有限公司', '示例建工集团有限公司'],
        budget: '1250000000',
        mode: 'REMOTE',
        committeeSize: 5,
        tendererRepresentatives: 1,
        evaluationStartsAt: startsAt.toISOString(),
        evaluationEndsAt: endsAt.toISOString(),
      },
    },
  );
  const projectId = submitProject.id;

  // 2 备案
  await ok(
    supervisor,
    `mutation($id: ID!) { fileProject(projectId: $id, approve: true, note: "资料齐全") { status } }`,
    { id: projectId },
  );

  // 3 副场选择: the main room, two seats at an auto-confirming county, two at Zhengzhou, whose operator confirms by hand.
  await ok(
    operator,
    `mutation($id: ID!, $main: ID!, $secondary: [SeatRequestInput!]!) { arrangeVenues(projectId: $id, mainRoomId: $main, secondary: $secondary) { status } }`,
    {
      id: projectId,
      main: MAIN_ROOM,
      secondary: [
        { roomId: COUNTY_ROOM, seats: 2 },
        { roomId: CITY_ROOM, seats: 2 },
      ],
    },
  );
  const cityBooking = await eventually(
    async () => {
      const bookings = await ok<{ project: { venueBookings: { id: string; status: string; room: { id: string } }[] } }>(
        operator,
        `query($id: ID!) { project(id: $id) { venueBookings { id status room { id } } } }`,
        { id: projectId },
      );
      return bookings.project.venueBookings.find(
        (booking) => booking.room.id === CITY_ROOM && booking.status === 'HELD',
      );
    },
    20_000,
    'the Zhengzhou hold',
  );
  await ok(as.operator(CITY), `mutation($id: ID!) { confirmBooking(bookingId: $id) { status } }`, {
    id: cityBooking.id,
  });
  await eventually(
    async () => ((await status(projectId)) === 'VENUES_CONFIRMED' ? true : undefined),
    20_000,
    'VENUES_CONFIRMED',
  );

  // 4 评标费预支
  const fee = await ok<{ advanceEvaluationFee: { status: string; feeAdvance: string } }>(
    as.agency(AGENCY),
    `mutation($id: ID!) { advanceEvaluationFee(projectId: $id) { status feeAdvance } }`,
    { id: projectId },
  );
  expect(fee.advanceEvaluationFee.status).toBe('FEE_ADVANCED');

  // 5 专家抽取: 2 experts in the main room, 2 at the Zhengzhou partner (the county's seats stay for observers); one declines and is replaced.
  await ok(
    operator,
    `mutation($id: ID!, $seats: [SeatRequirementInput!]!) { drawExperts(projectId: $id, seats: $seats) { status } }`,
    {
      id: projectId,
      seats: [
        { roomId: MAIN_ROOM, specialty: SPECIALTY, count: 2 },
        { roomId: CITY_ROOM, specialty: SPECIALTY, count: 2 },
      ],
    },
  );
  const invited = await eventually(
    async () => {
      const seats = await seatsOf(projectId);
      return seats.length === 4 && seats.every((seat) => seat.status === 'INVITED') ? seats : undefined;
    },
    20_000,
    'four invited seats',
  );
  const decliner = invited[0];
  await ok(as.expert(decliner.expert_id!), RESPOND, {
    seat: decliner.id,
    accept: false,
    reason: '与投标人存在利害关系',
  });
  for (const seat of invited.slice(1)) await ok(as.expert(seat.expert_id!), RESPOND, { seat: seat.id, accept: true });
  const replacement = await eventually(
    async () => (await seatsOf(projectId)).find((seat) => seat.round === 2 && seat.status === 'INVITED'),
    20_000,
    'the replacement of the decline',
  );
  await ok(as.expert(replacement.expert_id!), RESPOND, { seat: replacement.id, accept: true });
  await eventually(
    async () => ((await status(projectId)) === 'COMMITTEE_CONFIRMED' ? true : undefined),
    20_000,
    'COMMITTEE_CONFIRMED',
  );

  // 6 现场服务: a wrong room is refused and recorded; then everyone checks in at its own room.
  const members = (await seatsOf(projectId)).filter((seat) => seat.status === 'ACCEPTED');
  expect(members).toHaveLength(4);
  const wrong = await t.graphql(as.expert(members[0].expert_id!), CHECK_IN, {
    seat: members[0].id,
    room: members[0].room_id === MAIN_ROOM ? CITY_ROOM : MAIN_ROOM,
  });
  expect(wrong.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  for (const seat of members) await ok(as.expert(seat.expert_id!), CHECK_IN, { seat: seat.id, room: seat.room_id });

  // 7 评标评审: start, replace one member, the replacement accepts and checks in, complete.
  await ok(operator, `mutation($id: ID!) { startEvaluation(projectId: $id) { status } }`, { id: projectId });
  const leaving = members[1];
  await ok(
    operator,
    `mutation($seat: ID!) { replaceCommitteeMember(seatId: $seat, reason: "突发疾病无法继续评审") { status } }`,
    { seat: leaving.id },
  );
  const standIn = (await seatsOf(projectId)).find((seat) => seat.status === 'INVITED')!;
  await ok(as.expert(standIn.expert_id!), RESPOND, { seat: standIn.id, accept: true });
  await ok(as.expert(standIn.expert_id!), CHECK_IN, { seat: standIn.id, room: standIn.room_id });
  const digest = 'ab'.repeat(32);
  await ok(
    operator,
    `mutation($id: ID!, $d: String!) { completeEvaluation(projectId: $id, reportDigest: $d) { status } }`,
    { id: projectId, d: digest },
  );

  // 8 档案保存
  const archived = await ok<{ archiveProject: { status: string } }>(
    operator,
    `mutation($id: ID!) { archiveProject(projectId: $id) { status } }`,
    { id: projectId },
  );
  expect(archived.archiveProject.status).toBe('ARCHIVED');
  const verification = await ok<{ verifyProjectArchive: { intact: boolean; entries: number } }>(
    supervisor,
    `query($id: ID!) { verifyProjectArchive(projectId: $id) { intact entries firstBrokenEntry } }`,
    { id: projectId },
  );
  expect(verification.verifyProjectArchive.intact).toBe(true);

  // Exports: the host operator's bundle carries the committee (the evaluation started), the agency's does not.
  const download = async (path: string, identity: Parameters<TestHub['token']>[0]) => {
    const response = await fetch(new URL(path, t.hub.gateway.url), {
      headers: { authorization: `Bearer ${await t.token(identity)}` },
    });
    expect(response.status).toBe(200);
    return response.text();
  };
  const sealedText = await download(`/archives/${projectId}.json`, operator);
  const sealedBundle = parseBundle(sealedText);
  // The verifier as an auditor runs it: a file, no hub, no database.
  const file = join(mkdtempSync(join(tmpdir(), 'archive-')), 'bundle.json');
  writeFileSync(file, sealedText);
  const cli = spawnSync('npx', ['ts-node', '--transpile-only', 'app/cli/verify-archive.ts', file], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  expect({ status: cli.status, stdout: cli.stdout }).toEqual({
    status: 0,
    stdout: expect.stringMatching(/hash chain intact[\s\S]*committee MATCHES[\s\S]*VERIFIED/),
  });
  const sealedReport = verifyBundle(sealedBundle);
  expect(sealedReport).toMatchObject({ ok: true, chain: { intact: true }, draws: [{ verdict: 'MATCHES' }] });
  const agencyBundle = parseBundle(await download(`/archives/${projectId}.json`, as.agency(AGENCY)));
  expect(JSON.stringify(agencyBundle)).not.toContain(standIn.expert_id!);
  expect(verifyBundle(agencyBundle)).toMatchObject({ ok: true, draws: [{ verdict: 'NOT_CHECKED' }] });
  const ocds = JSON.parse(await download(`/archives/${projectId}.ocds.json`, as.agency(AGENCY)));
  const parsed = ocdsReleasePackage.safeParse(ocds);
  expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
  expect(officialOcdsIssues(ocds)).toEqual([]);
  expect(
    ocds.releases.map((release: { tag: string[]; tender: { status: string } }) => [release.tag, release.tender.status]),
  ).toEqual([
    [['tender'], 'planned'],
    [['tenderUpdate'], 'complete'],
  ]);
  expect(JSON.stringify(ocds)).not.toContain(standIn.expert_id!);

  const timeline = await ok<{
    project: { timeline: { at: string; kind: string; actor: string; detail: string | null }[] };
  }>(supervisor, `query($id: ID!) { project(id: $id) { timeline { at kind actor detail } } }`, { id: projectId });
  const kinds = timeline.project.timeline.map((event) => event.kind);
  for (const kind of [
    'SUBMITTED',
    'FILED',
    'VENUES_CONFIRMED',
    'FEE_ADVANCED',
    'EXPERTS_DRAWN',
    'INVITATION_DECLINED',
    'ACCESS_REFUSED',
    'EXPERT_CHECKED_IN',
    'EVALUATION_STARTED',
    'MEMBER_REPLACED',
    'EVALUATION_COMPLETED',
    'ARCHIVED',
  ]) {
    expect(kinds).toContain(kind);
  }
  expect(kinds.at(-1)).toBe('ARCHIVED');
  process.stdout.write(
    `\nend-to-end: ${((Date.now() - started) / 1000).toFixed(1)} s\n${formatReport(sealedReport)}timeline of ${projectId}:\n${timeline.project.timeline.map((event) => `  ${event.at}  ${event.kind.padEnd(24)} ${event.actor}  ${event.detail ?? ''}`).join('\n')}\n`,
  );
});

it('cancels a project after its fee advance: bookings released, every ledger entry compensated, the cancellation archived', async () => {
  const startsAt = new Date(Date.now() + 50 * 86_400_000);
  const { submitProject } = await ok<{ submitProject: { id: string } }>(
    as.agency(AGENCY),
    `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }`,
    {
      input: {
        code: `ZMD-CXL-${Date.now().toString(36)}`,
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
        tendererRepresentatives: 1,
        evaluationStartsAt: startsAt.toISOString(),
        evaluationEndsAt: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
      },
    },
  );
  const projectId = submitProject.id;
  await ok(supervisor, `mutation($id: ID!) { fileProject(projectId: $id, approve: true) { status } }`, {
    id: projectId,
  });
  await ok(
    operator,
    `mutation($id: ID!, $main: ID!, $secondary: [SeatRequestInput!]!) { arrangeVenues(projectId: $id, mainRoomId: $main, secondary: $secondary) { status } }`,
    {
      id: projectId,
      main: MAIN_ROOM,
      secondary: [{ roomId: COUNTY_ROOM, seats: 2 }],
    },
  );
  await eventually(
    async () => ((await status(projectId)) === 'VENUES_CONFIRMED' ? true : undefined),
    20_000,
    'VENUES_CONFIRMED',
  );
  await ok(as.agency(AGENCY), `mutation($id: ID!) { advanceEvaluationFee(projectId: $id) { status } }`, {
    id: projectId,
  });
  await ok(operator, `mutation($id: ID!) { cancelProject(projectId: $id, reason: "招标文件重大修改") { status } }`, {
    id: projectId,
  });

  const ledger = await eventually(
    async () => {
      const { project } = await ok<{
        project: {
          ledger: { id: string; kind: string; payer: string; payee: string; amount: string; reverses: string | null }[];
        };
      }>(as.agency(AGENCY), `query($id: ID!) { project(id: $id) { ledger { id kind payer payee amount reverses } } }`, {
        id: projectId,
      });
      return project.ledger.some((entry) => entry.kind === 'REVERSAL') ? project.ledger : undefined;
    },
    20_000,
    'the reversals',
  );
  const originals = ledger.filter((entry) => entry.kind !== 'REVERSAL');
  expect(originals.length).toBeGreaterThan(0);
  for (const entry of originals) {
    expect(ledger).toContainEqual({
      id: `${entry.id}:reversal`,
      kind: 'REVERSAL',
      payer: entry.payee,
      payee: entry.payer,
      amount: entry.amount,
      reverses: entry.id,
    });
  }
  await eventually(
    async () => {
      const { project } = await ok<{ project: { venueBookings: { status: string }[]; timeline: { kind: string }[] } }>(
        operator,
        `query($id: ID!) { project(id: $id) { venueBookings { status } timeline { kind } } }`,
        { id: projectId },
      );
      const kinds = project.timeline.map((event) => event.kind);
      return project.venueBookings.every((booking) => booking.status === 'RELEASED') &&
        kinds.includes('LEDGER_REVERSED')
        ? true
        : undefined;
    },
    20_000,
    'bookings released and the reversal archived',
  );
  const verification = await ok<{ verifyProjectArchive: { intact: boolean } }>(
    supervisor,
    `query($id: ID!) { verifyProjectArchive(projectId: $id) { intact } }`,
    { id: projectId },
  );
  expect(verification.verifyProjectArchive.intact).toBe(true);
});
