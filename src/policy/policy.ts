/**
 * Who may do what: the one place that decides (DESIGN.md, "Who may do what"). Services ask
 * here before they touch data; resolvers never decide access themselves.
 */
import type { Role, TokenScope } from "../generated/prisma/enums";

export type Action =
  /** Read the workspace, connection metadata and test results. */
  | "workspace.read"
  /** Test a saved connection. */
  | "connection.test"
  /** Read a connection's secrets. */
  | "connection.resolve"
  /** Create, update, delete connections; test unsaved input. */
  | "connection.write"
  /** API tokens, the audit log, members below OWNER. */
  | "workspace.admin"
  /** Owners, workspace deletion, key rotation. */
  | "workspace.own";

const ROLE_RANK: Record<Role, number> = { VIEWER: 1, MEMBER: 2, ADMIN: 3, OWNER: 4 };

const LEAST_ROLE: Record<Action, Role> = {
  "workspace.read": "VIEWER",
  "connection.test": "MEMBER",
  "connection.resolve": "MEMBER",
  "connection.write": "ADMIN",
  "workspace.admin": "ADMIN",
  "workspace.own": "OWNER",
};

// A token scope grants exactly its row of the table; administration is for people only.
const SCOPE_GRANTS: Record<TokenScope, Action> = {
  READ: "workspace.read",
  TEST: "connection.test",
  RESOLVE: "connection.resolve",
  WRITE: "connection.write",
};

export function roleAllows(role: Role, action: Action): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[LEAST_ROLE[action]];
}

export function scopesAllow(scopes: readonly TokenScope[], action: Action): boolean {
  return scopes.some((scope) => SCOPE_GRANTS[scope] === action);
}

export function roleOutranks(a: Role, b: Role): boolean {
  return ROLE_RANK[a] > ROLE_RANK[b];
}

export function roleAtLeast(a: Role, b: Role): boolean {
  return ROLE_RANK[a] >= ROLE_RANK[b];
}
