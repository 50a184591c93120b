/**
 * The cost of an operation: roughly how many objects it makes the server fetch, computed
 * with the request's variables before any resolver runs.
 *
 * - A scalar or enum field costs nothing beyond the object that holds it.
 * - An object field costs 1 plus what is selected under it.
 * - A field with a `first` argument costs its page size times what is selected under it:
 *   `connections(first: 200) { nodes { testResults { id } } }` is 1 + 200 × (1 + 10).
 *   The list of a page type (`nodes`) is then counted once per item, not again.
 * - A list without `first` (members, API tokens, workspaces) counts as UNPAGED_LIST_SIZE items.
 * - Introspection costs nothing here; graphql-js bounds its recursion (MaxIntrospectionDepthRule).
 *
 * graphql-query-complexity walks the document (fragments, @skip/@include, variables and
 * argument defaults); the estimator below is Patchbay's cost model.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import {
  type DocumentNode,
  type GraphQLField,
  GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isLeafType,
  isListType,
  isObjectType,
} from "graphql";
import { type ComplexityEstimator, getComplexity } from "graphql-query-complexity";
import { QueryLimitError } from "../../errors";
import { MAX_PAGE_SIZE } from "../../services/pagination";

export const UNPAGED_LIST_SIZE = 10;
/** Bounds the walk itself: repeated fragment spreads are costed every time they appear. */
const MAX_COSTED_NODES = 10_000;

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined,
): number {
  return getComplexity({
    schema,
    query: document,
    variables,
    operationName,
    estimators: [costEstimator(pageTypesOf(schema))],
    maxQueryNodes: MAX_COSTED_NODES,
  });
}

export function costLimitPlugin<TContext extends object>(maxCost: number): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operation }) {
          // No such operation: execution refuses the request without running anything.
          if (!operation) return;
          let cost: number;
          try {
            cost = operationCost(schema, document, request.variables, operation.name?.value);
          } catch (error) {
            if (error instanceof Error && /maximum allowed number of nodes/.test(error.message)) {
              throw new QueryLimitError(`The query is too large to run (over ${MAX_COSTED_NODES} selections with its fragments expanded).`, "cost", maxCost);
            }
            // Variables that do not fit their types: execution refuses them with the field named.
            return;
          }
          if (cost > maxCost) {
            throw new QueryLimitError(
              `The query's cost is ${cost}, above the limit of ${maxCost}. A field with \`first\` costs its page size; ask for smaller pages or split the query.`,
              "cost",
              maxCost,
            );
          }
        },
      };
    },
  };
}

const pageTypesCache = new WeakMap<GraphQLSchema, Set<string>>();

/** Object types returned by a field with `first` (ConnectionPage): their lists are the page. */
function pageTypesOf(schema: GraphQLSchema): Set<string> {
  let pageTypes = pageTypesCache.get(schema);
  if (pageTypes) return pageTypes;
  pageTypes = new Set();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const returned = getNullableType(field.type);
      if (pageArgument(field) && isObjectType(returned)) pageTypes.add(returned.name);
    }
  }
  pageTypesCache.set(schema, pageTypes);
  return pageTypes;
}

function pageArgument(field: GraphQLField<unknown, unknown>) {
  return field.args.find((arg) => arg.name === "first");
}

function costEstimator(pageTypes: Set<string>): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    if (type.name.startsWith("__") || field.name.startsWith("__")) return 0;
    if (isLeafType(getNamedType(field.type))) return 0;
    const isList = isListType(getNullableType(field.type));
    const first = pageArgument(field);
    if (first) {
      const requested = args.first ?? first.defaultValue ?? MAX_PAGE_SIZE;
      const size = Math.min(Math.max(Number(requested) || 0, 0), MAX_PAGE_SIZE);
      return isList ? size * (1 + childComplexity) : 1 + size * childComplexity;
    }
    if (isList && !pageTypes.has(type.name)) return UNPAGED_LIST_SIZE * (1 + childComplexity);
    return 1 + childComplexity;
  };
}
