// The authorization matrix: one declaration per `Type.field` of the schema, saying which roles may use it and within
// which scope. It is enforced here, once, by wrapping each subgraph's resolvers before its schema is built.
//
// Design (issue 14): authorization belongs to the type and the field, not to the root query that happens to reach it.
// - Query and Mutation fields: the role is checked here; scopes that need the arguments and the domain's data are
//   checked by the function each row names (`enforcedBy`).
// - Fields of object types: every field a subgraph declares in its SDL is wrapped, including fields that have no
//   resolver of their own (the wrapper adds one around the default property resolver). The role and scope are decided
//   here from the object's access facts (its project's host, department, agency; the platforms of its rooms; its
//   expert; whether the committee is unsealed), which the subgraph supplies per type (`AccessFactsOf`) from rows it
//   already loaded or through DataLoaders: no statement per row, none at all when the role's scope is ANY.
// - `Type.__resolveReference` is the type's own rule: an entity reached by reference (from another subgraph) that the
//   caller may not see is refused, and a list of that type is filtered down to the objects the caller may see.
// - Types no path reaches except through a field that is already guarded (edges, connections, timeline events,
//   reports...) are declared `THROUGH_PARENT`; entities never are, as another subgraph can hand out a reference to them.
// A field without a declaration is refused to everybody (and test/schema-authorization.test.ts fails).
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { defaultFieldResolver, Kind, type DocumentNode, type GraphQLResolveInfo, type TypeNode } from 'graphql';
import { forbidden, hubError } from './errors';
import { ROLES, type Identity, type Role } from './identity';

/**
 * Within what a role may act. Each scope is a real check, named by the rows that use it (`enforcedBy`), or decided
 * here from the object's access facts (`kind: 'object'`).
 * A `filter` scope narrows a list to what the caller may see; a `refuse` scope answers FORBIDDEN (or SEALED) outside.
 */
export const SCOPES = {
  ANY: { kind: 'none', means: 'everything of its kind' },
  OWN_PLATFORM: { kind: 'refuse', means: "the platform named in the arguments is the token's platform" },
  OWN_PLATFORM_LIST: { kind: 'filter', means: "only rows of the token's platform are listed" },
  HOST_PLATFORM: { kind: 'object', means: "the project's host platform is the token's platform" },
  HOST_PLATFORM_LIST: { kind: 'filter', means: "only projects hosted on the token's platform are listed" },
  ROOM_PLATFORM: {
    kind: 'object',
    means: "the booking's room, or a room booked for the project, belongs to the token's platform",
  },
  DEPARTMENT_REGION: {
    kind: 'object',
    means: "the project's department is the token's, hosted on the token's platform or a child of it",
  },
  DEPARTMENT_REGION_LIST: { kind: 'filter', means: "only projects of the token's department in its region are listed" },
  OWN_ORGANISATION: { kind: 'object', means: "the project's agency is the token's org" },
  OWN_ORGANISATION_LIST: { kind: 'filter', means: "only the token's org's projects are listed" },
  OWN_EXPERT: {
    kind: 'object',
    means: "the seat or expert is the token's expert id, or the booking holds a seat of it",
  },
  OWN_EXPERT_LIST: { kind: 'filter', means: "only the token's expert's own invitations are listed" },
  HOST_PLATFORM_UNSEALED: {
    kind: 'object',
    means: 'HOST_PLATFORM, and only once the evaluation started (IN_EVALUATION)',
  },
  DEPARTMENT_REGION_UNSEALED: {
    kind: 'object',
    means: 'DEPARTMENT_REGION, and only once the evaluation started (IN_EVALUATION)',
  },
} as const;
export type Scope = keyof typeof SCOPES;

export interface AccessRule {
  /**
   * The roles that may use the field, each with its scope (or scopes, any of which admits); a role not listed is refused
   * before the resolver runs.
   */
  roles: Partial<Record<Role, Scope | readonly Scope[]>>;
  /** The function that checks the scopes that need the arguments (root fields), when some scope is not ANY. */
  enforcedBy?: string;
  /** Sealed fields answer SEALED (null with an error), not FORBIDDEN: the field exists, its value is withheld. */
  refusal?: 'FORBIDDEN' | 'SEALED';
  /**
   * The tables a refusal writes on purpose (an audit of attempts, e.g. at the evaluation area's door). The resolver
   * then refuses every role itself, after recording the attempt, so the wrapper lets the call through.
   */
  refusalsAudited?: readonly string[];
  /** The type is reached only through fields that are guarded already (never an entity): its fields need no check of their own. */
  throughParent?: true;
}

/** What the object-level scopes are decided from: a project's access facts. */
export interface ProjectAccess {
  hostPlatform: string;
  hostParent: string | null;
  department: string;
  agency: string;
}

/**
 * The access facts of one object, supplied by the subgraph that resolves it. Facts that need a query are functions,
 * called only when a scope needs them, each backed by a DataLoader (one statement per tick, not per object).
 */
export interface AccessFacts {
  /** The project the object belongs to. */
  project?: () => Promise<ProjectAccess | null>;
  /** The platforms of the rooms of the booking, or of every booking of the project. */
  roomPlatforms?: () => Promise<readonly string[]>;
  /** The expert of the seat, or the expert itself. */
  expert?: string | null;
  /** The experts invited to a seat of the booking or draw. */
  seatedExperts?: () => Promise<readonly string[]>;
  /** Whether the evaluation started (the committee is no longer sealed). */
  unsealed?: boolean;
}

/** Per type, how a subgraph finds the access facts of one of its objects. */
export type AccessFactsOf<C> = Record<string, FactsOf<C>>;
type FactsOf<C> = (object: never, context: C) => AccessFacts | Promise<AccessFacts>;

const EVERYONE: AccessRule = { roles: Object.fromEntries(ROLES.map((role) => [role, 'ANY'])) as Record<Role, Scope> };
const THROUGH_PARENT: AccessRule = { ...EVERYONE, throughParent: true };
const PROJECT_READERS: AccessRule['roles'] = {
  PROVINCIAL_ADMIN: 'ANY',
  PLATFORM_OPERATOR: 'HOST_PLATFORM',
  PARTNER_SYSTEM: 'HOST_PLATFORM',
  SUPERVISOR: 'DEPARTMENT_REGION',
  AGENCY: 'OWN_ORGANISATION',
};
const DRAW_OVERSEERS: AccessRule['roles'] = {
  PROVINCIAL_ADMIN: 'ANY',
  PLATFORM_OPERATOR: 'HOST_PLATFORM',
  SUPERVISOR: 'DEPARTMENT_REGION',
};
const HOST_OPERATOR: AccessRule['roles'] = { PLATFORM_OPERATOR: 'HOST_PLATFORM' };
const ADMIN_ONLY: AccessRule['roles'] = { PROVINCIAL_ADMIN: 'ANY' };

/** A project's readers (`project(id)`), and through a booking of its own rooms, a partner platform's operator or system. */
const PROJECT_OUTLINE: AccessRule = {
  roles: {
    ...PROJECT_READERS,
    PLATFORM_OPERATOR: ['HOST_PLATFORM', 'ROOM_PLATFORM'],
    PARTNER_SYSTEM: ['HOST_PLATFORM', 'ROOM_PLATFORM'],
  },
};
const PROJECT: AccessRule = { roles: PROJECT_READERS };
/**
 * A booking is part of the schedule: those who read schedules (`schedule`), a partner system for its rooms and the
 * projects its platform hosts, and the project's agency. An expert sees only the booking of its own seat (its room).
 */
const BOOKING: AccessRule = {
  roles: {
    PROVINCIAL_ADMIN: 'ANY',
    PLATFORM_OPERATOR: 'ANY',
    SUPERVISOR: 'ANY',
    PARTNER_SYSTEM: ['ROOM_PLATFORM', 'HOST_PLATFORM'],
    AGENCY: 'OWN_ORGANISATION',
    EXPERT: 'OWN_EXPERT',
  },
};
/** A room block: those who read schedules, and a partner system for the blocks of its own rooms. */
const ROOM_BLOCK: AccessRule = {
  roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ANY', SUPERVISOR: 'ANY', PARTNER_SYSTEM: 'ROOM_PLATFORM' },
};
/** A seat (and its draw): its project's readers see counts and statuses, the expert sees its own invitations. */
const SEAT: AccessRule = { roles: { ...PROJECT_READERS, EXPERT: 'OWN_EXPERT' } };
/** An expert of the pool: its administrators, the expert itself, and through a seat those the seal lets see it. */
const EXPERT_IDENTITY: AccessRule = {
  roles: {
    PROVINCIAL_ADMIN: 'ANY',
    EXPERT: 'OWN_EXPERT',
    PLATFORM_OPERATOR: 'HOST_PLATFORM_UNSEALED',
    SUPERVISOR: 'DEPARTMENT_REGION_UNSEALED',
  },
  refusal: 'SEALED',
};

/** One row per field of a type, all under the same rule. */
function fields(typeName: string, names: readonly string[], rule: AccessRule): Record<string, AccessRule> {
  return Object.fromEntries(names.map((name) => [`${typeName}.${name}`, rule]));
}

/**
 * Every field of every object type of the supergraph, and `__resolveReference` of every entity.
 * A field missing here is refused to everybody (and test/schema-authorization.test.ts fails).
 */
export const AUTHORIZATION_MATRIX: Readonly<Record<string, AccessRule>> = {
  // venues: reference data is for every authenticated caller; schedules and decisions are the rooms' platforms'.
  'Query.platform': EVERYONE,
  'Query.platforms': EVERYONE,
  // Agencies and experts have no business knowing when and where other projects are evaluated.
  'Query.schedule': {
    roles: {
      PROVINCIAL_ADMIN: 'ANY',
      PLATFORM_OPERATOR: 'ANY',
      SUPERVISOR: 'ANY',
      PARTNER_SYSTEM: 'OWN_PLATFORM_LIST',
    },
    enforcedBy: 'subgraphs/venues/resolvers.ts Query.schedule (visibleTo)',
  },
  'Query.webhookDeliveries': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM', PARTNER_SYSTEM: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/resolvers.ts Query.webhookDeliveries',
  },
  // Room blocks are part of the schedule: the same readers, a partner system its own rooms' blocks.
  'Query.scheduleBlocks': {
    roles: {
      PROVINCIAL_ADMIN: 'ANY',
      PLATFORM_OPERATOR: 'ANY',
      SUPERVISOR: 'ANY',
      PARTNER_SYSTEM: 'OWN_PLATFORM_LIST',
    },
    enforcedBy: 'subgraphs/venues/resolvers.ts Query.scheduleBlocks (visibleTo)',
  },
  // Venues and rooms: the platform's own operators and the province (MASTER-DATA.md); blocks also its partner system.
  'Mutation.createVenue': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/rooms.ts requireKeeper',
  },
  'Mutation.createRoom': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: "subgraphs/venues/rooms.ts requireKeeper (the venue's platform)",
  },
  'Mutation.updateRoom': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ROOM_PLATFORM' },
    enforcedBy: "subgraphs/venues/rooms.ts requireKeeper (the room's platform)",
  },
  'Mutation.retireRoom': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ROOM_PLATFORM' },
    enforcedBy: "subgraphs/venues/rooms.ts requireKeeper (the room's platform)",
  },
  'Mutation.putRoomBlock': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ROOM_PLATFORM', PARTNER_SYSTEM: 'ROOM_PLATFORM' },
    enforcedBy: "subgraphs/venues/blocks.ts putRoomBlock (requireKeeper, the room's platform)",
  },
  'Mutation.removeRoomBlock': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM', PARTNER_SYSTEM: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/blocks.ts removeRoomBlock (requireKeeper)',
  },
  'Mutation.confirmBooking': {
    roles: { PLATFORM_OPERATOR: 'ROOM_PLATFORM', PARTNER_SYSTEM: 'ROOM_PLATFORM' },
    enforcedBy: 'subgraphs/venues/decisions.ts requireRoomPlatform',
  },
  'Mutation.rejectBooking': {
    roles: { PLATFORM_OPERATOR: 'ROOM_PLATFORM', PARTNER_SYSTEM: 'ROOM_PLATFORM' },
    enforcedBy: 'subgraphs/venues/decisions.ts requireRoomPlatform',
  },
  // Master data (MASTER-DATA.md): a platform's operators keep its endpoint; agreements and rates are the province's.
  'Mutation.setPartnerEndpoint': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/endpoints.ts requireEndpointKeeper',
  },
  'Mutation.testPartnerEndpoint': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/venues/endpoints.ts requireEndpointKeeper',
  },
  'Mutation.setCooperationAgreement': { roles: ADMIN_ONLY },
  'Mutation.endCooperationAgreement': { roles: ADMIN_ONLY },
  'Mutation.setFeeRates': { roles: ADMIN_ONLY },

  // experts: the pool is the province's; draws are overseen by the host, its supervisors and the province.
  'Query.experts': { roles: ADMIN_ONLY },
  'Query.expertDraw': { roles: DRAW_OVERSEERS, enforcedBy: 'subgraphs/experts/sealing.ts mayVerifyDraw' },
  'Query.verifyExpertDraw': { roles: DRAW_OVERSEERS, enforcedBy: 'subgraphs/experts/sealing.ts mayVerifyDraw' },
  'Query.myInvitations': {
    roles: { EXPERT: 'OWN_EXPERT_LIST' },
    enforcedBy: 'subgraphs/experts/draw-records.ts invitationsOfExpert (token expert id)',
  },
  'Query.sealedAccessAudit': {
    roles: { PROVINCIAL_ADMIN: 'ANY', SUPERVISOR: 'DEPARTMENT_REGION' },
    enforcedBy: 'subgraphs/experts/sealing.ts mayReadAccessAudit',
  },
  'Mutation.respondToInvitation': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/invitations.ts respondToInvitation',
  },
  'Query.accessAttempts': {
    roles: { PROVINCIAL_ADMIN: 'ANY', SUPERVISOR: 'DEPARTMENT_REGION' },
    enforcedBy: 'subgraphs/experts/sealing.ts mayReadAccessAudit',
  },
  // The specialty list is reference data; the pool's change records are the province's and its supervisors' (sealed
  // fields of a record are left out for supervisors: lib/master-data-audit.ts shownFields); the import is the province's.
  'Query.specialties': EVERYONE,
  'Query.masterDataChanges': { roles: { PROVINCIAL_ADMIN: 'ANY', SUPERVISOR: 'ANY' } },
  'Mutation.importExperts': { roles: ADMIN_ONLY },
  // Keeping the pool (MASTER-DATA.md): the province's; an expert keeps only its own declarations (the token's expert).
  'Mutation.registerExpert': { roles: ADMIN_ONLY },
  'Mutation.updateExpert': { roles: ADMIN_ONLY },
  'Mutation.recordEmployment': { roles: ADMIN_ONLY },
  'Mutation.suspendExpert': { roles: ADMIN_ONLY },
  'Mutation.reinstateExpert': { roles: ADMIN_ONLY },
  'Mutation.recordPenalty': { roles: ADMIN_ONLY },
  'Mutation.retireExpert': { roles: ADMIN_ONLY },
  'Mutation.removeConflict': { roles: ADMIN_ONLY },
  'Mutation.declareConflict': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/declarations.ts ownExpert (token expert id)',
  },
  'Mutation.declareUnavailability': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/declarations.ts ownExpert (token expert id)',
  },
  'Mutation.cancelUnavailability': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: "subgraphs/experts/declarations.ts cancelUnavailability (the window is the token expert's)",
  },
  // Every attempt to enter the evaluation area is recorded, refused ones too (supervisors read them in accessAttempts).
  'Mutation.checkIn': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/check-in.ts refusalOf',
    refusalsAudited: ['experts.access_attempt', 'experts.outbox', 'projects.project_event', 'projects.outbox'],
  },

  // projects: readers of a project by role; each workflow step by the role DOMAIN.md gives it.
  'Query.project': { roles: PROJECT_READERS, enforcedBy: 'subgraphs/projects/service.ts ProjectsService.canRead' },
  'Query.projects': {
    roles: {
      PROVINCIAL_ADMIN: 'ANY',
      PLATFORM_OPERATOR: 'HOST_PLATFORM_LIST',
      PARTNER_SYSTEM: 'HOST_PLATFORM_LIST',
      SUPERVISOR: 'DEPARTMENT_REGION_LIST',
      AGENCY: 'OWN_ORGANISATION_LIST',
    },
    enforcedBy: 'subgraphs/projects/service.ts ProjectsService.listProjects',
  },
  'Query.verifyProjectArchive': {
    roles: PROJECT_READERS,
    enforcedBy: 'subgraphs/projects/steps/archive.ts verifyProjectArchive (canRead)',
  },
  'Query.archiveBundle': {
    roles: PROJECT_READERS,
    enforcedBy: 'subgraphs/projects/steps/archive.ts archiveBundle (canRead; committee only where mayReadSeatExpert)',
  },
  'Query.archiveReleasePackage': {
    roles: PROJECT_READERS,
    enforcedBy: 'subgraphs/projects/steps/archive.ts archiveBundle (canRead, without sealed parts)',
  },
  'Query.platformBalances': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/projects/resolvers.ts Query.platformBalances',
  },
  'Query.reconciliationReport': { roles: ADMIN_ONLY },
  'Query.latestReconciliationReport': { roles: ADMIN_ONLY },
  'Query.projectsEvaluatedBetween': { roles: ADMIN_ONLY },
  'Mutation.runReconciliation': { roles: ADMIN_ONLY },
  'Mutation.submitProject': {
    roles: { AGENCY: 'OWN_ORGANISATION', PLATFORM_OPERATOR: 'OWN_PLATFORM' },
    enforcedBy: 'subgraphs/projects/service.ts ProjectsService.submitProject',
  },
  'Mutation.fileProject': {
    roles: { SUPERVISOR: 'DEPARTMENT_REGION' },
    enforcedBy: 'subgraphs/projects/service.ts ProjectsService.fileProject',
  },
  'Mutation.arrangeVenues': {
    roles: HOST_OPERATOR,
    enforcedBy: 'subgraphs/projects/steps/arrange-venues.ts arrangeVenues',
  },
  'Mutation.advanceEvaluationFee': {
    roles: { AGENCY: 'OWN_ORGANISATION', PLATFORM_OPERATOR: 'HOST_PLATFORM' },
    enforcedBy: 'subgraphs/projects/steps/fee-advance.ts',
  },
  'Mutation.drawExperts': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps/draw-experts.ts drawExperts' },
  'Mutation.startEvaluation': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps startEvaluation' },
  'Mutation.replaceCommitteeMember': {
    roles: HOST_OPERATOR,
    enforcedBy: 'subgraphs/projects/steps replaceCommitteeMember',
  },
  'Mutation.completeEvaluation': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps completeEvaluation' },
  'Mutation.archiveProject': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps/archive.ts archiveProject' },
  'Mutation.cancelProject': {
    roles: { PLATFORM_OPERATOR: 'HOST_PLATFORM', PROVINCIAL_ADMIN: 'ANY' },
    enforcedBy: 'subgraphs/projects/steps/cancel-project.ts cancelProject',
  },

  // Reference data: platforms, their agreements, venues and rooms are for every authenticated caller.
  ...fields(
    'Platform',
    [
      '__resolveReference',
      'id',
      'name',
      'nameEn',
      'level',
      'parent',
      'children',
      'partners',
      'venues',
      'expertFeeRate',
      'seatServiceFee',
      'feeRateHistory',
    ],
    EVERYONE,
  ),
  ...fields('FeeRates', ['expertFeeRate', 'seatServiceFee', 'effectiveFrom'], EVERYONE),
  ...fields('CooperationAgreement', ['partner', 'autoConfirm'], EVERYONE),
  ...fields('Venue', ['__resolveReference', 'id', 'platform', 'name', 'address', 'rooms'], EVERYONE),
  // A room's bookings list only those the caller may read (VenueBooking.__resolveReference).
  ...fields(
    'EvaluationRoom',
    [
      '__resolveReference',
      'id',
      'venue',
      'name',
      'seats',
      'videoTerminal',
      'freeSeats',
      'bookings',
      'blocks',
      'retired',
    ],
    EVERYONE,
  ),
  // A block is part of the schedule: its readers, and a partner system for its own rooms' blocks.
  ...fields(
    'RoomBlock',
    ['__resolveReference', 'id', 'room', 'seats', 'startsAt', 'endsAt', 'reason', 'externalRef'],
    ROOM_BLOCK,
  ),
  ...fields(
    'VenueBooking',
    ['__resolveReference', 'id', 'room', 'role', 'seats', 'startsAt', 'endsAt', 'status', 'holdExpiresAt', 'reason'],
    BOOKING,
  ),
  // The project behind a booking follows the project's own rules.
  'VenueBooking.project': BOOKING,
  ...fields(
    'WebhookDelivery',
    [
      'id',
      'platform',
      'booking',
      'event',
      'url',
      'status',
      'attempts',
      'lastStatusCode',
      'lastError',
      'createdAt',
      'deliveredAt',
    ],
    THROUGH_PARENT,
  ),
  ...fields('WebhookDeliveryEdge', ['cursor', 'node'], THROUGH_PARENT),
  ...fields('WebhookDeliveryConnection', ['edges', 'pageInfo', 'totalCount'], THROUGH_PARENT),
  ...fields('PageInfo', ['hasNextPage', 'endCursor'], THROUGH_PARENT),

  // Projects (DOMAIN.md, Sealing: "a Project reached through a booking ... gets exactly the checks of its root query").
  ...fields(
    'Project',
    [
      '__resolveReference',
      'id',
      'code',
      'name',
      'category',
      'mode',
      'hostPlatform',
      'evaluationStartsAt',
      'evaluationEndsAt',
      'status',
      'committeeSize',
    ],
    PROJECT_OUTLINE,
  ),
  ...fields(
    'Project',
    [
      'department',
      'tenderer',
      'agency',
      'bidders',
      'budget',
      'procurementMethod',
      'tendererRepresentatives',
      'feeAdvance',
      'timeline',
      'ledger',
      'venueBookings',
      'expertDraw',
    ],
    PROJECT,
  ),
  ...fields('ProjectEvent', ['at', 'kind', 'actor', 'detail'], THROUGH_PARENT),
  ...fields(
    'LedgerEntry',
    ['id', 'kind', 'payer', 'payee', 'amount', 'reverses', 'settledAt', 'createdAt'],
    THROUGH_PARENT,
  ),
  ...fields('PartnerBalance', ['partner', 'payable', 'receivable', 'entries'], THROUGH_PARENT),
  ...fields('ArchiveVerification', ['projectId', 'intact', 'entries', 'firstBrokenEntry'], THROUGH_PARENT),
  ...fields(
    'Discrepancy',
    ['kind', 'projectId', 'bookingId', 'detail', 'projectCode', 'seatId', 'ledgerEntryId', 'platformId', 'resolution'],
    THROUGH_PARENT,
  ),
  ...fields(
    'ReconciliationReport',
    [
      'id',
      'from',
      'to',
      'status',
      'generatedAt',
      'discrepancies',
      'trigger',
      'requestedBy',
      'createdAt',
      'startedAt',
      'failureReason',
    ],
    THROUGH_PARENT,
  ),
  ...fields('ProjectEdge', ['cursor', 'node'], THROUGH_PARENT),
  ...fields('ProjectConnection', ['edges', 'pageInfo', 'totalCount'], THROUGH_PARENT),

  // Draws and seats: the project's readers; a seated expert also reads its own invitation and the draw that made it
  // (its other seats are not listed: ExpertDraw.seats keeps the seats the caller may read).
  ...fields(
    'ExpertDraw',
    [
      '__resolveReference',
      'id',
      'project',
      'status',
      'seedCommitment',
      'seed',
      'failureReason',
      'supervisorNonce',
      'seats',
    ],
    SEAT,
  ),
  ...fields(
    'CommitteeSeat',
    [
      '__resolveReference',
      'id',
      'draw',
      'booking',
      'specialty',
      'round',
      'status',
      'invitedAt',
      'answerDueAt',
      'respondedAt',
      'reason',
      'checkedInAt',
    ],
    SEAT,
  ),
  // Sealed fields (DOMAIN.md, Sealing): who sits on a committee.
  'CommitteeSeat.expert': {
    roles: {
      EXPERT: 'OWN_EXPERT',
      PLATFORM_OPERATOR: 'HOST_PLATFORM_UNSEALED',
      SUPERVISOR: 'DEPARTMENT_REGION_UNSEALED',
    },
    enforcedBy: 'subgraphs/experts/sealing.ts mayReadSeatExpert',
    refusal: 'SEALED',
  },
  // An expert reached through a seat carries the seat's facts; without one only the pool's administrators and itself.
  ...fields(
    'Expert',
    [
      '__resolveReference',
      'id',
      'code',
      'homePlatform',
      'specialties',
      'name',
      'employer',
      'status',
      'suspendedUntil',
      'unavailability',
    ],
    EXPERT_IDENTITY,
  ),
  ...fields('ExpertUnavailability', ['id', 'from', 'to', 'reason'], THROUGH_PARENT),
  ...fields('ExpertEdge', ['cursor', 'node'], THROUGH_PARENT),
  ...fields('ExpertConnection', ['edges', 'pageInfo', 'totalCount'], THROUGH_PARENT),
  ...fields(
    'AccessAttempt',
    ['id', 'at', 'actor', 'role', 'seat', 'roomId', 'admitted', 'code', 'reason'],
    THROUGH_PARENT,
  ),
  ...fields('DrawVerification', ['drawId', 'matches', 'detail'], THROUGH_PARENT),
  ...fields('SealedAccessRecord', ['at', 'lastAt', 'reads', 'actor', 'role', 'field', 'seat'], THROUGH_PARENT),
  ...fields(
    'MasterDataChange',
    ['id', 'at', 'actor', 'role', 'platform', 'entityType', 'entityId', 'before', 'after', 'note'],
    THROUGH_PARENT,
  ),
  ...fields('MasterDataChangeEdge', ['cursor', 'node'], THROUGH_PARENT),
  ...fields('MasterDataChangeConnection', ['edges', 'pageInfo', 'totalCount'], THROUGH_PARENT),
  ...fields('ImportFile', ['name', 'sha256', 'rows'], THROUGH_PARENT),
  ...fields(
    'ImportReport',
    [
      'dryRun',
      'sha256',
      'files',
      'created',
      'updated',
      'unchanged',
      'employmentAdded',
      'employmentUpdated',
      'conflictsAdded',
      'errors',
      'applied',
      'changeId',
    ],
    THROUGH_PARENT,
  ),
};

/** The root types whose every field must have a row: an operation without one is refused to everybody. */
const OPERATION_TYPES = ['Query', 'Mutation'] as const;

function refusalFor(coordinate: string, rule: AccessRule | undefined, identity: Identity) {
  if (!rule)
    return forbidden(
      `${coordinate} has no row in the authorization matrix (lib/authorization.ts), so nobody may use it yet`,
    );
  if (rule.refusal === 'SEALED') {
    return hubError(
      'SEALED',
      `${coordinate} is sealed: it is visible only to those DOMAIN.md allows, and only from the moment it allows`,
    );
  }
  const allowed = Object.keys(rule.roles);
  if (rule.roles[identity.role] === undefined)
    return forbidden(`only ${allowed.join(' or ')} may use ${coordinate}; your token's role is ${identity.role}`);
  const scopes = scopesOf(rule.roles[identity.role]!);
  return forbidden(
    `your token may use ${coordinate} only where ${scopes.map((scope) => SCOPES[scope].means).join(', or ')}; ask someone within that scope`,
  );
}

function scopesOf(granted: Scope | readonly Scope[]): readonly Scope[] {
  return typeof granted === 'string' ? [granted] : (granted as readonly Scope[]);
}

/** Whether the matrix lets this role use the field at all (scopes are checked by the row's `enforcedBy` or the facts). */
export function roleMayUse(coordinate: string, role: Role): boolean {
  return AUTHORIZATION_MATRIX[coordinate]?.roles[role] !== undefined;
}

/** Whether one object-level scope admits the caller, from the object's facts (a list or argument scope never does here). */
async function admits(scope: Scope, identity: Identity, facts: AccessFacts): Promise<boolean> {
  const project = async () => (facts.project ? facts.project() : null);
  switch (scope) {
    case 'ANY':
      return true;
    case 'HOST_PLATFORM_UNSEALED':
      if (facts.unsealed !== true) return false;
    // falls through: once unsealed, the host platform's rule
    case 'HOST_PLATFORM':
      return (await project())?.hostPlatform === identity.platform;
    case 'DEPARTMENT_REGION_UNSEALED':
      if (facts.unsealed !== true) return false;
    // falls through: once unsealed, the department's rule
    case 'DEPARTMENT_REGION': {
      const access = await project();
      return (
        access !== null &&
        access.department === identity.department &&
        (access.hostPlatform === identity.platform || access.hostParent === identity.platform)
      );
    }
    case 'OWN_ORGANISATION':
      return identity.org !== undefined && (await project())?.agency === identity.org;
    case 'ROOM_PLATFORM':
      return (facts.roomPlatforms ? await facts.roomPlatforms() : []).includes(identity.platform);
    case 'OWN_EXPERT':
      if (identity.expert === undefined) return false;
      return (
        facts.expert === identity.expert ||
        (facts.seatedExperts ? (await facts.seatedExperts()).includes(identity.expert) : false)
      );
    default:
      return false;
  }
}

/** The facts of each object are looked up once per request, however many of its fields are asked. */
const factsCache = new WeakMap<object, WeakMap<object, AccessFacts | Promise<AccessFacts>>>();

/**
 * Whether the caller may use the field on this object: its role must be listed, and one of its scopes must admit it
 * from the object's facts. ANY needs no facts at all, so the widest roles cost nothing per object.
 */
export async function mayAccess<C extends { identity: Identity }>(
  rule: AccessRule,
  object: unknown,
  context: C,
  factsOf: FactsOf<C> | undefined,
): Promise<boolean> {
  const granted = rule.roles[context.identity.role];
  if (granted === undefined) return false;
  const scopes = scopesOf(granted);
  if (scopes.includes('ANY')) return true;
  if (!factsOf || typeof object !== 'object' || object === null) return false;
  let perRequest = factsCache.get(context);
  if (!perRequest) factsCache.set(context, (perRequest = new WeakMap()));
  let pending = perRequest.get(object);
  if (!pending) perRequest.set(object, (pending = factsOf(object as never, context)));
  const facts = await pending;
  for (const scope of scopes) if (await admits(scope, context.identity, facts)) return true;
  return false;
}

type Resolver = (root: unknown, args: unknown, context: { identity: Identity }, info: GraphQLResolveInfo) => unknown;
type ReferenceResolver = (reference: unknown, context: { identity: Identity }, info: GraphQLResolveInfo) => unknown;

/** The named type of a field's type, and whether it is a list. */
function namedType(type: TypeNode): { name: string; list: boolean } {
  if (type.kind === Kind.NAMED_TYPE) return { name: type.name.value, list: false };
  const inner = namedType(type.type);
  return { name: inner.name, list: inner.list || type.kind === Kind.LIST_TYPE };
}

/** Every object type's fields as the subgraph's SDL declares them, with their return types. */
function objectFieldsOf(typeDefs: DocumentNode): Map<string, Map<string, { name: string; list: boolean }>> {
  const types = new Map<string, Map<string, { name: string; list: boolean }>>();
  for (const definition of typeDefs.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const fieldsOfType = types.get(definition.name.value) ?? new Map<string, { name: string; list: boolean }>();
    for (const field of definition.fields ?? []) fieldsOfType.set(field.name.value, namedType(field.type));
    types.set(definition.name.value, fieldsOfType);
    const resolvable = definition.directives
      ?.find((directive) => directive.name.value === 'key')
      ?.arguments?.find((argument) => argument.name.value === 'resolvable');
    if (resolvable?.value.kind === Kind.BOOLEAN && !resolvable.value.value) types.delete(definition.name.value);
  }
  return types;
}

/**
 * Wraps a subgraph's resolvers with the matrix (see the top of this file):
 * - every Query and Mutation resolver refuses a role its row does not list before it runs;
 * - every field of every object type the SDL declares (with or without a resolver of its own) refuses a caller its
 *   row does not admit, from the object's facts (FORBIDDEN, or SEALED for sealed fields), and a list of an entity type
 *   keeps only the objects the entity's own rule admits;
 * - `__resolveReference` refuses an entity the caller may not see at all.
 *
 * ```ts
 * buildSubgraphSchema([{ typeDefs, resolvers: enforceAuthorization(resolvers, typeDefs, accessFacts) }]);
 * ```
 */
export function enforceAuthorization<C extends { identity: Identity }>(
  resolvers: GraphQLResolverMap<C>,
  typeDefs: DocumentNode,
  accessFacts: AccessFactsOf<C> = {},
): GraphQLResolverMap<C> {
  const declared = objectFieldsOf(typeDefs);
  const wrapped: Record<string, unknown> = {};
  const factsOf = (typeName: string) => accessFacts[typeName] as FactsOf<{ identity: Identity }> | undefined;

  /** Keeps the objects of an entity type the caller may see; other types pass as they are. */
  const visible = async (typeName: string, list: unknown, context: { identity: Identity }): Promise<unknown> => {
    const rule = AUTHORIZATION_MATRIX[`${typeName}.__resolveReference`];
    if (!rule || !Array.isArray(list)) return list;
    const kept = await Promise.all(list.map((item) => mayAccess(rule, item, context, factsOf(typeName))));
    return list.filter((_item, index) => kept[index]);
  };

  const guardField = (
    typeName: string,
    fieldName: string,
    resolve: Resolver,
    returns: { name: string; list: boolean } | undefined,
  ): Resolver => {
    const coordinate = `${typeName}.${fieldName}`;
    const rule = AUTHORIZATION_MATRIX[coordinate];
    const filtered = returns?.list === true && `${returns.name}.__resolveReference` in AUTHORIZATION_MATRIX;
    if (rule?.throughParent && !filtered) return resolve;
    const isRoot = (OPERATION_TYPES as readonly string[]).includes(typeName);
    return async (root, args, context, info) => {
      if (!rule) throw refusalFor(coordinate, rule, context.identity);
      // A root field's scope needs its arguments: the row's `enforcedBy` checks it; here only the role.
      if (
        isRoot
          ? rule.roles[context.identity.role] === undefined && !rule.refusalsAudited
          : !(await mayAccess(rule, root, context, factsOf(typeName)))
      ) {
        throw refusalFor(coordinate, rule, context.identity);
      }
      const value = await resolve(root, args, context, info);
      return filtered ? visible(returns.name, value, context) : value;
    };
  };

  const typeNames = new Set([...Object.keys(resolvers), ...declared.keys()]);
  for (const typeName of typeNames) {
    const fieldsOfType = (resolvers as Record<string, unknown>)[typeName];
    // Scalars (GraphQLScalarType instances) and enums pass as they are; only plain field maps are wrapped.
    if (
      fieldsOfType !== undefined &&
      (typeof fieldsOfType !== 'object' ||
        fieldsOfType === null ||
        Object.getPrototypeOf(fieldsOfType) !== Object.prototype)
    ) {
      wrapped[typeName] = fieldsOfType;
      continue;
    }
    const given = (fieldsOfType ?? {}) as Record<string, unknown>;
    const shape = declared.get(typeName);
    const guarded: Record<string, unknown> = {};
    for (const [fieldName, resolver] of Object.entries(given)) {
      if (fieldName === '__resolveReference' && typeof resolver === 'function') {
        guarded[fieldName] = referenceGuard(
          `${typeName}.${fieldName}`,
          resolver as ReferenceResolver,
          factsOf(typeName),
        );
      } else if (!fieldName.startsWith('__') && typeof resolver === 'function') {
        guarded[fieldName] = guardField(typeName, fieldName, resolver as Resolver, shape?.get(fieldName));
      } else {
        guarded[fieldName] = resolver;
      }
    }
    // Fields the SDL declares without a resolver of their own read the object's property: guarded all the same.
    for (const [fieldName, returns] of shape ?? []) {
      if (fieldName in guarded) continue;
      guarded[fieldName] = guardField(typeName, fieldName, defaultFieldResolver as Resolver, returns);
    }
    wrapped[typeName] = guarded;
  }
  return wrapped as GraphQLResolverMap<C>;
}

/** An entity reached by reference (from another subgraph) that the caller may not see at all is refused. */
function referenceGuard(
  coordinate: string,
  resolve: ReferenceResolver,
  factsOf: FactsOf<{ identity: Identity }> | undefined,
): ReferenceResolver {
  const rule = AUTHORIZATION_MATRIX[coordinate];
  return async (reference, context, info) => {
    if (!rule || rule.roles[context.identity.role] === undefined) throw refusalFor(coordinate, rule, context.identity);
    const entity = await resolve(reference, context, info);
    if (entity !== null && entity !== undefined && !(await mayAccess(rule, entity, context, factsOf)))
      throw refusalFor(coordinate, rule, context.identity);
    return entity;
  };
}
