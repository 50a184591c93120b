/**
 * Refuses text that cannot be stored before any resolver sees it: NUL characters (PostgreSQL
 * refuses them in text) and lone UTF-16 surrogates (not Unicode), in every string of the
 * variables and every string literal of the document, as BAD_USER_INPUT naming the field.
 * One check for every argument of every operation, so a new argument cannot forget it.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { type ASTNode, type DocumentNode, Kind, visit } from "graphql";
import { BadUserInputError } from "../errors";
import { textProblem } from "../input/json";

export function inputGuardPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          checkVariables(request.variables ?? {});
          checkLiterals(document);
        },
      };
    },
  };
}

function refuse(problem: string, field: string): never {
  const error = new BadUserInputError(`${field} ${problem}.`, field);
  // Apollo answers errors raised before execution with HTTP 500 unless told otherwise.
  (error.extensions as Record<string, unknown>).http = { status: 400 };
  throw error;
}

/** Walks the variables with an explicit stack: their depth is not bounded yet here. */
function checkVariables(variables: Record<string, unknown>): void {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value: variables, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === "string") {
      const problem = textProblem(value);
      if (problem) refuse(problem, fieldName(path));
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: [...path, String(index)] }));
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        const problem = textProblem(key);
        if (problem) refuse(`keys ${problem}`, fieldName(path));
        stack.push({ value: item, path: [...path, key] });
      }
    }
  }
}

/**
 * The field a client knows: the variable's name for a plain value, else the path inside the
 * input object it holds (`name`, `extra.region`), list positions left out.
 */
function fieldName(path: string[]): string {
  const named = path.filter((segment) => !/^\d+$/.test(segment));
  return (named.length > 1 ? named.slice(1) : named).join(".") || "variables";
}

function checkLiterals(document: DocumentNode): void {
  // graphql-js's visit() keeps its own stack; the parser has bounded the document already.
  visit(document, {
    StringValue(node, _key, parent, _path, ancestors) {
      const problem = textProblem(node.value);
      if (problem) refuse(problem, literalField([...ancestors, ...(parent ? [parent] : [])]));
    },
  });
}

function literalField(ancestors: ReadonlyArray<ASTNode | ReadonlyArray<ASTNode>>): string {
  const names: string[] = [];
  for (const ancestor of ancestors) {
    if (Array.isArray(ancestor)) continue;
    const node = ancestor as ASTNode;
    if (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) names.push(node.name.value);
  }
  return (names.length > 1 ? names.slice(1) : names).join(".") || "query";
}
