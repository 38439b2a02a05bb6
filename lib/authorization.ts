// The authorization matrix: for every operation and every non-public field, which roles may use it and within which
// scope. Roles are enforced here, once, by wrapping each subgraph's resolvers before the schema is built; scopes that
// need the domain's data are checked by the function each row names, in the domain that owns the data.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { forbidden, hubError } from './errors';
import { ROLES, type Identity, type Role } from './identity';

/**
 * Within what a role may act. Each scope is a real check, named by the rows that use it (`enforcedBy`).
 * A `filter` scope narrows a list to what the caller may see; a `refuse` scope answers FORBIDDEN (or SEALED) outside.
 */
export const SCOPES = {
  ANY: { kind: 'none', means: 'everything of its kind' },
  OWN_PLATFORM: { kind: 'refuse', means: "the platform named in the arguments is the token's platform" },
  OWN_PLATFORM_LIST: { kind: 'filter', means: "only rows of the token's platform are listed" },
  HOST_PLATFORM: { kind: 'refuse', means: "the project's host platform is the token's platform" },
  HOST_PLATFORM_LIST: { kind: 'filter', means: "only projects hosted on the token's platform are listed" },
  ROOM_PLATFORM: { kind: 'refuse', means: "the booking's room belongs to the token's platform (the partner that provides it)" },
  DEPARTMENT_REGION: { kind: 'refuse', means: "the project's department is the token's, hosted on the token's platform or a child of it" },
  DEPARTMENT_REGION_LIST: { kind: 'filter', means: "only projects of the token's department in its region are listed" },
  OWN_ORGANISATION: { kind: 'refuse', means: "the project's agency is the token's org" },
  OWN_ORGANISATION_LIST: { kind: 'filter', means: "only the token's org's projects are listed" },
  OWN_EXPERT: { kind: 'refuse', means: "the seat or expert is the token's expert id" },
  OWN_EXPERT_LIST: { kind: 'filter', means: "only the token's expert's own invitations are listed" },
  HOST_PLATFORM_UNSEALED: { kind: 'refuse', means: 'HOST_PLATFORM, and only once the evaluation started (IN_EVALUATION)' },
  DEPARTMENT_REGION_UNSEALED: { kind: 'refuse', means: 'DEPARTMENT_REGION, and only once the evaluation started (IN_EVALUATION)' },
} as const;
export type Scope = keyof typeof SCOPES;

export interface AccessRule {
  /** The roles that may use the field, each with its scope; a role not listed is refused before the resolver runs. */
  roles: Partial<Record<Role, Scope>>;
  /** The function that checks the scopes that need domain data (file and name), when some scope is not ANY. */
  enforcedBy?: string;
  /** Sealed fields answer SEALED (null with an error), not FORBIDDEN: the field exists, its value is withheld. */
  refusal?: 'FORBIDDEN' | 'SEALED';
  /**
   * The tables a refusal writes on purpose (an audit of attempts, e.g. at the evaluation area's door). The resolver
   * then refuses every role itself, after recording the attempt, so the wrapper lets the call through.
   */
  refusalsAudited?: readonly string[];
}

const EVERYONE: AccessRule = { roles: Object.fromEntries(ROLES.map((role) => [role, 'ANY'])) as Record<Role, Scope> };
const PROJECT_READERS: AccessRule['roles'] = {
  PROVINCIAL_ADMIN: 'ANY',
  PLATFORM_OPERATOR: 'HOST_PLATFORM',
  PARTNER_SYSTEM: 'HOST_PLATFORM',
  SUPERVISOR: 'DEPARTMENT_REGION',
  AGENCY: 'OWN_ORGANISATION',
};
const DRAW_OVERSEERS: AccessRule['roles'] = { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'HOST_PLATFORM', SUPERVISOR: 'DEPARTMENT_REGION' };
const HOST_OPERATOR: AccessRule['roles'] = { PLATFORM_OPERATOR: 'HOST_PLATFORM' };
const ADMIN_ONLY: AccessRule['roles'] = { PROVINCIAL_ADMIN: 'ANY' };

/**
 * Every Query and Mutation field of the supergraph, and every field whose value is not for every reader.
 * A field of Query or Mutation missing here is refused to everybody (and test/authorization-matrix.test.ts fails).
 */
export const AUTHORIZATION_MATRIX: Readonly<Record<string, AccessRule>> = {
  // venues: reference data is for every authenticated caller; schedules and decisions are the rooms' platforms'.
  'Query.platform': EVERYONE,
  'Query.platforms': EVERYONE,
  // Agencies and experts have no business knowing when and where other projects are evaluated.
  'Query.schedule': { roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ANY', SUPERVISOR: 'ANY', PARTNER_SYSTEM: 'OWN_PLATFORM_LIST' }, enforcedBy: 'subgraphs/venues/resolvers.ts Query.schedule (visibleTo)' },
  'Query.webhookDeliveries': { roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM', PARTNER_SYSTEM: 'OWN_PLATFORM' }, enforcedBy: 'subgraphs/venues/resolvers.ts Query.webhookDeliveries' },
  'Mutation.confirmBooking': { roles: { PLATFORM_OPERATOR: 'ROOM_PLATFORM', PARTNER_SYSTEM: 'ROOM_PLATFORM' }, enforcedBy: 'subgraphs/venues/service.ts VenuesService.requireDecider' },
  'Mutation.rejectBooking': { roles: { PLATFORM_OPERATOR: 'ROOM_PLATFORM', PARTNER_SYSTEM: 'ROOM_PLATFORM' }, enforcedBy: 'subgraphs/venues/service.ts VenuesService.requireDecider' },

  // experts: the pool is the province's; draws are overseen by the host, its supervisors and the province.
  'Query.experts': { roles: ADMIN_ONLY },
  'Query.expertDraw': { roles: DRAW_OVERSEERS, enforcedBy: 'subgraphs/experts/sealing.ts mayVerifyDraw' },
  'Query.verifyExpertDraw': { roles: DRAW_OVERSEERS, enforcedBy: 'subgraphs/experts/sealing.ts mayVerifyDraw' },
  'Query.myInvitations': { roles: { EXPERT: 'OWN_EXPERT_LIST' }, enforcedBy: 'subgraphs/experts/service.ts ExpertsService.invitationsOfExpert (token expert id)' },
  'Query.sealedAccessAudit': { roles: { PROVINCIAL_ADMIN: 'ANY', SUPERVISOR: 'DEPARTMENT_REGION' }, enforcedBy: 'subgraphs/experts/sealing.ts mayReadAccessAudit' },
  'Mutation.respondToInvitation': { roles: { EXPERT: 'OWN_EXPERT' }, enforcedBy: 'subgraphs/experts/service.ts ExpertsService.respondToInvitation' },
  'Query.accessAttempts': { roles: { PROVINCIAL_ADMIN: 'ANY', SUPERVISOR: 'DEPARTMENT_REGION' }, enforcedBy: 'subgraphs/experts/sealing.ts mayReadAccessAudit' },
  // Every attempt to enter the evaluation area is recorded, refused ones too (supervisors read them in accessAttempts).
  'Mutation.checkIn': {
    roles: { EXPERT: 'OWN_EXPERT' },
    enforcedBy: 'subgraphs/experts/check-in.ts refusalOf',
    refusalsAudited: ['experts.access_attempt', 'experts.outbox', 'projects.project_event', 'projects.outbox'],
  },

  // projects: readers of a project by role; each workflow step by the role DOMAIN.md gives it.
  'Query.project': { roles: PROJECT_READERS, enforcedBy: 'subgraphs/projects/service.ts ProjectsService.canRead' },
  'Query.projects': {
    roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'HOST_PLATFORM_LIST', PARTNER_SYSTEM: 'HOST_PLATFORM_LIST', SUPERVISOR: 'DEPARTMENT_REGION_LIST', AGENCY: 'OWN_ORGANISATION_LIST' },
    enforcedBy: 'subgraphs/projects/service.ts ProjectsService.listProjects',
  },
  'Query.verifyProjectArchive': { roles: PROJECT_READERS, enforcedBy: 'subgraphs/projects/steps/archive.ts verifyProjectArchive (canRead)' },
  'Query.archiveBundle': { roles: PROJECT_READERS, enforcedBy: 'subgraphs/projects/steps/archive.ts archiveBundle (canRead; committee only where mayReadSeatExpert)' },
  'Query.archiveReleasePackage': { roles: PROJECT_READERS, enforcedBy: 'subgraphs/projects/steps/archive.ts archiveBundle (canRead, without sealed parts)' },
  'Query.platformBalances': { roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'OWN_PLATFORM' }, enforcedBy: 'subgraphs/projects/resolvers.ts Query.platformBalances' },
  'Query.reconciliationReport': { roles: ADMIN_ONLY },
  'Query.latestReconciliationReport': { roles: ADMIN_ONLY },
  'Query.projectsEvaluatedBetween': { roles: ADMIN_ONLY },
  'Mutation.runReconciliation': { roles: ADMIN_ONLY },
  'Mutation.submitProject': { roles: { AGENCY: 'OWN_ORGANISATION', PLATFORM_OPERATOR: 'OWN_PLATFORM' }, enforcedBy: 'subgraphs/projects/service.ts ProjectsService.submitProject' },
  'Mutation.fileProject': { roles: { SUPERVISOR: 'DEPARTMENT_REGION' }, enforcedBy: 'subgraphs/projects/service.ts ProjectsService.fileProject' },
  'Mutation.arrangeVenues': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps/arrange-venues.ts arrangeVenues' },
  'Mutation.advanceEvaluationFee': { roles: { AGENCY: 'OWN_ORGANISATION', PLATFORM_OPERATOR: 'HOST_PLATFORM' }, enforcedBy: 'subgraphs/projects/steps/fee-advance.ts' },
  'Mutation.drawExperts': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps/draw-experts.ts drawExperts' },
  'Mutation.startEvaluation': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps startEvaluation' },
  'Mutation.replaceCommitteeMember': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps replaceCommitteeMember' },
  'Mutation.completeEvaluation': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps completeEvaluation' },
  'Mutation.archiveProject': { roles: HOST_OPERATOR, enforcedBy: 'subgraphs/projects/steps/archive.ts archiveProject' },
  'Mutation.cancelProject': { roles: { PLATFORM_OPERATOR: 'HOST_PLATFORM', PROVINCIAL_ADMIN: 'ANY' }, enforcedBy: 'subgraphs/projects/steps/cancel-project.ts cancelProject' },

  // Sealed fields (DOMAIN.md, Sealing): who sits on a committee.
  'CommitteeSeat.expert': {
    roles: { EXPERT: 'OWN_EXPERT', PLATFORM_OPERATOR: 'HOST_PLATFORM_UNSEALED', SUPERVISOR: 'DEPARTMENT_REGION_UNSEALED' },
    enforcedBy: 'subgraphs/experts/sealing.ts mayReadSeatExpert',
    refusal: 'SEALED',
  },
  'Expert.name': {
    roles: { PROVINCIAL_ADMIN: 'ANY', EXPERT: 'OWN_EXPERT', PLATFORM_OPERATOR: 'HOST_PLATFORM_UNSEALED', SUPERVISOR: 'DEPARTMENT_REGION_UNSEALED' },
    enforcedBy: 'subgraphs/experts/sealing.ts mayReadExpertIdentity',
    refusal: 'SEALED',
  },
  'Expert.employer': {
    roles: { PROVINCIAL_ADMIN: 'ANY', EXPERT: 'OWN_EXPERT', PLATFORM_OPERATOR: 'HOST_PLATFORM_UNSEALED', SUPERVISOR: 'DEPARTMENT_REGION_UNSEALED' },
    enforcedBy: 'subgraphs/experts/sealing.ts mayReadExpertIdentity',
    refusal: 'SEALED',
  },
};

/** The root types whose every field must have a row: an operation without one is refused to everybody. */
const OPERATION_TYPES = ['Query', 'Mutation'] as const;

function refusalFor(coordinate: string, rule: AccessRule | undefined, identity: Identity) {
  if (!rule) return forbidden(`${coordinate} has no row in the authorization matrix (lib/authorization.ts), so nobody may use it yet`);
  const allowed = Object.keys(rule.roles).join(' or ');
  if (rule.refusal === 'SEALED') {
    return hubError('SEALED', `${coordinate} is sealed: it is visible only to those DOMAIN.md allows, and only from the moment it allows`);
  }
  return forbidden(`only ${allowed} may use ${coordinate}; your token's role is ${identity.role}`);
}

/** Whether the matrix lets this role use the field at all (scopes are checked by the row's `enforcedBy`). */
export function roleMayUse(coordinate: string, role: Role): boolean {
  return AUTHORIZATION_MATRIX[coordinate]?.roles[role] !== undefined;
}

type Resolver = (root: unknown, args: unknown, context: { identity: Identity }, info: unknown) => unknown;

function guard(coordinate: string, resolve: Resolver): Resolver {
  const rule = AUTHORIZATION_MATRIX[coordinate];
  return (root, args, context, info) => {
    if (!rule || (rule.roles[context.identity.role] === undefined && !rule.refusalsAudited)) throw refusalFor(coordinate, rule, context.identity);
    return resolve(root, args, context, info);
  };
}

/**
 * Wraps a subgraph's resolvers with the matrix: every Query and Mutation resolver, and every resolver of a field that
 * has a row, refuses a role the row does not list before it runs (FORBIDDEN, or SEALED for sealed fields).
 *
 * ```ts
 * buildSubgraphSchema([{ typeDefs, resolvers: enforceAuthorization(resolvers) }]);
 * ```
 */
export function enforceAuthorization<C extends { identity: Identity }>(resolvers: GraphQLResolverMap<C>): GraphQLResolverMap<C> {
  const wrapped: Record<string, unknown> = {};
  for (const [typeName, fields] of Object.entries(resolvers)) {
    // Scalars (GraphQLScalarType instances) and enums pass as they are; only plain field maps are wrapped.
    if (typeof fields !== 'object' || fields === null || Object.getPrototypeOf(fields) !== Object.prototype) {
      wrapped[typeName] = fields;
      continue;
    }
    const guarded: Record<string, unknown> = {};
    for (const [fieldName, resolver] of Object.entries(fields as Record<string, unknown>)) {
      const coordinate = `${typeName}.${fieldName}`;
      const mustGuard = (OPERATION_TYPES as readonly string[]).includes(typeName) || coordinate in AUTHORIZATION_MATRIX;
      if (mustGuard && !fieldName.startsWith('__') && typeof resolver === 'function') {
        guarded[fieldName] = guard(coordinate, resolver as Resolver);
      } else {
        guarded[fieldName] = resolver;
      }
    }
    wrapped[typeName] = guarded;
  }
  return wrapped as GraphQLResolverMap<C>;
}
