/**
 * Everything that bounds one GraphQL request before a resolver runs, as Apollo Server options:
 * tokens while parsing, the document's shape while validating, its cost once the variables
 * are known. README, Security, lists each limit with its setting.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import type { ValidationRule } from "graphql";
import type { GraphQLLimits } from "../../config";
import { costLimitPlugin } from "./cost";
import { documentLimitRules } from "./document-limits";

export interface RequestLimitOptions<TContext extends object> {
  parseOptions: { maxTokens: number };
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin<TContext>[];
}

export function requestLimits<TContext extends object>(limits: GraphQLLimits): RequestLimitOptions<TContext> {
  return {
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: documentLimitRules(limits),
    plugins: [costLimitPlugin<TContext>(limits.maxCost)],
  };
}
