/**
 * The caller's permissions in one workspace, as the policy decides them, for front ends that
 * show only the controls that will work. Each permission is named for what a person does and
 * maps to exactly one policy action, so this can never disagree with the checks themselves.
 */
import type { Caller } from "./caller";
import type { Action } from "./policy";

export const PERMISSION_ACTIONS = {
  read: "workspace.read",
  testConnections: "connection.test",
  resolveConnections: "connection.resolve",
  writeConnections: "connection.write",
  manageApiTokens: "workspace.admin",
  readAuditLog: "workspace.admin",
  manageMembers: "workspace.admin",
  manageOwners: "workspace.own",
  exportSecrets: "connection.export_secrets",
  manageHealthChecks: "workspace.admin",
  importBundles: "workspace.admin",
} as const satisfies Record<string, Action>;

export type WorkspacePermissions = Record<keyof typeof PERMISSION_ACTIONS, boolean>;

export async function permissionsIn(caller: Caller, workspaceId: string): Promise<WorkspacePermissions> {
  const entries = await Promise.all(
    Object.entries(PERMISSION_ACTIONS).map(async ([name, action]) => [name, await caller.can(workspaceId, action)] as const),
  );
  return Object.fromEntries(entries) as WorkspacePermissions;
}
