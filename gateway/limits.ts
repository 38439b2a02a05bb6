// Query limits at the gateway: depth, cost and aliases of the operation about to run, refused before any subgraph is called.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { HubConfig } from '../lib/config';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../lib/pagination';

export type LimitName = 'HUB_MAX_QUERY_DEPTH' | 'HUB_MAX_QUERY_COST' | 'HUB_MAX_ALIASES' | 'HUB_MAX_BATCH' | 'HUB_MAX_BODY_BYTES' | 'HUB_RATE_LIMIT';

/** A refusal that names the limit a request hit, so a client knows which knob (or which habit) to change. */
export function limitExceeded(limit: LimitName, message: string, max: number, actual?: number): GraphQLError {
  return new GraphQLError(`${message} (limit ${limit} = ${max})`, {
    extensions: { code: 'BAD_USER_INPUT', limit, max, ...(actual === undefined ? {} : { actual }), http: { status: 400 } },
  });
}

export interface OperationMeasure {
  depth: number;
  cost: number;
  aliases: number;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  listWeight: number;
}

/**
 * Measures an operation: its depth in fields, its cost (one per field; a field taking `first` multiplies its subtree
 * by that page size, default 20; any other list of objects by the list weight) and how many aliases it uses.
 * Introspection fields (`__schema`, `__type`, `__typename`) are not counted: introspection is off in production.
 *
 * ```ts
 * const { depth, cost, aliases } = measureOperation(schema, document, operation, variables, 10);
 * ```
 */
export function measureOperation(
  schema: GraphQLSchema,
  fragments: readonly FragmentDefinitionNode[],
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  listWeight: number,
): OperationMeasure {
  const walk: Walk = { schema, fragments: new Map(fragments.map((fragment) => [fragment.name.value, fragment])), variables, listWeight };
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  return measureSelections(walk, operation.selectionSet, root ?? undefined, false, new Set());
}

function fieldsOf(type: GraphQLNamedType | undefined): Record<string, GraphQLField<unknown, unknown>> {
  return type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : {};
}

function intValue(node: ValueNode | undefined, variables: Record<string, unknown>): number | undefined {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const value = variables[node.name.value];
    return typeof value === 'number' ? value : undefined;
  }
  return undefined;
}

function measureSelections(walk: Walk, selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, paged: boolean, spreading: Set<string>): OperationMeasure {
  const total: OperationMeasure = { depth: 0, cost: 0, aliases: 0 };
  const add = (part: OperationMeasure, depthOffset: number) => {
    total.depth = Math.max(total.depth, part.depth + depthOffset);
    total.cost += part.cost;
    total.aliases += part.aliases;
  };
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      const field = fieldsOf(parent)[selection.name.value];
      const aliases = selection.alias ? 1 : 0;
      if (!selection.selectionSet) {
        add({ depth: 1, cost: 1, aliases }, 0);
        continue;
      }
      const returns = field ? getNullableType(field.type) : undefined;
      const takesPage = field?.args.some((arg) => arg.name === 'first') ?? false;
      let multiplier = 1;
      if (takesPage) {
        const first = intValue(selection.arguments?.find((arg) => arg.name.value === 'first')?.value, walk.variables);
        // Pages beyond MAX_PAGE_SIZE are refused by the field itself, with the better message.
        multiplier = Math.min(MAX_PAGE_SIZE, Math.max(1, first ?? DEFAULT_PAGE_SIZE));
      } else if (returns && isListType(returns) && !paged) {
        multiplier = walk.listWeight;
      }
      const childType = field ? getNamedType(field.type) : undefined;
      // The list under a paginated field (a connection's edges) is the page already counted.
      const inner = measureSelections(walk, selection.selectionSet, childType && isCompositeType(childType) ? childType : undefined, takesPage, spreading);
      add({ depth: inner.depth + 1, cost: 1 + multiplier * inner.cost, aliases: aliases + inner.aliases }, 0);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? walk.schema.getType(selection.typeCondition.name.value) ?? undefined : parent;
      add(measureSelections(walk, selection.selectionSet, type, paged, spreading), 0);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      // Validation refuses fragment cycles; the guard keeps this walk finite whatever it is given.
      if (!fragment || spreading.has(name)) continue;
      spreading.add(name);
      add(measureSelections(walk, fragment.selectionSet, walk.schema.getType(fragment.typeCondition.name.value) ?? undefined, paged, spreading), 0);
      spreading.delete(name);
    }
  }
  return total;
}

/**
 * The Apollo plugin that refuses an operation over HUB_MAX_QUERY_DEPTH, HUB_MAX_QUERY_COST or HUB_MAX_ALIASES once it
 * is parsed and validated, before the gateway plans it: nothing reaches a subgraph.
 */
export function operationLimits<C extends BaseContext>(config: HubConfig): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, schema, request }) {
          if (!operation) return;
          const fragments = document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION);
          const measure = measureOperation(schema, fragments, operation, request.variables ?? {}, config.HUB_COST_LIST_WEIGHT);
          if (measure.depth > config.HUB_MAX_QUERY_DEPTH) {
            throw limitExceeded('HUB_MAX_QUERY_DEPTH', `the query nests ${measure.depth} fields deep; query less deeply, or in several requests`, config.HUB_MAX_QUERY_DEPTH, measure.depth);
          }
          if (measure.aliases > config.HUB_MAX_ALIASES) {
            throw limitExceeded('HUB_MAX_ALIASES', `the query uses ${measure.aliases} aliases; use fewer, or send several requests`, config.HUB_MAX_ALIASES, measure.aliases);
          }
          if (measure.cost > config.HUB_MAX_QUERY_COST) {
            throw limitExceeded(
              'HUB_MAX_QUERY_COST',
              `the query could cost ${measure.cost} (lists weighted by their page size); ask for smaller pages (first) or fewer nested lists`,
              config.HUB_MAX_QUERY_COST,
              measure.cost,
            );
          }
        },
      };
    },
  };
}
