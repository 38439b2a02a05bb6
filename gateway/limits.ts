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
  type VariableDefinitionNode,
} from 'graphql';
import type { HubConfig } from '../lib/config';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../lib/pagination';

export type LimitName =
  | 'HUB_MAX_QUERY_DEPTH'
  | 'HUB_MAX_QUERY_COST'
  | 'HUB_MAX_ALIASES'
  | 'HUB_MAX_BATCH'
  | 'HUB_MAX_BODY_BYTES'
  | 'HUB_RATE_LIMIT';

/** A refusal that names the limit a request hit, so a client knows which knob (or which habit) to change. */
export function limitExceeded(limit: LimitName, message: string, max: number, actual?: number): GraphQLError {
  return new GraphQLError(`${message} (limit ${limit} = ${max})`, {
    extensions: {
      code: 'BAD_USER_INPUT',
      limit,
      max,
      ...(actual === undefined ? {} : { actual }),
      http: { status: 400 },
    },
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
  /** The operation's variable declarations, whose default values stand in for variables the request leaves out. */
  declarations: Map<string, VariableDefinitionNode>;
  listWeight: number;
}

/**
 * Measures an operation: its depth in fields, its cost (one per field; a field taking `first` multiplies its subtree
 * by the page size that will execute: the literal, else the variable's value, else the variable's default, else the
 * argument's default, else 20; any other list of objects by the list weight) and how many aliases it uses, on every
 * field (`__typename` included: it is answered once per alias). Introspection's `__schema` and `__type` cost nothing
 * here: introspection is off in production.
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
  const walk: Walk = {
    schema,
    fragments: new Map(fragments.map((fragment) => [fragment.name.value, fragment])),
    variables,
    declarations: new Map(
      (operation.variableDefinitions ?? []).map((declaration) => [declaration.variable.name.value, declaration]),
    ),
    listWeight,
  };
  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  return measureSelections(walk, operation.selectionSet, root ?? undefined, false, new Set());
}

function fieldsOf(type: GraphQLNamedType | undefined): Record<string, GraphQLField<unknown, unknown>> {
  return type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : {};
}

/** The integer an argument will carry when the operation executes, as GraphQL coerces it; undefined when none. */
function intValue(node: ValueNode | undefined, walk: Walk): number | undefined {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const name = node.name.value;
    // A variable the request sends (even as null) is what executes; only an absent one takes its declared default.
    if (Object.prototype.hasOwnProperty.call(walk.variables, name)) {
      const value = walk.variables[name];
      return typeof value === 'number' ? value : undefined;
    }
    const fallback = walk.declarations.get(name)?.defaultValue;
    return intValue(fallback, walk);
  }
  return undefined;
}

function measureSelections(
  walk: Walk,
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  paged: boolean,
  spreading: Set<string>,
): OperationMeasure {
  const total: OperationMeasure = { depth: 0, cost: 0, aliases: 0 };
  const add = (part: OperationMeasure, depthOffset: number) => {
    total.depth = Math.max(total.depth, part.depth + depthOffset);
    total.cost += part.cost;
    total.aliases += part.aliases;
  };
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const aliases = selection.alias ? 1 : 0;
      if (selection.name.value === '__typename') {
        add({ depth: 1, cost: 1, aliases }, 0);
        continue;
      }
      if (selection.name.value.startsWith('__')) {
        add({ depth: 0, cost: 0, aliases }, 0);
        continue;
      }
      const field = fieldsOf(parent)[selection.name.value];
      if (!selection.selectionSet) {
        add({ depth: 1, cost: 1, aliases }, 0);
        continue;
      }
      const returns = field ? getNullableType(field.type) : undefined;
      const takesPage = field?.args.some((arg) => arg.name === 'first') ?? false;
      let multiplier = 1;
      if (takesPage) {
        const given = intValue(selection.arguments?.find((arg) => arg.name.value === 'first')?.value, walk);
        const declared = field?.args.find((arg) => arg.name === 'first')?.defaultValue;
        const first = given ?? (typeof declared === 'number' ? declared : DEFAULT_PAGE_SIZE);
        // Pages beyond MAX_PAGE_SIZE are refused by the field itself, with the better message.
        multiplier = Math.min(MAX_PAGE_SIZE, Math.max(1, first));
      } else if (returns && isListType(returns) && !paged) {
        multiplier = walk.listWeight;
      }
      const childType = field ? getNamedType(field.type) : undefined;
      // The list under a paginated field (a connection's edges) is the page already counted.
      const inner = measureSelections(
        walk,
        selection.selectionSet,
        childType && isCompositeType(childType) ? childType : undefined,
        takesPage,
        spreading,
      );
      add({ depth: inner.depth + 1, cost: 1 + multiplier * inner.cost, aliases: aliases + inner.aliases }, 0);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition
        ? (walk.schema.getType(selection.typeCondition.name.value) ?? undefined)
        : parent;
      add(measureSelections(walk, selection.selectionSet, type, paged, spreading), 0);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      // Validation refuses fragment cycles; the guard keeps this walk finite whatever it is given.
      if (!fragment || spreading.has(name)) continue;
      spreading.add(name);
      add(
        measureSelections(
          walk,
          fragment.selectionSet,
          walk.schema.getType(fragment.typeCondition.name.value) ?? undefined,
          paged,
          spreading,
        ),
        0,
      );
      spreading.delete(name);
    }
  }
  return total;
}

/** What the operations of one HTTP request have spent so far: one batch shares a single budget of cost and aliases. */
export interface RequestBudget {
  cost: number;
  aliases: number;
}

export interface BudgetedContext extends BaseContext {
  /**
   * Shared by every operation of the request: Apollo gives each operation of a batch a shallow copy of the context,
   * so this object is the same one for all of them.
   */
  requestBudget?: RequestBudget;
}

export function newRequestBudget(): RequestBudget {
  return { cost: 0, aliases: 0 };
}

/**
 * The Apollo plugin that refuses an operation over HUB_MAX_QUERY_DEPTH, HUB_MAX_QUERY_COST or HUB_MAX_ALIASES once it
 * is parsed and validated, before the gateway plans it: nothing reaches a subgraph.
 *
 * A batch is limited as a whole: its operations draw on one budget of cost and aliases (the context's
 * `requestBudget`), each admitted only while the batch's running total stays within the limit, so what a batch
 * executes never costs more than one operation may. Depth is a property of each operation and is checked for each.
 */
export function operationLimits<C extends BudgetedContext>(config: HubConfig): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, schema, request, contextValue, requestIsBatched }) {
          if (!operation) return;
          const fragments = document.definitions.filter(
            (definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION,
          );
          const measure = measureOperation(
            schema,
            fragments,
            operation,
            request.variables ?? {},
            config.HUB_COST_LIST_WEIGHT,
          );
          if (measure.depth > config.HUB_MAX_QUERY_DEPTH) {
            throw limitExceeded(
              'HUB_MAX_QUERY_DEPTH',
              `the query nests ${measure.depth} fields deep; query less deeply, or in several requests`,
              config.HUB_MAX_QUERY_DEPTH,
              measure.depth,
            );
          }
          const spent = contextValue.requestBudget ?? newRequestBudget();
          const aliases = spent.aliases + measure.aliases;
          const cost = spent.cost + measure.cost;
          const what = requestIsBatched ? 'the batch' : 'the query';
          if (aliases > config.HUB_MAX_ALIASES) {
            throw limitExceeded(
              'HUB_MAX_ALIASES',
              `${what} uses ${aliases} aliases${requestIsBatched ? ' in all' : ''}; use fewer, or send several requests`,
              config.HUB_MAX_ALIASES,
              aliases,
            );
          }
          if (cost > config.HUB_MAX_QUERY_COST) {
            throw limitExceeded(
              'HUB_MAX_QUERY_COST',
              `${what} could cost ${cost}${requestIsBatched ? ' in all' : ''} (lists weighted by their page size); ask for smaller pages (first) or fewer nested lists`,
              config.HUB_MAX_QUERY_COST,
              cost,
            );
          }
          spent.aliases = aliases;
          spent.cost = cost;
        },
      };
    },
  };
}
