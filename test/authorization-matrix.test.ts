// Walks every operation of the supergraph with every role, in scope and out of scope, expecting exactly allow or
// FORBIDDEN, with nothing written on a refusal; the sealed fields with every role before and after the evaluation
// starts. The expected rights are written here from DOMAIN.md's actors table and API.md, independently of the matrix
// the code enforces (lib/authorization.ts), so that a wrong grant there fails here. An operation without a matrix row,
// or without a case and rights here, fails.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { isObjectType } from 'graphql';
import { AUTHORIZATION_MATRIX } from '../lib/authorization';
import { ROLES, type Department, type Identity, type Role } from '../lib/identity';
import { readSupergraph } from '../schema/supergraph';
import { buildSupergraphApiSchema } from './support/api-schema';
import { as, eventually, startTestHub, type TestHub } from './support/hub';
import {
  AGENCY,
  DRAW,
  drawSettled,
  feeAdvancedProject,
  HOST,
  inDays,
  projectInput,
  roomsOf,
  seatsOf,
} from './support/expert-draw';

type Caller = Omit<Identity, 'sub'> & { sub?: string };
interface Target {
  platform: string;
  department: Department;
  org: string;
  expert: string;
}
interface Case {
  query: string;
  variables?: () => Record<string, unknown>;
  target?: Partial<Target>;
}

const OTHER_PLATFORM = '410300';
/** A room of the host made for the master-data rows (its seats changed, blocked, retired by allowed calls). */
const MATRIX_ROOM = 'room-matrix-1';
let t: TestHub;
const fixture = {
  projectId: '',
  submittedId: '',
  cancelId: '',
  drawId: '',
  seatId: '',
  seatExpert: '',
  seatRoom: '',
  bookingId: '',
  bookingPlatform: '410100',
  sealedProjectId: '',
  unavailabilityId: 'unav-matrix',
};
const submission = (overrides: Record<string, unknown> = {}) => projectInput('AZ', '授权矩阵示例工程', overrides);

const range = () => ({ from: inDays(1).toISOString(), to: inDays(20).toISOString() });
const project = () => ({ projectId: fixture.projectId });

/** One call per operation, aimed at a target whose platform, department, org and expert define "in scope". */
const CASES: Record<string, Case> = {
  'Query.platform': { query: '{ platform(id: "411700") { id } }' },
  'Query.platforms': { query: '{ platforms(level: CITY) { id } }' },
  'Query.schedule': {
    query: 'query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { id } }',
    variables: range,
  },
  'Query.webhookDeliveries': {
    query: 'query($p: ID!) { webhookDeliveries(platformId: $p) { totalCount } }',
    variables: () => ({ p: HOST }),
  },
  'Mutation.confirmBooking': {
    query: 'mutation($id: ID!) { confirmBooking(bookingId: $id) { id } }',
    variables: () => ({ id: fixture.bookingId }),
    target: { platform: fixture.bookingPlatform },
  },
  'Mutation.rejectBooking': {
    query: 'mutation($id: ID!) { rejectBooking(bookingId: $id, reason: "no room") { id } }',
    variables: () => ({ id: fixture.bookingId }),
    target: { platform: fixture.bookingPlatform },
  },
  'Query.scheduleBlocks': {
    query: 'query($from: DateTime!, $to: DateTime!) { scheduleBlocks(from: $from, to: $to) { id } }',
    variables: range,
  },
  // Master data of the host's venues and rooms (MASTER-DATA.md): allowed calls change a room of its own making only.
  'Mutation.createVenue': {
    query: 'mutation($p: ID!) { createVenue(platformId: $p, input: { name: "矩阵评标中心" }) { id } }',
    variables: () => ({ p: HOST }),
  },
  'Mutation.createRoom': {
    query: `mutation($v: ID!) { createRoom(venueId: $v, input: { name: "矩阵评标室", seats: 3, videoTerminal: false }) { id } }`,
    variables: () => ({ v: `ven-${HOST}` }),
  },
  'Mutation.updateRoom': {
    query: 'mutation($r: ID!) { updateRoom(roomId: $r, patch: { seats: 4 }) { id } }',
    variables: () => ({ r: MATRIX_ROOM }),
  },
  'Mutation.retireRoom': {
    query: 'mutation($r: ID!) { retireRoom(roomId: $r) { id } }',
    variables: () => ({ r: MATRIX_ROOM }),
  },
  'Mutation.putRoomBlock': {
    query: `mutation($r: ID!, $from: DateTime!, $to: DateTime!) {
      putRoomBlock(roomId: $r, externalRef: "MATRIX-1", from: $from, to: $to, seats: 1, reason: "local") { id } }`,
    variables: () => ({ r: MATRIX_ROOM, from: inDays(300).toISOString(), to: inDays(300, 9).toISOString() }),
  },
  'Mutation.removeRoomBlock': {
    query: 'mutation($p: ID!) { removeRoomBlock(platformId: $p, externalRef: "MATRIX-1") { id } }',
    variables: () => ({ p: HOST }),
  },
  'Mutation.setPartnerEndpoint': {
    query: 'mutation($p: ID!) { setPartnerEndpoint(platformId: $p, url: null) { id } }',
    variables: () => ({ p: HOST }),
  },
  'Mutation.testPartnerEndpoint': {
    query: 'mutation($p: ID!) { testPartnerEndpoint(platformId: $p) { id } }',
    variables: () => ({ p: HOST }),
  },
  'Mutation.setCooperationAgreement': {
    query:
      'mutation { setCooperationAgreement(platformId: "411700", partnerId: "411721", autoConfirm: true) { autoConfirm } }',
  },
  'Mutation.endCooperationAgreement': {
    query: 'mutation { endCooperationAgreement(platformId: "411700", partnerId: "419999") { id } }',
  },
  'Mutation.setFeeRates': {
    query:
      'mutation { setFeeRates(platformId: "411700", expertFeeRate: "50000", seatServiceFee: "6000", effectiveFrom: "2099-01-01T00:00:00Z") { id } }',
  },
  'Query.experts': { query: '{ experts(platformId: "411700", first: 1) { totalCount } }' },
  'Query.expertDraw': {
    query: 'query($id: ID!) { expertDraw(id: $id) { id status } }',
    variables: () => ({ id: fixture.drawId }),
  },
  'Query.verifyExpertDraw': {
    query: 'query($id: ID!) { verifyExpertDraw(drawId: $id) { drawId } }',
    variables: () => ({ id: fixture.drawId }),
  },
  'Query.myInvitations': { query: '{ myInvitations { id status } }' },
  'Query.sealedAccessAudit': {
    query: 'query($projectId: ID!) { sealedAccessAudit(projectId: $projectId) { at } }',
    variables: () => ({ projectId: fixture.sealedProjectId }),
  },
  'Query.accessAttempts': {
    query: 'query($projectId: ID!) { accessAttempts(projectId: $projectId) { admitted } }',
    variables: () => ({ projectId: fixture.sealedProjectId }),
  },
  'Query.specialties': { query: '{ specialties }' },
  'Query.masterDataChanges': { query: '{ masterDataChanges(first: 5) { totalCount } }' },
  // A dry run of one valid expert: allowed callers get a report, nothing is written either way.
  'Mutation.importExperts': {
    query: 'mutation($csv: String!) { importExperts(experts: $csv, dryRun: true) { dryRun created } }',
    variables: () => ({
      csv: 'code,name,home_platform,specialties,employer,status\nMATRIX-1,矩阵专家,411700,LEGAL,,ACTIVE\n',
    }),
  },
  // Keeping the pool: the province's calls name an expert that does not exist (NOT_FOUND once let through), so an
  // allowed call changes no expert the walk meets; an expert's declarations are its own (the token's expert).
  'Mutation.registerExpert': {
    query: 'mutation($input: ExpertInput!) { registerExpert(input: $input) { id } }',
    variables: () => ({
      input: { code: 'MATRIX-REG-1', name: '矩阵专家', homePlatformId: HOST, specialties: ['LEGAL'] },
    }),
  },
  'Mutation.updateExpert': {
    query: 'mutation { updateExpert(expertId: "exp-matrix-none", patch: { name: "矩阵" }) { id } }',
  },
  'Mutation.recordEmployment': {
    query:
      'mutation { recordEmployment(expertId: "exp-matrix-none", employer: "矩阵单位", from: "2020-01-01T00:00:00+08:00") { id } }',
  },
  'Mutation.suspendExpert': {
    query: 'mutation { suspendExpert(expertId: "exp-matrix-none", reason: "矩阵") { id } }',
  },
  'Mutation.reinstateExpert': { query: 'mutation { reinstateExpert(expertId: "exp-matrix-none") { id } }' },
  'Mutation.recordPenalty': {
    query: 'mutation { recordPenalty(expertId: "exp-matrix-none", reason: "矩阵") { id } }',
  },
  'Mutation.retireExpert': { query: 'mutation { retireExpert(expertId: "exp-matrix-none") { id } }' },
  'Mutation.removeConflict': {
    query: 'mutation { removeConflict(expertId: "exp-matrix-none", organisation: "矩阵单位", kind: OTHER) { id } }',
  },
  'Mutation.declareConflict': {
    query: 'mutation { declareConflict(organisation: "授权矩阵示例单位", kind: OTHER) { id } }',
  },
  'Mutation.declareUnavailability': {
    query: 'mutation($from: DateTime!, $to: DateTime!) { declareUnavailability(from: $from, to: $to) { id } }',
    variables: () => ({ from: inDays(300).toISOString(), to: inDays(301).toISOString() }),
  },
  // The window is the in-scope expert's: another expert is refused.
  'Mutation.cancelUnavailability': {
    query: 'mutation($id: ID!) { cancelUnavailability(id: $id) { id } }',
    variables: () => ({ id: fixture.unavailabilityId }),
  },
  'Mutation.checkIn': {
    query: 'mutation($id: ID!, $room: ID!) { checkIn(seatId: $id, roomId: $room) { id } }',
    variables: () => ({ id: fixture.seatId, room: fixture.seatRoom }),
  },
  'Mutation.respondToInvitation': {
    query: 'mutation($id: ID!) { respondToInvitation(seatId: $id, accept: true) { id } }',
    variables: () => ({ id: fixture.seatId }),
  },
  'Query.project': { query: 'query($projectId: ID!) { project(id: $projectId) { id } }', variables: project },
  'Query.projects': { query: '{ projects(first: 5) { totalCount } }' },
  'Query.verifyProjectArchive': {
    query: 'query($projectId: ID!) { verifyProjectArchive(projectId: $projectId) { intact } }',
    variables: project,
  },
  'Query.archiveBundle': {
    query: 'query($projectId: ID!) { archiveBundle(projectId: $projectId) }',
    variables: project,
  },
  'Query.archiveReleasePackage': {
    query: 'query($projectId: ID!) { archiveReleasePackage(projectId: $projectId) }',
    variables: project,
  },
  'Query.platformBalances': {
    query: 'query($p: ID!) { platformBalances(platformId: $p) { payable } }',
    variables: () => ({ p: HOST }),
  },
  'Query.reconciliationReport': { query: '{ reconciliationReport(id: "no-such-report") { id } }' },
  'Query.latestReconciliationReport': { query: '{ latestReconciliationReport { id } }' },
  'Query.projectsEvaluatedBetween': {
    query: 'query($from: DateTime!, $to: DateTime!) { projectsEvaluatedBetween(from: $from, to: $to) { totalCount } }',
    variables: range,
  },
  'Mutation.runReconciliation': {
    query: 'mutation($from: DateTime!, $to: DateTime!) { runReconciliation(from: $from, to: $to) { id } }',
    variables: range,
  },
  'Mutation.submitProject': {
    query: 'mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }',
    variables: () => ({ input: submission() }),
  },
  'Mutation.fileProject': {
    query: 'mutation($id: ID!) { fileProject(projectId: $id, approve: true) { id } }',
    variables: () => ({ id: fixture.submittedId }),
  },
  'Mutation.arrangeVenues': {
    query:
      'mutation($projectId: ID!) { arrangeVenues(projectId: $projectId, mainRoomId: "no-such-room", secondary: []) { id } }',
    variables: project,
  },
  'Mutation.advanceEvaluationFee': {
    query: 'mutation($projectId: ID!) { advanceEvaluationFee(projectId: $projectId) { id } }',
    variables: project,
  },
  'Mutation.drawExperts': {
    query: 'mutation($projectId: ID!) { drawExperts(projectId: $projectId, seats: []) { id } }',
    variables: project,
  },
  'Mutation.startEvaluation': {
    query: 'mutation($projectId: ID!) { startEvaluation(projectId: $projectId) { id } }',
    variables: project,
  },
  'Mutation.replaceCommitteeMember': {
    query: 'mutation($id: ID!) { replaceCommitteeMember(seatId: $id, reason: "matrix walk") { id } }',
    variables: () => ({ id: fixture.seatId }),
  },
  'Mutation.completeEvaluation': {
    query:
      'mutation($projectId: ID!) { completeEvaluation(projectId: $projectId, reportDigest: "0000000000000000000000000000000000000000000000000000000000000000") { id } }',
    variables: project,
  },
  'Mutation.archiveProject': {
    query: 'mutation($projectId: ID!) { archiveProject(projectId: $projectId) { id } }',
    variables: project,
  },
  'Mutation.cancelProject': {
    query: 'mutation($id: ID!) { cancelProject(projectId: $id, reason: "matrix walk") { id } }',
    variables: () => ({ id: fixture.cancelId }),
  },
};

/**
 * Who may use each operation, from DOMAIN.md and API.md: `any` within everything of its kind, `own` only within its
 * scope (refused outside it), `list` sees a list narrowed to its scope (never refused). A role not named is refused.
 */
type Right = 'any' | 'own' | 'list';
const PROJECT_READERS = {
  PROVINCIAL_ADMIN: 'any',
  PLATFORM_OPERATOR: 'own',
  PARTNER_SYSTEM: 'own',
  SUPERVISOR: 'own',
  AGENCY: 'own',
} as const;
const HOST_OPERATOR = { PLATFORM_OPERATOR: 'own' } as const;
const ADMIN = { PROVINCIAL_ADMIN: 'any' } as const;
const OVERSEERS = { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own', SUPERVISOR: 'own' } as const;
const RIGHTS: Record<string, Partial<Record<Role, Right>>> = {
  'Query.platform': {
    PROVINCIAL_ADMIN: 'any',
    PLATFORM_OPERATOR: 'any',
    SUPERVISOR: 'any',
    AGENCY: 'any',
    EXPERT: 'any',
    PARTNER_SYSTEM: 'any',
  },
  'Query.platforms': {
    PROVINCIAL_ADMIN: 'any',
    PLATFORM_OPERATOR: 'any',
    SUPERVISOR: 'any',
    AGENCY: 'any',
    EXPERT: 'any',
    PARTNER_SYSTEM: 'any',
  },
  // Agencies and experts have no business knowing when and where other projects are evaluated.
  'Query.schedule': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'any', SUPERVISOR: 'any', PARTNER_SYSTEM: 'list' },
  'Query.webhookDeliveries': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own', PARTNER_SYSTEM: 'own' },
  'Mutation.confirmBooking': { PLATFORM_OPERATOR: 'own', PARTNER_SYSTEM: 'own' },
  'Mutation.rejectBooking': { PLATFORM_OPERATOR: 'own', PARTNER_SYSTEM: 'own' },
  // Room blocks are schedule data; venues and rooms are kept by the platform's own operators and the province, blocks
  // also by the platform's partner system (MASTER-DATA.md, "Who").
  'Query.scheduleBlocks': {
    PROVINCIAL_ADMIN: 'any',
    PLATFORM_OPERATOR: 'any',
    SUPERVISOR: 'any',
    PARTNER_SYSTEM: 'list',
  },
  'Mutation.createVenue': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own' },
  'Mutation.createRoom': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own' },
  'Mutation.updateRoom': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own' },
  'Mutation.retireRoom': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own' },
  'Mutation.putRoomBlock': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own', PARTNER_SYSTEM: 'own' },
  'Mutation.removeRoomBlock': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own', PARTNER_SYSTEM: 'own' },
  // Master data (MASTER-DATA.md): a platform's operators keep its endpoint; agreements and rates are the province's.
  'Mutation.setPartnerEndpoint': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own' },
  'Mutation.testPartnerEndpoint': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own' },
  'Mutation.setCooperationAgreement': ADMIN,
  'Mutation.endCooperationAgreement': ADMIN,
  'Mutation.setFeeRates': ADMIN,
  // Only the provincial platform administers (and browses) the pool.
  'Query.experts': ADMIN,
  'Query.expertDraw': OVERSEERS,
  'Query.verifyExpertDraw': OVERSEERS,
  'Query.myInvitations': { EXPERT: 'list' },
  'Query.sealedAccessAudit': { PROVINCIAL_ADMIN: 'any', SUPERVISOR: 'own' },
  'Query.accessAttempts': { PROVINCIAL_ADMIN: 'any', SUPERVISOR: 'own' },
  // The specialty list is reference data; the pool's change records are the province's and every supervisor's; only the province imports the pool.
  'Query.specialties': {
    PROVINCIAL_ADMIN: 'any',
    PLATFORM_OPERATOR: 'any',
    SUPERVISOR: 'any',
    AGENCY: 'any',
    EXPERT: 'any',
    PARTNER_SYSTEM: 'any',
  },
  'Query.masterDataChanges': { PROVINCIAL_ADMIN: 'any', SUPERVISOR: 'any' },
  'Mutation.importExperts': ADMIN,
  // MASTER-DATA.md: PROVINCIAL_ADMIN keeps the pool; an EXPERT keeps only its own declarations (any expert may declare
  // for itself; it cancels only its own window).
  'Mutation.registerExpert': ADMIN,
  'Mutation.updateExpert': ADMIN,
  'Mutation.recordEmployment': ADMIN,
  'Mutation.suspendExpert': ADMIN,
  'Mutation.reinstateExpert': ADMIN,
  'Mutation.recordPenalty': ADMIN,
  'Mutation.retireExpert': ADMIN,
  'Mutation.removeConflict': ADMIN,
  'Mutation.declareConflict': { EXPERT: 'any' },
  'Mutation.declareUnavailability': { EXPERT: 'any' },
  'Mutation.cancelUnavailability': { EXPERT: 'own' },
  'Mutation.checkIn': { EXPERT: 'own' },
  'Mutation.respondToInvitation': { EXPERT: 'own' },
  'Query.project': PROJECT_READERS,
  'Query.projects': {
    PROVINCIAL_ADMIN: 'any',
    PLATFORM_OPERATOR: 'list',
    PARTNER_SYSTEM: 'list',
    SUPERVISOR: 'list',
    AGENCY: 'list',
  },
  'Query.verifyProjectArchive': PROJECT_READERS,
  'Query.archiveBundle': PROJECT_READERS,
  'Query.archiveReleasePackage': PROJECT_READERS,
  'Query.platformBalances': { PROVINCIAL_ADMIN: 'any', PLATFORM_OPERATOR: 'own' },
  'Query.reconciliationReport': ADMIN,
  'Query.latestReconciliationReport': ADMIN,
  'Query.projectsEvaluatedBetween': ADMIN,
  'Mutation.runReconciliation': ADMIN,
  'Mutation.submitProject': { AGENCY: 'own', PLATFORM_OPERATOR: 'own' },
  'Mutation.fileProject': { SUPERVISOR: 'own' },
  'Mutation.arrangeVenues': HOST_OPERATOR,
  'Mutation.advanceEvaluationFee': { AGENCY: 'own', PLATFORM_OPERATOR: 'own' },
  'Mutation.drawExperts': HOST_OPERATOR,
  'Mutation.startEvaluation': HOST_OPERATOR,
  'Mutation.replaceCommitteeMember': HOST_OPERATOR,
  'Mutation.completeEvaluation': HOST_OPERATOR,
  'Mutation.archiveProject': HOST_OPERATOR,
  'Mutation.cancelProject': { PLATFORM_OPERATOR: 'own', PROVINCIAL_ADMIN: 'any' },
};

function targetOf(entry: Case): Target {
  return {
    platform: HOST,
    department: 'HOUSING_AND_CONSTRUCTION',
    org: AGENCY,
    expert: fixture.seatExpert,
    ...entry.target,
  };
}

/** The caller of a role inside the target's scope, or just outside it (another platform, department, org or expert). */
function callerFor(role: Role, target: Target, inScope: boolean): Caller {
  const platform = inScope ? target.platform : target.platform === OTHER_PLATFORM ? '410100' : OTHER_PLATFORM;
  switch (role) {
    case 'PROVINCIAL_ADMIN':
      return { ...as.admin };
    case 'PLATFORM_OPERATOR':
      return as.operator(platform);
    case 'PARTNER_SYSTEM':
      return as.partner(platform);
    case 'SUPERVISOR':
      return as.supervisor(
        inScope ? target.department : target.department === 'FINANCE' ? 'TRANSPORT' : 'FINANCE',
        target.platform,
      );
    case 'AGENCY':
      return as.agency(inScope ? target.org : '另一家招标代理有限公司', target.platform);
    case 'EXPERT':
      return as.expert(inScope ? target.expert : target.expert === 'exp-02999' ? 'exp-02998' : 'exp-02999');
  }
}

type Outcome = 'allow' | 'FORBIDDEN' | 'SEALED';
function expected(operation: string, role: Role, inScope: boolean): Outcome {
  const right = RIGHTS[operation][role];
  if (right === undefined || (right === 'own' && !inScope)) return 'FORBIDDEN';
  return 'allow';
}

function outcomeOf(response: { errors?: { extensions?: { code?: string } }[] }): Outcome | string {
  const codes = (response.errors ?? []).map((error) => error.extensions?.code);
  if (codes.includes('FORBIDDEN')) return 'FORBIDDEN';
  if (codes.includes('SEALED')) return 'SEALED';
  if (
    codes.includes('UNAUTHENTICATED') ||
    codes.includes('INTERNAL_SERVER_ERROR') ||
    codes.includes('GRAPHQL_VALIDATION_FAILED')
  )
    return codes.join(',');
  return 'allow';
}

/** A digest of every row of every table of the three domain schemas (less `except`): equal digests, nothing written. */
async function fingerprint(except: readonly string[] = []): Promise<string> {
  const db = t.databases.projects.db;
  const tables = await sql<{ schema: string; table: string }>`
    select table_schema as schema, table_name as table from information_schema.tables
    where table_schema in ('venues', 'experts', 'projects') and table_type = 'BASE TABLE' order by 1, 2`.execute(db);
  const parts = tables.rows
    .filter(({ schema, table }) => !except.includes(`${schema}.${table}`))
    .map(
      ({ schema, table }) =>
        sql`select ${`${schema}.${table}`} as name, count(*)::text as count, coalesce(sum(hashtextextended(t::text, 0)), 0)::text as digest from ${sql.table(`${schema}.${table}`)} t`,
    );
  const union = parts.reduce((all, part) => sql`${all} union all ${part}`);
  const result = await union.execute(db);
  return createHash('sha256').update(JSON.stringify(result.rows)).digest('hex');
}

/** Waits until background jobs (invitations, notifications, the outbox relay) stop writing. */
async function settled(): Promise<void> {
  let previous = '';
  await eventually(
    async () => {
      const current = await fingerprint();
      const quiet = current === previous;
      previous = current;
      if (!quiet) await new Promise((resolve) => setTimeout(resolve, 500));
      return quiet ? true : undefined;
    },
    30_000,
    'the jobs to settle',
  );
}

/** The operations of the composed supergraph, as Type.field. */
function supergraphOperations(): string[] {
  const schema = buildSupergraphApiSchema(readSupergraph());
  return (['Query', 'Mutation'] as const).flatMap((typeName) => {
    const type = schema.getType(typeName);
    if (!type || !isObjectType(type)) return [];
    return Object.keys(type.getFields()).map((field) => `${typeName}.${field}`);
  });
}

beforeAll(async () => {
  t = await startTestHub({ overrides: { HUB_RATE_LIMIT: '0' } });
  const { projects } = t.hub.services;
  const operator: Identity = { sub: 'matrix-operator', role: 'PLATFORM_OPERATOR', platform: HOST };
  const submit = async () =>
    (
      await projects.submitProject(operator, {
        ...submission(),
        budget: 100_000_000n,
        evaluationStartsAt: inDays(30, 1),
        evaluationEndsAt: inDays(30, 9),
      } as never)
    ).id;
  fixture.submittedId = await submit();
  fixture.projectId = await submit();
  fixture.cancelId = await submit();
  await t.databases.venues.db
    .insertInto('room')
    .values({ id: MATRIX_ROOM, venue_id: `ven-${HOST}`, name: '矩阵评标室', seats: 3, video_terminal: false })
    .execute();
  await t.databases.venues.db
    .insertInto('seat')
    .values([1, 2, 3, 4].map((seat_no) => ({ room_id: MATRIX_ROOM, seat_no })))
    .execute();

  // A drawn committee (sealed: the evaluation has not started) whose first seat's expert is the in-scope EXPERT.
  const [room] = await roomsOf(t, HOST);
  fixture.sealedProjectId = await feeAdvancedProject(t, {
    mode: 'LOCAL',
    bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
  });
  const drawn = await t.graphql(as.operator(HOST), DRAW, {
    projectId: fixture.sealedProjectId,
    seats: [{ roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: 4 }],
  });
  expect(drawn.errors).toBeUndefined();
  const draw = await drawSettled(t, fixture.sealedProjectId);
  fixture.drawId = draw.id;
  const seat = (await seatsOf(t, draw.id)).find((candidate) => candidate.expert_id !== null)!;
  fixture.seatId = seat.id;
  fixture.seatExpert = seat.expert_id!;
  fixture.seatRoom = seat.room_id;
  // A window the in-scope expert declared, for cancelUnavailability.
  await t.databases.experts.db
    .insertInto('unavailability')
    .values({
      id: fixture.unavailabilityId,
      expert_id: fixture.seatExpert,
      during: sql<string>`tstzrange(${inDays(400)}::timestamptz, ${inDays(401)}::timestamptz, '[)')`,
      reason: null,
      cancelled_at: null,
    })
    .execute();

  // A HELD booking of a room of another city, for that city's decision.
  const [partnerRoom] = await roomsOf(t, fixture.bookingPlatform);
  const filed = await submit();
  await t.databases.venues.db
    .insertInto('booking')
    .values({
      id: `bk-matrix`,
      arrangement_id: `arr-matrix`,
      room_id: partnerRoom.id,
      project_id: filed,
      host_platform_id: HOST,
      role: 'SECONDARY',
      seats: 1,
      starts_at: inDays(30, 1),
      ends_at: inDays(30, 9),
      status: 'HELD',
      hold_expires_at: inDays(1),
      reason: null,
    })
    .execute();
  fixture.bookingId = 'bk-matrix';
  // Jobs settle before the walk, so any later write is the walk's.
  await settled();
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('the matrix covers the supergraph', () => {
  it('has a row for every Query and Mutation field of the composed supergraph', () => {
    const missing = supergraphOperations().filter((operation) => !(operation in AUTHORIZATION_MATRIX));
    expect(missing).toEqual([]);
  });

  it('has a walk case and written rights here for every operation of the supergraph', () => {
    expect(supergraphOperations().filter((operation) => !(operation in CASES) || !(operation in RIGHTS))).toEqual([]);
  });

  it('names the check behind every scope that is not ANY', () => {
    const operations = new Set(supergraphOperations());
    const unnamed = Object.entries(AUTHORIZATION_MATRIX).filter(
      ([coordinate, rule]) =>
        operations.has(coordinate) && Object.values(rule.roles).some((scope) => scope !== 'ANY') && !rule.enforcedBy,
    );
    expect(unnamed.map(([coordinate]) => coordinate)).toEqual([]);
  });
});

describe('every operation with every role', () => {
  const walked = () => supergraphOperations().filter((operation) => operation in CASES && operation in RIGHTS);
  let calls = 0;

  it('refuses every role outside its rights with FORBIDDEN, writing nothing', async () => {
    const wrong: string[] = [];
    for (const operation of walked()) {
      // The audit of refused check-ins writes on purpose (API.md: anything else is refused and recorded).
      const audited =
        operation === 'Mutation.checkIn'
          ? ['experts.access_attempt', 'experts.outbox', 'projects.project_event', 'projects.outbox']
          : [];
      const entry = CASES[operation];
      const before = await fingerprint(audited);
      for (const role of ROLES) {
        for (const inScope of [true, false]) {
          if (expected(operation, role, inScope) === 'allow') continue;
          const caller = callerFor(role, targetOf(entry), inScope);
          const outcome = outcomeOf(await t.graphql(caller, entry.query, entry.variables?.()));
          calls++;
          if (outcome !== 'FORBIDDEN')
            wrong.push(
              `${operation} as ${role} ${inScope ? 'in' : 'out of'} scope: expected FORBIDDEN, got ${outcome}`,
            );
        }
      }
      if ((await fingerprint(audited)) !== before) wrong.push(`${operation}: a refused call wrote to the database`);
      // An audited refusal goes on in jobs (its timeline event); let them finish before the next row is measured.
      if (audited.length > 0) await settled();
    }
    expect(wrong).toEqual([]);
    process.stdout.write(`authorization matrix: ${calls} refused calls checked\n`);
  }, 120_000);

  it('lets every role within its rights through (its answer may be any other code, never FORBIDDEN)', async () => {
    const wrong: string[] = [];
    let allowed = 0;
    // verifyExpertDraw answers SEALED until the evaluation starts (experts/sealing.ts): check the rights on an unsealed draw.
    await t.databases.experts.db
      .updateTable('draw')
      .set({ unsealed_at: new Date() })
      .where('id', '=', fixture.drawId)
      .execute();
    for (const operation of walked()) {
      const entry = CASES[operation];
      for (const role of ROLES) {
        for (const inScope of [true, false]) {
          if (expected(operation, role, inScope) !== 'allow') continue;
          const outcome = outcomeOf(
            await t.graphql(callerFor(role, targetOf(entry), inScope), entry.query, entry.variables?.()),
          );
          allowed++;
          if (outcome !== 'allow')
            wrong.push(`${operation} as ${role} ${inScope ? 'in' : 'out of'} scope: expected allow, got ${outcome}`);
        }
      }
    }
    await t.databases.experts.db
      .updateTable('draw')
      .set({ unsealed_at: null })
      .where('id', '=', fixture.drawId)
      .execute();
    expect(wrong).toEqual([]);
    process.stdout.write(`authorization matrix: ${allowed} allowed calls checked\n`);
  }, 120_000);
});

describe('sealed fields with every role', () => {
  const SEATS = 'query($id: ID!) { project(id: $id) { expertDraw { seats { expert { id name employer } } } } }';
  const MINE = '{ myInvitations { expert { id name employer } } }';

  async function seatExpertOutcome(caller: Caller): Promise<Outcome | string> {
    const response = await t.graphql<{
      project?: { expertDraw: { seats: { expert: { name: string } | null }[] } } | null;
      myInvitations?: { expert: { name: string } | null }[];
    }>(caller, caller.role === 'EXPERT' ? MINE : SEATS, { id: fixture.sealedProjectId });
    const outcome = outcomeOf(response);
    if (outcome !== 'allow') return outcome;
    const experts =
      caller.role === 'EXPERT'
        ? response.data!.myInvitations!.map((seat) => seat.expert)
        : response.data!.project!.expertDraw.seats.map((seat) => seat.expert);
    return experts.some((expert) => expert?.name) ? 'allow' : 'no value';
  }

  async function walkSeatExpert(unsealed: boolean): Promise<string[]> {
    const wrong: string[] = [];
    for (const role of ROLES) {
      for (const inScope of [true, false]) {
        // DOMAIN.md, Sealing: the expert itself for its own seat; the host's operators and the project's supervisors
        // once the evaluation started; nobody else (not the provincial admin, agencies or partner systems), ever.
        const opens = role === 'EXPERT' || (unsealed && (role === 'PLATFORM_OPERATOR' || role === 'SUPERVISOR'));
        const want: Outcome = opens && inScope ? 'allow' : 'SEALED';
        const caller = callerFor(role, targetOf({ query: '' }), inScope);
        let got = await seatExpertOutcome(caller);
        // An out-of-scope reader cannot read the project at all: refused one level up, which seals just as well.
        if (got === 'FORBIDDEN' && want === 'SEALED') got = 'SEALED';
        if (got === 'no value' && role === 'EXPERT' && !inScope) got = 'SEALED';
        if (got !== want)
          wrong.push(
            `CommitteeSeat.expert ${unsealed ? 'after' : 'before'} the start as ${role} ${inScope ? 'in' : 'out of'} scope: expected ${want}, got ${got}`,
          );
      }
    }
    return wrong;
  }

  it('shows who sits on the committee only to the expert itself before the evaluation starts', async () => {
    expect(await walkSeatExpert(false)).toEqual([]);
  });

  it('opens it to the host operators and the project supervisors once the evaluation started, never to the others', async () => {
    await t.databases.experts.db
      .updateTable('draw')
      .set({ unsealed_at: new Date() })
      .where('id', '=', fixture.drawId)
      .execute();
    expect(await walkSeatExpert(true)).toEqual([]);
  });
});
