/**
 * Who may do what: the one place that decides (DESIGN.md, "Who may do what"). Services ask
 * here, through the request's Caller, before they touch data; resolvers never decide access.
 * Every decision is a named function or table below, unit-tested as a table in
 * test/policy/policy.test.ts (every action × role and token scope).
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
  /** Export connections with their secrets in the file. */
  | "connection.export_secrets"
  /** API tokens, the audit log, members below OWNER. */
  | "workspace.admin"
  /** Owners, workspace deletion, key rotation. */
  | "workspace.own";

export const ACTIONS: readonly Action[] = [
  "workspace.read",
  "connection.test",
  "connection.resolve",
  "connection.write",
  "connection.export_secrets",
  "workspace.admin",
  "workspace.own",
];

/**
 * Who asks, as far as the policy cares: a person's role in the workspace (null: not a member),
 * or a token's scopes and its creator's current role there.
 */
export type Subject =
  | { kind: "USER"; role: Role | null }
  | { kind: "API_TOKEN"; scopes: readonly TokenScope[]; creatorRole: Role };

const ROLE_RANK: Record<Role, number> = { VIEWER: 1, MEMBER: 2, ADMIN: 3, OWNER: 4 };

const LEAST_ROLE: Record<Action, Role> = {
  "workspace.read": "VIEWER",
  "connection.test": "MEMBER",
  "connection.resolve": "MEMBER",
  "connection.write": "ADMIN",
  "connection.export_secrets": "ADMIN",
  "workspace.admin": "ADMIN",
  "workspace.own": "OWNER",
};

// A token scope grants exactly its row of the table.
const SCOPE_GRANTS: Record<TokenScope, Action> = {
  READ: "workspace.read",
  TEST: "connection.test",
  RESOLVE: "connection.resolve",
  WRITE: "connection.write",
};

/**
 * "People only": administration, owners, and a file holding every secret are for a signed-in
 * person, whatever a token's scopes; a token that asks is told to sign in.
 */
const PEOPLE_ONLY: ReadonlySet<Action> = new Set<Action>(["connection.export_secrets", "workspace.admin", "workspace.own"]);

export function isPeopleOnly(action: Action): boolean {
  return PEOPLE_ONLY.has(action);
}

/**
 * The policy's answer for a subject already known to see the workspace. A token may do what
 * its scopes grant and its creator's role still allows: a demoted creator's token shrinks with them.
 */
export function allows(subject: Subject, action: Action): boolean {
  if (subject.kind === "API_TOKEN") {
    return !isPeopleOnly(action) && subject.scopes.some((scope) => SCOPE_GRANTS[scope] === action) && roleAllows(subject.creatorRole, action);
  }
  return subject.role !== null && roleAllows(subject.role, action);
}

function roleAllows(role: Role, action: Action): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[LEAST_ROLE[action]];
}

/** What exporting connections needs: reading them, or, with their secrets, the export_secrets right. */
export function exportAction(includeSecrets: boolean): Action {
  return includeSecrets ? "connection.export_secrets" : "workspace.read";
}

/** Granting, changing or removing the OWNER role is for owners; other roles for admins. */
export function roleChangeAction(newRole: Role, currentRole?: Role): Action {
  return newRole === "OWNER" || currentRole === "OWNER" ? "workspace.own" : "workspace.admin";
}

/** A change to a connection as far as the repointing rule cares (services/connections/draft.ts). */
export interface Repointing {
  /** The type, or a field that decides where or how protected the secrets travel, changed. */
  repointed: boolean;
  /** Secret fields that keep their stored value. */
  keptSecrets: readonly string[];
}

/**
 * "Who may not read a secret may not send it somewhere new" (DESIGN.md): pointing a
 * connection elsewhere while keeping stored secrets needs the right to resolve them.
 */
export function mayKeepSecretsWhenRepointing(change: Repointing, mayResolve: boolean): boolean {
  return !change.repointed || change.keptSecrets.length === 0 || mayResolve;
}

/**
 * Inviting: an admin or owner invites, and never above their own role (an ADMIN invites
 * ADMIN, MEMBER or VIEWER; only an OWNER invites an OWNER). Asked again when the invitation
 * is accepted, with the inviter's role then: a demoted or removed inviter's invitations
 * shrink with them, as their API tokens do.
 */
export function mayInvite(inviterRole: Role | null, invitedRole: Role): boolean {
  return inviterRole !== null && roleAllows(inviterRole, "workspace.admin") && ROLE_RANK[invitedRole] <= ROLE_RANK[inviterRole];
}

/**
 * The environment a request acts in: a token bound to an environment acts in that one (naming
 * it is allowed, naming another is not: `false`); anyone else in the one they name, if any.
 */
export function environmentFor(bound: string | null, requested: string | null): string | null | false {
  if (bound === null) return requested;
  return requested === null || requested === bound ? bound : false;
}
