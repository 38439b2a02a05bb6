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
import {
  SCOPES,
  type AccessFacts,
  type AccessFactsOf,
  type AccessRule,
  type FactsOf,
  type Scope,
} from './access-rules';
import { OPERATION_RIGHTS } from './authorization-matrix/operations';
import { TYPE_RIGHTS } from './authorization-matrix/types';
import { forbidden, hubError } from './errors';
import type { Identity, Role } from './identity';

export {
  SCOPES,
  type AccessFacts,
  type AccessFactsOf,
  type AccessRule,
  type ProjectAccess,
  type Scope,
} from './access-rules';

/**
 * Every field of every object type of the supergraph, and `__resolveReference` of every entity.
 * A field missing here is refused to everybody (and test/schema-authorization.test.ts fails).
 */
export const AUTHORIZATION_MATRIX: Readonly<Record<string, AccessRule>> = { ...OPERATION_RIGHTS, ...TYPE_RIGHTS };

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
