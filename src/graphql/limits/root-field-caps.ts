/**
 * Caps, per request, the root fields that cost real work whatever the page size: resolving a
 * secret (decrypt + audit), testing a connection (an outbound connection, up to its
 * deadline), hashing a password, and whole-workspace operations. Mutations run one after
 * another, so 100 aliases of testConnection would hold a request for 100 test deadlines.
 * A field counts once per response key: repeating it under the same alias runs it once.
 */
import { type ASTVisitor, Kind, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext } from "graphql";
import { QueryLimitError } from "../../errors";

export interface RootFieldCap {
  /** The limit's name in errors, e.g. "tests". */
  limit: string;
  /** What is counted, for a person. */
  what: string;
  fields: readonly string[];
  max: number;
}

export interface RootFieldCapSettings {
  maxResolves: number;
  maxTests: number;
  maxPasswordChecks: number;
  maxBulkOperations: number;
}

export function rootFieldCaps(settings: RootFieldCapSettings): RootFieldCap[] {
  return [
    { limit: "resolves", what: "resolveConnection fields", fields: ["resolveConnection"], max: settings.maxResolves },
    {
      limit: "tests",
      what: "connection tests (testConnection, testConnectionInput, testConnectionIn)",
      fields: ["testConnection", "testConnectionInput", "testConnectionIn"],
      max: settings.maxTests,
    },
    {
      limit: "passwordChecks",
      what: "password checks (signUp, logIn, changePassword)",
      fields: ["signUp", "logIn", "changePassword"],
      max: settings.maxPasswordChecks,
    },
    {
      limit: "bulkOperations",
      what: "whole-workspace operations (imports, exports, upserts, key rotation, deletion)",
      fields: ["importConnections", "upsertConnections", "exportConnections", "importBundle", "exportBundle", "rotateWorkspaceKey", "deleteWorkspace", "stageImportBatch", "commitImport"],
      max: settings.maxBulkOperations,
    },
  ];
}

export function rootFieldCapsRule(caps: RootFieldCap[]) {
  const capOf = new Map<string, RootFieldCap>();
  for (const cap of caps) for (const field of cap.fields) capOf.set(field, cap);

  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation: OperationDefinitionNode) {
      const counts = new Map<RootFieldCap, number>();
      for (const [fieldName, responseKeys] of rootFields(context, operation.selectionSet)) {
        const cap = capOf.get(fieldName);
        if (cap) counts.set(cap, (counts.get(cap) ?? 0) + responseKeys.size);
      }
      for (const [cap, count] of counts) {
        if (count > cap.max) {
          context.reportError(new QueryLimitError(`One request may run at most ${cap.max} ${cap.what}; this one asks for ${count}.`, cap.limit, cap.max));
        }
      }
      return false;
    },
  });
}

/** Root field name -> the response keys it is selected under, through fragments, once each. */
function rootFields(context: ValidationContext, selectionSet: SelectionSetNode): Map<string, Set<string>> {
  const fields = new Map<string, Set<string>>();
  const seenFragments = new Set<string>();
  const pending: SelectionSetNode[] = [selectionSet];
  while (pending.length > 0) {
    for (const selection of pending.pop()!.selections) {
      if (selection.kind === Kind.FIELD) {
        const keys = fields.get(selection.name.value) ?? new Set<string>();
        keys.add(selection.alias?.value ?? selection.name.value);
        fields.set(selection.name.value, keys);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        pending.push(selection.selectionSet);
      } else if (!seenFragments.has(selection.name.value)) {
        seenFragments.add(selection.name.value);
        const fragment = context.getFragment(selection.name.value);
        if (fragment) pending.push(fragment.selectionSet);
      }
    }
  }
  return fields;
}
