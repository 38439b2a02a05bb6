// The reference cache: rooms, venues and platforms kept per entity at the gateway, so that a query the response cache
// cannot answer asks the venues subgraph only for what changes (bookings), and the names around them come from memory.
//
// How a fetch to the venues subgraph goes when the cache is on:
// 1. Its operation is narrowed once per operation text: a field that returns a room, venue or platform and selects
//    only their kept fields (REFERENCE_FIELDS) asks for `{ id }` instead.
// 2. The narrowed operation is sent; the ids it answers are looked up here.
// 3. Each entry found is checked against the tag versions on Redis (one MGET for all): an entry holds while none of its
//    tags (`all`, `T:<id>`, `T:?`, `type:T`, gateway/cache-tags.ts) is stamped after the clock it was read at. Missing
//    or ended entries are fetched in one `_entities` call, read after the clock, and kept.
// 4. Each `{ id }` becomes the object the original operation selected, aliases and `__typename` included.
// Anything unexpected (Redis away, a fill with errors, an id missing) sends the original operation instead, and so does
// a request with `Cache-Control: no-cache`. Reference data is for every authenticated caller (lib/authorization-matrix),
// so entries are shared by callers; which rooms a caller reaches is still decided by the subgraph, per request.
import {
  getNamedType,
  isObjectType,
  Kind,
  parse,
  print,
  type DocumentNode,
  type FieldNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { ALL_TAG } from '../lib/cache-tags';
import type { ChangeFeed } from '../lib/change-feed';
import type { HubMetrics } from '../lib/metrics';

/**
 * What is kept of each reference type: fields stored with the object (a subset of gateway/cache-tags.ts STORED_FIELDS,
 * so a write that changes one stamps the object's tag), readable by every caller, without arguments; and the object
 * fields that lead to another kept type (kept as that object's id).
 */
export const REFERENCE_FIELDS: Readonly<
  Record<string, { scalars: readonly string[]; refs: Readonly<Record<string, string>> }>
> = {
  EvaluationRoom: { scalars: ['id', 'name', 'seats', 'videoTerminal'], refs: { venue: 'Venue' } },
  Venue: { scalars: ['id', 'name'], refs: { platform: 'Platform' } },
  Platform: { scalars: ['id', 'name', 'nameEn', 'level'], refs: {} },
};

/** How long an entry is kept at most: the reference types' cache hint (60 s), for writes made outside the hub. */
const ENTRY_TTL_MS = 60_000;
/** Operations narrowed (or found not narrowable), by text: the query planner's fetches are few and repeat. */
const MAX_PLANS = 2_000;

/** The part of an original selection a narrowed field answered: rebuilt from the kept entries. */
interface Shape {
  type: string;
  fields: ({ key: string; kind: 'typename' } | { key: string; kind: 'scalar'; name: string } | ShapeRef)[];
}
interface ShapeRef {
  key: string;
  kind: 'ref';
  name: string;
  shape: Shape;
}

/** Where a narrowed operation's answer holds ids to fill in. */
type Step =
  | { kind: 'field'; key: string; steps: Step[] }
  | { kind: 'reference'; key: string; shape: Shape }
  | { kind: 'entities'; key: string; byType: Map<string, Step[]> };

interface Plan {
  query: string;
  steps: Step[];
}

interface Entry {
  /** The kept scalars, and each ref's id under the ref's field name. */
  values: Readonly<Record<string, unknown>>;
  /** The hub's clock read before the entry's fetch. */
  since: number;
}

type FetchResponse = { data?: Record<string, unknown> | null; errors?: readonly unknown[] };
/** Sends an operation to the venues subgraph as the current request's caller. */
type SendOperation = (query: string, variables: Record<string, unknown>) => Promise<FetchResponse>;

const ID_ONLY: SelectionSetNode = {
  kind: Kind.SELECTION_SET,
  selections: [{ kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'id' } }],
};

/** An entry's key, `T:<id>`, as its type and id (type names hold no colon; ids may). */
function typeAndId(key: string): { type: string; id: string } {
  const split = key.indexOf(':');
  return { type: key.slice(0, split), id: key.slice(split + 1) };
}

/** The tags that end an entry of `type` with `id`: the object's, its type's, and everything's. */
export function entryTags(type: string, id: string): string[] {
  return [ALL_TAG, `${type}:${id}`, `${type}:?`, `type:${type}`];
}

/** The selection of every kept field of `type`, its refs followed: what a fill asks for. */
function projection(type: string): string {
  const spec = REFERENCE_FIELDS[type];
  const refs = Object.entries(spec.refs).map(([name, target]) => `${name} { ${projection(target)} }`);
  return [...spec.scalars, ...refs].join(' ');
}

const FILL_OPERATION = 'HubReferenceFill';
const FILL_QUERY = `query ${FILL_OPERATION}($representations: [_Any!]!) { _entities(representations: $representations) { ${Object.keys(
  REFERENCE_FIELDS,
)
  .map((type) => `... on ${type} { ${projection(type)} }`)
  .join(' ')} } }`;

/** The response key of a field. */
const keyOf = (field: FieldNode) => field.alias?.value ?? field.name.value;

/**
 * The shape a selection on `type` asks for, if every part of it is kept here (fields without arguments or directives,
 * inline fragments on the type itself, no response key given twice to an object field); null otherwise.
 */
function shapeOf(type: string, selectionSet: SelectionSetNode, fields: Shape['fields'] = []): Shape | null {
  const spec = REFERENCE_FIELDS[type];
  if (!spec) return null;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selection.directives?.length) return null;
      if (selection.typeCondition && selection.typeCondition.name.value !== type) return null;
      if (!shapeOf(type, selection.selectionSet, fields)) return null;
      continue;
    }
    if (selection.kind !== Kind.FIELD || selection.directives?.length || selection.arguments?.length) return null;
    const key = keyOf(selection);
    const name = selection.name.value;
    const before = fields.find((field) => field.key === key);
    if (name === '__typename' && !selection.selectionSet) {
      if (before && before.kind !== 'typename') return null;
      if (!before) fields.push({ key, kind: 'typename' });
    } else if (spec.scalars.includes(name) && !selection.selectionSet) {
      if (before && !(before.kind === 'scalar' && before.name === name)) return null;
      if (!before) fields.push({ key, kind: 'scalar', name });
    } else if (spec.refs[name] && selection.selectionSet) {
      if (before) return null;
      const shape = shapeOf(spec.refs[name], selection.selectionSet);
      if (!shape) return null;
      fields.push({ key, kind: 'ref', name, shape });
    } else return null;
  }
  return { type, fields };
}

/** Response keys given more than once in a selection set (its inline fragments included): those are never narrowed. */
function repeatedKeys(selectionSet: SelectionSetNode, counts = new Map<string, number>()): Map<string, number> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) counts.set(keyOf(selection), (counts.get(keyOf(selection)) ?? 0) + 1);
    else if (selection.kind === Kind.INLINE_FRAGMENT) repeatedKeys(selection.selectionSet, counts);
  }
  return counts;
}

/** The selection set with its reference fields narrowed to `{ id }`, and where their ids will be; null: none narrowed. */
function narrowSet(
  schema: GraphQLSchema,
  selectionSet: SelectionSetNode,
  parent: GraphQLObjectType,
  counts = repeatedKeys(selectionSet),
): { set: SelectionSetNode; steps: Step[] } | null {
  const steps: Step[] = [];
  let changed = false;
  const selections = selectionSet.selections.map((selection): SelectionNode => {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      // A fragment on the object's own type selects into the same object; any other is left as it is.
      if (selection.directives?.length) return selection;
      if (selection.typeCondition && selection.typeCondition.name.value !== parent.name) return selection;
      const inner = narrowSet(schema, selection.selectionSet, parent, counts);
      if (!inner) return selection;
      changed = true;
      steps.push(...inner.steps);
      return { ...selection, selectionSet: inner.set };
    }
    if (selection.kind !== Kind.FIELD || !selection.selectionSet || selection.directives?.length) return selection;
    const key = keyOf(selection);
    if ((counts.get(key) ?? 0) > 1) return selection;
    const field = parent.getFields()[selection.name.value];
    const named = field ? getNamedType(field.type) : undefined;
    if (!named || !isObjectType(named)) return selection;
    const shape = REFERENCE_FIELDS[named.name] ? shapeOf(named.name, selection.selectionSet) : null;
    if (shape) {
      changed = true;
      steps.push({ kind: 'reference', key, shape });
      return { ...selection, selectionSet: ID_ONLY };
    }
    const inner = narrowSet(schema, selection.selectionSet, named);
    if (!inner) return selection;
    changed = true;
    steps.push({ kind: 'field', key, steps: inner.steps });
    return { ...selection, selectionSet: inner.set };
  });
  return changed ? { set: { ...selectionSet, selections }, steps } : null;
}

/**
 * The narrowed form of a fetch's operation, or null when nothing in it is kept here (or it is not a single query).
 * `_entities` fetches are narrowed inside their `... on T` fragments, by the type each representation names.
 */
export function narrowOperation(schema: GraphQLSchema, query: string): Plan | null {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return null;
  }
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const root = schema.getQueryType();
  if (operations.length !== 1 || operations[0].operation !== 'query' || !root) return null;
  const operation = operations[0];
  if (document.definitions.some((definition) => definition.kind === Kind.FRAGMENT_DEFINITION)) return null;
  let narrowed: { set: SelectionSetNode; steps: Step[] } | null;
  const entities = operation.selectionSet.selections.find(
    (selection): selection is FieldNode => selection.kind === Kind.FIELD && selection.name.value === '_entities',
  );
  if (entities) {
    if (operation.selectionSet.selections.length !== 1 || !entities.selectionSet) return null;
    const byType = new Map<string, Step[]>();
    const selections = entities.selectionSet.selections.map((selection) => {
      if (selection.kind !== Kind.INLINE_FRAGMENT || !selection.typeCondition || selection.directives?.length)
        return selection;
      const type = schema.getType(selection.typeCondition.name.value);
      if (!type || !isObjectType(type)) return selection;
      const inner = narrowSet(schema, selection.selectionSet, type);
      if (!inner) return selection;
      byType.set(type.name, [...(byType.get(type.name) ?? []), ...inner.steps]);
      return { ...selection, selectionSet: inner.set };
    });
    narrowed = byType.size
      ? {
          set: {
            ...operation.selectionSet,
            selections: [{ ...entities, selectionSet: { ...entities.selectionSet, selections } }],
          },
          steps: [{ kind: 'entities', key: keyOf(entities), byType }],
        }
      : null;
  } else narrowed = narrowSet(schema, operation.selectionSet, root);
  if (!narrowed) return null;
  const narrowedDocument: DocumentNode = {
    ...document,
    definitions: [{ ...operation, selectionSet: narrowed.set }],
  };
  return { query: print(narrowedDocument), steps: narrowed.steps };
}

/** A place in an answer holding an `{ id }` to replace with a kept object. */
interface Spot {
  holder: Record<string, unknown> | unknown[];
  at: string | number;
  id: string;
  shape: Shape;
}

class NotFillable extends Error {}

/** Each object (or object in nested lists) of a value: how a step visits what a field answered. */
function eachObject(value: unknown, visit: (object: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) for (const item of value) eachObject(item, visit);
  else if (value !== null && typeof value === 'object') visit(value as Record<string, unknown>);
}

function collectSpots(
  steps: readonly Step[],
  object: Record<string, unknown>,
  representations: readonly unknown[],
  spots: Spot[],
): void {
  for (const step of steps) {
    const value = object[step.key];
    if (step.kind === 'field') eachObject(value, (child) => collectSpots(step.steps, child, representations, spots));
    else if (step.kind === 'entities') {
      if (!Array.isArray(value)) continue;
      value.forEach((entity, index) => {
        const type = (representations[index] as { __typename?: unknown } | undefined)?.__typename;
        const inner = typeof type === 'string' ? step.byType.get(type) : undefined;
        if (inner && entity !== null && typeof entity === 'object')
          collectSpots(inner, entity as Record<string, unknown>, representations, spots);
      });
    } else {
      const spot = (holder: Record<string, unknown> | unknown[], at: string | number, item: unknown): void => {
        if (item === null || item === undefined) return;
        if (Array.isArray(item)) {
          item.forEach((inner, index) => spot(item, index, inner));
          return;
        }
        const id = (item as { id?: unknown }).id;
        if (typeof id !== 'string') throw new NotFillable('an answer without the id it was asked for');
        spots.push({ holder, at, id, shape: step.shape });
      };
      spot(object, step.key, value);
    }
  }
}

export interface ReferenceCache {
  /**
   * Runs a fetch to the venues subgraph: narrowed and filled from the kept entries when it can be, otherwise as it
   * is. `send` sends an operation as the request's caller; `fresh` (the client asked for no-cache) skips the cache.
   */
  fetch<R extends FetchResponse>(
    query: string,
    variables: Record<string, unknown> | undefined,
    send: (query: string, variables: Record<string, unknown> | undefined, operationName?: string) => Promise<R>,
    fresh: boolean,
  ): Promise<R>;
  /** The API schema, once the gateway has it: fetches are narrowed only after. */
  useSchema(schema: GraphQLSchema): void;
}

/**
 * A reference cache of at most `maxEntries` rooms, venues and platforms, checked against the change feed's tag
 * versions on every use and emptied whenever the feed's subscription (re)starts.
 *
 * ```ts
 * const references = referenceCache(20_000, feed, metrics);
 * gateway.onSchemaLoadOrUpdate(({ apiSchema }) => references.useSchema(apiSchema));
 * ```
 */
export function referenceCache(maxEntries: number, feed: ChangeFeed, metrics: HubMetrics): ReferenceCache {
  const entries = new LRUCache<string, Entry>({ max: Math.max(1, maxEntries), ttl: ENTRY_TTL_MS });
  const plans = new LRUCache<string, Plan | { none: true }>({ max: MAX_PLANS });
  let schema: GraphQLSchema | null = null;
  let epoch = 0;
  feed.onChange((reason) => {
    if (reason !== 'subscribed') return;
    epoch++;
    entries.clear();
  });

  const planOf = (query: string): Plan | null => {
    if (!schema) return null;
    let plan = plans.get(query);
    if (!plan) {
      plan = narrowOperation(schema, query) ?? { none: true };
      plans.set(query, plan);
    }
    return 'none' in plan ? null : plan;
  };

  /** Keeps every object of a fill's answer, its refs followed, under `since`; returns them by `T:id`. */
  const keep = (type: string, object: Record<string, unknown>, since: number, into: Map<string, Entry>) => {
    const spec = REFERENCE_FIELDS[type];
    const values: Record<string, unknown> = {};
    for (const name of spec.scalars) {
      if (!(name in object)) throw new NotFillable(`a fill without ${type}.${name}`);
      values[name] = object[name];
    }
    for (const [name, target] of Object.entries(spec.refs)) {
      const ref = object[name] as Record<string, unknown> | null | undefined;
      if (ref === undefined) throw new NotFillable(`a fill without ${type}.${name}`);
      values[name] = ref === null ? null : keep(target, ref, since, into);
    }
    const id = values.id;
    if (typeof id !== 'string') throw new NotFillable(`a fill without ${type}.id`);
    into.set(`${type}:${id}`, { values, since });
    return id;
  };

  /** The entries of every key and of the objects their refs lead to, fresh ones only; fills what is missing or ended. */
  const resolve = async (
    keys: Set<string>,
    send: SendOperation,
  ): Promise<{ found: Map<string, Entry>; filled: boolean }> => {
    const found = new Map<string, Entry>();
    const missing = new Set<string>();
    const visit = (key: string) => {
      if (found.has(key) || missing.has(key)) return;
      const entry = entries.get(key);
      if (!entry) {
        missing.add(key);
        return;
      }
      found.set(key, entry);
      for (const [name, target] of Object.entries(REFERENCE_FIELDS[typeAndId(key).type].refs)) {
        const ref = entry.values[name];
        if (typeof ref === 'string') visit(`${target}:${ref}`);
      }
    };
    keys.forEach(visit);
    const startedIn = epoch;
    if (found.size) {
      const tagsOf = new Map<string, string[]>();
      const tags = new Set<string>();
      for (const key of found.keys()) {
        const { type, id } = typeAndId(key);
        const own = entryTags(type, id);
        tagsOf.set(key, own);
        own.forEach((tag) => tags.add(tag));
      }
      const list = [...tags];
      const stamps = await feed.versions.stamps(list);
      // A Redis that restarted meanwhile has forgotten the stamps these entries are checked against.
      if (startedIn !== epoch || !feed.listening) throw new NotFillable('the change feed restarted');
      const stampOf = new Map(list.map((tag, index) => [tag, stamps[index]]));
      for (const [key, entry] of found) {
        if (tagsOf.get(key)!.every((tag) => (stampOf.get(tag) ?? 0) <= entry.since)) continue;
        found.delete(key);
        entries.delete(key);
        missing.add(key);
      }
    }
    if (missing.size === 0) return { found, filled: false };
    const since = await feed.versions.clock();
    const representations = [...missing].map((key) => {
      const { type, id } = typeAndId(key);
      return { __typename: type, id };
    });
    const answer = await send(FILL_QUERY, { representations });
    const filled = answer.data?._entities;
    if (answer.errors?.length || !Array.isArray(filled) || filled.length !== representations.length)
      throw new NotFillable('the fill was refused');
    const fresh = new Map<string, Entry>();
    filled.forEach((object, index) => {
      if (object === null || typeof object !== 'object') throw new NotFillable('a fill without its object');
      keep(representations[index].__typename, object as Record<string, unknown>, since, fresh);
    });
    for (const [key, entry] of fresh) {
      found.set(key, entry);
      if (startedIn === epoch) entries.set(key, entry);
    }
    // A fill's objects come with the objects they lead to (FILL_QUERY follows every ref), so nothing is left to find.
    return { found, filled: true };
  };

  const build = (shape: Shape, id: string, found: Map<string, Entry>): Record<string, unknown> => {
    const entry = found.get(`${shape.type}:${id}`);
    if (!entry) throw new NotFillable(`${shape.type} ${id} was not filled`);
    const object: Record<string, unknown> = {};
    for (const field of shape.fields) {
      if (field.kind === 'typename') object[field.key] = shape.type;
      else if (field.kind === 'scalar') object[field.key] = entry.values[field.name];
      else {
        const ref = entry.values[field.name];
        object[field.key] = typeof ref === 'string' ? build(field.shape, ref, found) : null;
      }
    }
    return object;
  };

  return {
    async fetch(query, variables, send, fresh) {
      const plan = fresh || !feed.listening ? null : planOf(query);
      if (!plan) return send(query, variables);
      const answer = await send(plan.query, variables);
      try {
        const spots: Spot[] = [];
        if (answer.data) {
          const representations = Array.isArray(variables?.representations) ? variables.representations : [];
          collectSpots(plan.steps, answer.data, representations, spots);
        }
        if (spots.length === 0) {
          metrics.referenceCache.inc({ outcome: 'hit' });
          return answer;
        }
        const keys = new Set(spots.map((spot) => `${spot.shape.type}:${spot.id}`));
        const sendAsCaller: SendOperation = (fill, fillVariables) => send(fill, fillVariables, FILL_OPERATION);
        const { found, filled } = await resolve(keys, sendAsCaller);
        for (const spot of spots) {
          const object = build(spot.shape, spot.id, found);
          if (Array.isArray(spot.holder)) spot.holder[spot.at as number] = object;
          else spot.holder[spot.at as string] = object;
        }
        metrics.referenceCache.inc({ outcome: filled ? 'fill' : 'hit' });
        return answer;
      } catch {
        // Redis away, a fill refused or incomplete: the operation as the query planner wrote it.
        metrics.referenceCache.inc({ outcome: 'fallback' });
        return send(query, variables);
      }
    },
    useSchema(next) {
      schema = next;
      plans.clear();
    },
  };
}
