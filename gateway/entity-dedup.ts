// Entity fetches without repeats. The query planner sends a subgraph one representation per object it reached, so a
// board of 283 bookings asks the projects subgraph for a project once per booking of it, and the experts subgraph for
// its draw as often. The gateway sends each distinct representation once and gives every object its answer back, as if
// each had been asked: entities, and errors with their `_entities` index, one per object.
import type { GraphQLFormattedError } from 'graphql';

/** The distinct representations of an entity fetch, and for each original one the index of its distinct twin. */
export interface DistinctRepresentations {
  distinct: unknown[];
  /** `twinOf[i]` is the index in `distinct` that representation `i` is answered by. */
  twinOf: number[];
}

/** A representation's identity: its type and id when that is all it holds (the usual key), its JSON otherwise. */
function keyOf(representation: unknown): string {
  const fields = representation as Record<string, unknown> | null;
  if (fields && typeof fields.__typename === 'string' && typeof fields.id === 'string') {
    let count = 0;
    for (const name in fields) if (Object.hasOwn(fields, name)) count++;
    if (count === 2) return `${fields.__typename}\u0000${fields.id}`;
  }
  return `\u0001${JSON.stringify(representation)}`;
}

/**
 * The representations with repeats left out, or null when there are none (then the fetch goes as it is). Two
 * representations are the same when their JSON is: the planner builds every one of a fetch from the same selection, so
 * their keys come in one order (two orders would only go unmerged, never wrongly merged).
 *
 * ```ts
 * distinctRepresentations([{ __typename: 'Project', id: 'p1' }, { __typename: 'Project', id: 'p1' }]);
 * // { distinct: [{ __typename: 'Project', id: 'p1' }], twinOf: [0, 0] }
 * ```
 */
export function distinctRepresentations(representations: readonly unknown[]): DistinctRepresentations | null {
  const indexOf = new Map<string, number>();
  const distinct: unknown[] = [];
  const twinOf: number[] = new Array(representations.length);
  for (let i = 0; i < representations.length; i++) {
    const key = keyOf(representations[i]);
    let index = indexOf.get(key);
    if (index === undefined) {
      index = distinct.length;
      indexOf.set(key, index);
      distinct.push(representations[i]);
    }
    twinOf[i] = index;
  }
  return distinct.length === representations.length ? null : { distinct, twinOf };
}

/** A copy of an entity's answer (plain JSON), so that no two objects of the gateway's result share one. */
function copyOf(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyOf);
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) copy[key] = copyOf(child);
  return copy;
}

/**
 * The subgraph's answer to the distinct representations, spread back over the original ones: `_entities[i]` is the
 * answer of `twinOf[i]` (a copy for every repeat), and an error at `['_entities', j, …]` is repeated at the index of
 * every representation that `j` answered. Anything else in the answer is kept as it is.
 */
export function spreadEntities<R extends { data?: unknown; errors?: readonly GraphQLFormattedError[] }>(
  response: R,
  twinOf: readonly number[],
): R {
  const data = response.data as { _entities?: unknown } | null | undefined;
  const entities = data && Array.isArray(data._entities) ? (data._entities as unknown[]) : null;
  const seen = new Uint8Array(entities ? entities.length : 0);
  const spread = entities
    ? twinOf.map((twin) => {
        if (seen[twin]) return copyOf(entities[twin]);
        seen[twin] = 1;
        return entities[twin];
      })
    : null;
  let errors = response.errors;
  if (errors?.some((error) => error.path?.[0] === '_entities' && typeof error.path[1] === 'number')) {
    const asked = new Map<number, number[]>();
    twinOf.forEach((twin, index) => {
      const list = asked.get(twin);
      if (list) list.push(index);
      else asked.set(twin, [index]);
    });
    errors = errors.flatMap((error) => {
      const path = error.path;
      if (path?.[0] !== '_entities' || typeof path[1] !== 'number') return [error];
      const indexes = asked.get(path[1]) ?? [];
      return indexes.map((index) => ({ ...error, path: ['_entities', index, ...path.slice(2)] }));
    });
  }
  return {
    ...response,
    ...(spread ? { data: { ...(data as object), _entities: spread } } : {}),
    ...(errors !== response.errors ? { errors } : {}),
  };
}
