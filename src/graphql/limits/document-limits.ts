/**
 * Validation rules that bound the shape of a document: nesting depth, aliases and directives
 * (graphql-armor's counters, which follow fragments), and the per-request caps on expensive
 * root fields. A refusal is QUERY_LIMIT_EXCEEDED (HTTP 400) naming the limit. The token
 * bound is graphql-js's own (parseOptions.maxTokens), applied while parsing.
 */
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import type { ValidationContext, ValidationRule } from "graphql";
import type { GraphQLLimits } from "../../config";
import { QueryLimitError } from "../../errors";
import { rootFieldCaps, rootFieldCapsRule } from "./root-field-caps";

export function documentLimitRules(limits: GraphQLLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ...refuseAs("depth", limits.maxDepth, "levels of nesting") }),
    maxAliasesRule({ n: limits.maxAliases, allowList: [], ...refuseAs("aliases", limits.maxAliases, "aliases") }),
    maxDirectivesRule({ n: limits.maxDirectives, ...refuseAs("directives", limits.maxDirectives, "directives") }),
    rootFieldCapsRule(rootFieldCaps(limits)),
  ] as ValidationRule[];
}

/** armor reports through callbacks; these replace its error with Patchbay's. */
function refuseAs(limit: string, max: number, what: string) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, armorError: Error) => {
        const found = /found (\d+)/.exec(armorError.message)?.[1];
        const actual = found ? `${found} ${what}` : `more than ${max} ${what}`;
        context?.reportError(new QueryLimitError(`The query has ${actual}; at most ${max} are allowed.`, limit, max));
      },
    ],
  };
}
