/**
 * Fills the request record (request-record.ts) from Apollo: the operation's name, type and
 * root fields once it is validated (so field names come from the schema, a bounded set), and
 * the error codes of the response as the client receives them.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { type DocumentNode, Kind, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import { currentRecord, noteErrorCode, safeOperationName } from "./request-record";
import { nameRequestSpan } from "./tracing";

export function observabilityPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async contextCreationDidFail({ error }) {
      const record = currentRecord();
      if (record) noteErrorCode(record, codeOf((error as { extensions?: Record<string, unknown> }).extensions));
    },
    async requestDidStart({ request }) {
      const record = currentRecord();
      if (!record) return {};
      record.operationName = safeOperationName(request.operationName);
      return {
        async didResolveOperation({ operation, document }) {
          if (!operation) return;
          // The document's own name for the operation that ran (the body's operationName picks it).
          record.operationName = safeOperationName(operation.name?.value) ?? record.operationName;
          record.operationType = operation.operation;
          record.fields = rootFields(operation, document);
          nameRequestSpan(record.span, `graphql ${operation.operation} ${record.operationName ?? record.fields.join(",")}`, {
            "graphql.operation.type": operation.operation,
            ...(record.operationName ? { "graphql.operation.name": record.operationName } : {}),
          });
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== "single") return;
          for (const error of response.body.singleResult.errors ?? []) noteErrorCode(record, codeOf(error.extensions));
        },
      };
    },
  };
}

function codeOf(extensions: Record<string, unknown> | undefined): string {
  const code = extensions?.code;
  // Codes are fixed strings set by the server (errors.ts, Apollo's own); anything odd is folded.
  return typeof code === "string" && /^[A-Z_]{1,40}$/.test(code) ? code : "INTERNAL_SERVER_ERROR";
}

function rootFields(operation: OperationDefinitionNode, document: DocumentNode): string[] {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])),
  );
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment);
      }
    }
  };
  walk(operation.selectionSet);
  return [...names].sort();
}
