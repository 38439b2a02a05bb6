// The vocabulary of the authorization matrix: scopes, the rule of a field, the access facts an object carries, and the
// rules several rows share. The matrix itself is lib/authorization-matrix/; lib/authorization.ts enforces it.
import { ROLES, type Role } from './identity';

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
export type FactsOf<C> = (object: never, context: C) => AccessFacts | Promise<AccessFacts>;

export const EVERYONE: AccessRule = {
  roles: Object.fromEntries(ROLES.map((role) => [role, 'ANY'])) as Record<Role, Scope>,
};
export const THROUGH_PARENT: AccessRule = { ...EVERYONE, throughParent: true };
export const PROJECT_READERS: AccessRule['roles'] = {
  PROVINCIAL_ADMIN: 'ANY',
  PLATFORM_OPERATOR: 'HOST_PLATFORM',
  PARTNER_SYSTEM: 'HOST_PLATFORM',
  SUPERVISOR: 'DEPARTMENT_REGION',
  AGENCY: 'OWN_ORGANISATION',
};
export const DRAW_OVERSEERS: AccessRule['roles'] = {
  PROVINCIAL_ADMIN: 'ANY',
  PLATFORM_OPERATOR: 'HOST_PLATFORM',
  SUPERVISOR: 'DEPARTMENT_REGION',
};
export const HOST_OPERATOR: AccessRule['roles'] = { PLATFORM_OPERATOR: 'HOST_PLATFORM' };
export const ADMIN_ONLY: AccessRule['roles'] = { PROVINCIAL_ADMIN: 'ANY' };

/** A project's readers (`project(id)`), and through a booking of its own rooms, a partner platform's operator or system. */
export const PROJECT_OUTLINE: AccessRule = {
  roles: {
    ...PROJECT_READERS,
    PLATFORM_OPERATOR: ['HOST_PLATFORM', 'ROOM_PLATFORM'],
    PARTNER_SYSTEM: ['HOST_PLATFORM', 'ROOM_PLATFORM'],
  },
};
export const PROJECT: AccessRule = { roles: PROJECT_READERS };
/**
 * A booking is part of the schedule: those who read schedules (`schedule`), a partner system for its rooms and the
 * projects its platform hosts, and the project's agency. An expert sees only the booking of its own seat (its room).
 */
export const BOOKING: AccessRule = {
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
export const ROOM_BLOCK: AccessRule = {
  roles: { PROVINCIAL_ADMIN: 'ANY', PLATFORM_OPERATOR: 'ANY', SUPERVISOR: 'ANY', PARTNER_SYSTEM: 'ROOM_PLATFORM' },
};
/** A seat (and its draw): its project's readers see counts and statuses, the expert sees its own invitations. */
export const SEAT: AccessRule = { roles: { ...PROJECT_READERS, EXPERT: 'OWN_EXPERT' } };
/** An expert of the pool: its administrators, the expert itself, and through a seat those the seal lets see it. */
export const EXPERT_IDENTITY: AccessRule = {
  roles: {
    PROVINCIAL_ADMIN: 'ANY',
    EXPERT: 'OWN_EXPERT',
    PLATFORM_OPERATOR: 'HOST_PLATFORM_UNSEALED',
    SUPERVISOR: 'DEPARTMENT_REGION_UNSEALED',
  },
  refusal: 'SEALED',
};

/** One row per field of a type, all under the same rule. */
export function fields(typeName: string, names: readonly string[], rule: AccessRule): Record<string, AccessRule> {
  return Object.fromEntries(names.map((name) => [`${typeName}.${name}`, rule]));
}
