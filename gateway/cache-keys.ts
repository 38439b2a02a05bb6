// Keys the response cache asks for: an answer is tagged by the ids of the objects it holds (gateway/cache-tags.ts),
// but a client that did not select an object's id leaves it tagged by its type, which every write of that type ends.
// For the types written all day (projects, draws), the cache adds `<KEY_ALIAS>: id` to each selection of them that
// lacks an id before the query is planned, and takes those fields (and any error about them) out of the answer before
// it is kept or sent. An entity's id has the rule of its reference (lib/authorization-matrix/types.ts), so asking for
// it refuses nothing the client's own fields were not refused already; test/cache-keys.test.ts checks that.
import {
  getNamedType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** The response key of the added ids; a document that uses it anywhere is left as it is. */
export const KEY_ALIAS = 'hubCacheKey';
/** Types whose objects are tagged by id even where the client did not select it. */
export const KEYED_FOR_CACHE: readonly string[] = ['Project', 'ExpertDraw'];

const keyField: FieldNode = {
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: KEY_ALIAS },
  name: { kind: Kind.NAME, value: 'id' },
};

export interface KeyedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

/** True when the selection set selects `id` (under any key), directly or through fragments. */
function selectsId(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): boolean {
  return selectionSet.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) return selection.name.value === 'id';
    if (selection.kind === Kind.INLINE_FRAGMENT) return selectsId(selection.selectionSet, fragments);
    const fragment = fragments.get(selection.name.value);
    return fragment ? selectsId(fragment.selectionSet, fragments) : false;
  });
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  /** How many ids were added. */
  added: number;
}

function withKeysIn(walk: Walk, type: GraphQLObjectType, selectionSet: SelectionSetNode): SelectionSetNode {
  const { schema, fragments } = walk;
  const selections = selectionSet.selections.map((selection) => {
    if (selection.kind === Kind.FRAGMENT_SPREAD) return selection;
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
      if (!isObjectType(condition)) return selection;
      return { ...selection, selectionSet: withKeysIn(walk, condition, selection.selectionSet) };
    }
    if (!selection.selectionSet) return selection;
    const field = type.getFields()[selection.name.value];
    const named = field && getNamedType(field.type);
    if (!named || !isObjectType(named)) return selection;
    let inner = withKeysIn(walk, named, selection.selectionSet);
    if (KEYED_FOR_CACHE.includes(named.name) && 'id' in named.getFields() && !selectsId(inner, fragments)) {
      inner = { ...inner, selections: [...inner.selections, keyField] };
      walk.added++;
    }
    return { ...selection, selectionSet: inner };
  });
  return { ...selectionSet, selections };
}

/**
 * The query with ids added where KEYED_FOR_CACHE objects lack them; null when nothing is added (or the document uses
 * KEY_ALIAS itself, or is not a query).
 *
 * ```ts
 * withCacheKeys(schema, parse('{ schedule(from: $f, to: $t) { project { code } } }'), 'Board');
 * // … project { code hubCacheKey: id } …
 * ```
 */
export function withCacheKeys(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  source: string | undefined,
): KeyedOperation | null {
  const root = schema.getQueryType();
  if (operation.operation !== 'query' || !root || source === undefined || source.includes(KEY_ALIAS)) return null;
  const walk: Walk = { schema, fragments: new Map(), added: 0 };
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) walk.fragments.set(definition.name.value, definition);
  const definitions = document.definitions.map((definition) => {
    if (definition === operation) return { ...operation, selectionSet: withKeysIn(walk, root, operation.selectionSet) };
    if (definition.kind !== Kind.FRAGMENT_DEFINITION) return definition;
    const type = schema.getType(definition.typeCondition.name.value);
    // Ids of the fragment's own type are added where it is spread (its parent field's selection set).
    return isObjectType(type)
      ? { ...definition, selectionSet: withKeysIn(walk, type, definition.selectionSet) }
      : definition;
  });
  if (walk.added === 0) return null;
  const keyedDocument: DocumentNode = { ...document, definitions };
  const keyedOperation = definitions[document.definitions.indexOf(operation)] as OperationDefinitionNode;
  return { document: keyedDocument, operation: keyedOperation };
}

/** Takes the added ids out of an answer's data, in place (before it is frozen, kept or sent). */
export function withoutCacheKeys(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) withoutCacheKeys(item);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  if (KEY_ALIAS in record) delete record[KEY_ALIAS];
  for (const child of Object.values(record)) withoutCacheKeys(child);
}

/** True for an error about an added id (its path ends in KEY_ALIAS): the client did not ask for that field. */
export function isCacheKeyError(error: { path?: readonly (string | number)[] }): boolean {
  return error.path?.[error.path.length - 1] === KEY_ALIAS;
}
