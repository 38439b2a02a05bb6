// Drives one project through the real workflow, step by step, through the gateway with each role's token (the steps
// of test/evaluation-e2e.test.ts as functions): tests that need a project in a given state compose them.
import type { Identity } from '../../lib/identity';
import { as, eventually, ZHUMADIAN, type TestHub } from './hub';

type Caller = Omit<Identity, 'sub'> & { sub?: string };

export const WORKFLOW_AGENCY = '驻马店示例招标代理有限公司';
export const MAIN_ROOM = `room-${ZHUMADIAN}-1`;
/** A room of a Zhumadian county: its platform confirms holds automatically. */
export const COUNTY_ROOM = 'room-411721-1';
/** Zhengzhou, a partner city whose operator confirms holds by hand. */
export const CITY = '410100';
export const CITY_ROOM = `room-${CITY}-1`;
export const SPECIALTY = 'CIVIL_ENGINEERING';
export const host = as.operator(ZHUMADIAN);
export const supervisor = as.supervisor('HOUSING_AND_CONSTRUCTION');
export const agency = as.agency(WORKFLOW_AGENCY);

export const CANCEL = `mutation($id: ID!, $reason: String!) { cancelProject(projectId: $id, reason: $reason) { id status } }`;
const RESPOND = `mutation($seat: ID!, $accept: Boolean!, $reason: String) { respondToInvitation(seatId: $seat, accept: $accept, reason: $reason) { id status } }`;
const CHECK_IN = `mutation($seat: ID!, $room: ID!) { checkIn(seatId: $seat, roomId: $room) { id status } }`;

/** Posts through the gateway and fails with the errors when there are any. */
export async function ok<T>(
  t: TestHub,
  identity: Caller,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await t.graphql<T>(identity, query, variables);
  if (response.errors) throw new Error(`${query.slice(0, 70)}…: ${JSON.stringify(response.errors)}`);
  return response.data as T;
}

export async function projectStatus(t: TestHub, projectId: string): Promise<string> {
  return (
    await t.databases.projects.db
      .selectFrom('project')
      .select('status')
      .where('id', '=', projectId)
      .executeTakeFirstOrThrow()
  ).status;
}

export async function waitForStatus(t: TestHub, projectId: string, status: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => ((await projectStatus(t, projectId)) === status ? true : undefined),
    timeoutMs,
    `project ${projectId} to be ${status}`,
  );
}

let serial = 0;

/** 申请提交 by the agency: a REMOTE project of 5 (4 drawn experts and 1 tenderer representative) over the window. */
export async function submit(t: TestHub, window: { startsAt: Date; endsAt: Date }): Promise<string> {
  const { submitProject } = await ok<{ submitProject: { id: string } }>(
    t,
    agency,
    `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }`,
    {
      input: {
        code: `WF-${process.pid}-${++serial}-${Math.random().toString(36).slice(2, 6)}`,
        name: '驿城区示例道路改造工程施工',
        category: 'CONSTRUCTION',
        department: 'HOUSING_AND_CONSTRUCTION',
        hostPlatformId: ZHUMADIAN,
        tenderer: '驻马店市示例城市建设投资有限公司',
        agency: WORKFLOW_AGENCY,
        bidders: ['河南示例路桥建设有限公司', '驻马店示例市政工程有限公司'],
        budget: '1250000000',
        mode: 'REMOTE',
        committeeSize: 5,
        tendererRepresentatives: 1,
        evaluationStartsAt: window.startsAt.toISOString(),
        evaluationEndsAt: window.endsAt.toISOString(),
      },
    },
  );
  return submitProject.id;
}

/** 备案 by the department's supervisor. */
export async function file(t: TestHub, projectId: string): Promise<void> {
  await ok(
    t,
    supervisor,
    `mutation($id: ID!) { fileProject(projectId: $id, approve: true, note: "资料齐全") { status } }`,
    { id: projectId },
  );
}

/** 副场选择: the main room and the given partner rooms; returns at once (the saga runs in the jobs). */
export async function arrange(
  t: TestHub,
  projectId: string,
  secondary: { roomId: string; seats: number }[] = [{ roomId: COUNTY_ROOM, seats: 2 }],
): Promise<void> {
  await ok(
    t,
    host,
    `mutation($id: ID!, $main: ID!, $secondary: [SeatRequestInput!]!) { arrangeVenues(projectId: $id, mainRoomId: $main, secondary: $secondary) { status } }`,
    {
      id: projectId,
      main: MAIN_ROOM,
      secondary,
    },
  );
}

/** The project's booking at a room once it is HELD (waiting for the partner's decision). */
export async function heldBooking(t: TestHub, projectId: string, roomId: string): Promise<string> {
  const booking = await eventually(
    () =>
      t.databases.venues.db
        .selectFrom('booking')
        .select('id')
        .where('project_id', '=', projectId)
        .where('room_id', '=', roomId)
        .where('status', '=', 'HELD')
        .executeTakeFirst(),
    30_000,
    `the hold of ${roomId} for ${projectId}`,
  );
  return booking.id;
}

/** The bookings of the project, with the status of each. */
export function bookingsOf(t: TestHub, projectId: string) {
  return t.databases.venues.db
    .selectFrom('booking')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('id')
    .execute();
}

/** Main room and the auto-confirming county: VENUES_CONFIRMED. */
export async function arrangeConfirmed(t: TestHub, projectId: string): Promise<void> {
  await arrange(t, projectId);
  await waitForStatus(t, projectId, 'VENUES_CONFIRMED');
}

/** 评标费预支 by the agency. */
export async function advanceFee(t: TestHub, projectId: string): Promise<void> {
  await ok(t, agency, `mutation($id: ID!) { advanceEvaluationFee(projectId: $id) { status } }`, { id: projectId });
}

/** 专家抽取: the four expert seats in the main room; returns at once (the draw runs in the jobs). */
export async function draw(t: TestHub, projectId: string): Promise<void> {
  await ok(
    t,
    host,
    `mutation($id: ID!, $seats: [SeatRequirementInput!]!) { drawExperts(projectId: $id, seats: $seats) { status } }`,
    {
      id: projectId,
      seats: [{ roomId: MAIN_ROOM, specialty: SPECIALTY, count: 4 }],
    },
  );
}

export type Seat = {
  id: string;
  status: string;
  round: number;
  expert_id: string | null;
  room_id: string;
  invited_at: Date | null;
};

export function seatsOf(t: TestHub, projectId: string): Promise<Seat[]> {
  return t.databases.experts.db
    .selectFrom('committee_seat')
    .select(['id', 'status', 'round', 'expert_id', 'room_id', 'invited_at'])
    .where('project_id', '=', projectId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** The four seats once each is INVITED with its invitation sent. */
export async function invitedSeats(t: TestHub, projectId: string): Promise<Seat[]> {
  return eventually(
    async () => {
      const seats = await seatsOf(t, projectId);
      return seats.length === 4 && seats.every((seat) => seat.status === 'INVITED' && seat.invited_at !== null)
        ? seats
        : undefined;
    },
    30_000,
    `four invited seats of ${projectId}`,
  );
}

export async function accept(t: TestHub, seats: readonly Seat[]): Promise<void> {
  for (const seat of seats) await ok(t, as.expert(seat.expert_id!), RESPOND, { seat: seat.id, accept: true });
}

/** Draw, every invitation accepted: COMMITTEE_CONFIRMED. */
export async function confirmCommittee(t: TestHub, projectId: string): Promise<Seat[]> {
  await draw(t, projectId);
  await accept(t, await invitedSeats(t, projectId));
  await waitForStatus(t, projectId, 'COMMITTEE_CONFIRMED');
  return (await seatsOf(t, projectId)).filter((seat) => seat.status === 'ACCEPTED');
}

/** 现场服务: every accepted member checks in at its room (the window must start within the hour). */
export async function checkInAll(t: TestHub, seats: readonly Seat[]): Promise<void> {
  for (const seat of seats) await ok(t, as.expert(seat.expert_id!), CHECK_IN, { seat: seat.id, room: seat.room_id });
}

/** 评标评审 starts: IN_EVALUATION. */
export async function startEvaluation(t: TestHub, projectId: string): Promise<void> {
  await ok(t, host, `mutation($id: ID!) { startEvaluation(projectId: $id) { status } }`, { id: projectId });
}

/** 评标评审 ends with the report's digest: EVALUATED. */
export async function completeEvaluation(t: TestHub, projectId: string): Promise<void> {
  await ok(
    t,
    host,
    `mutation($id: ID!, $d: String!) { completeEvaluation(projectId: $id, reportDigest: $d) { status } }`,
    { id: projectId, d: 'cd'.repeat(32) },
  );
}

/** 档案保存: ARCHIVED. */
export async function archive(t: TestHub, projectId: string): Promise<void> {
  await ok(t, host, `mutation($id: ID!) { archiveProject(projectId: $id) { status } }`, { id: projectId });
}

export async function verifyArchive(
  t: TestHub,
  projectId: string,
): Promise<{ intact: boolean; entries: number; firstBrokenEntry: number | null }> {
  const { verifyProjectArchive } = await ok<{
    verifyProjectArchive: { intact: boolean; entries: number; firstBrokenEntry: number | null };
  }>(t, supervisor, `query($id: ID!) { verifyProjectArchive(projectId: $id) { intact entries firstBrokenEntry } }`, {
    id: projectId,
  });
  return verifyProjectArchive;
}
