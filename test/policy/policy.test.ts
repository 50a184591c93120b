/**
 * The policy as a table: every action against every role, a non-member and a token of each
 * scope, as DESIGN.md's "Who may do what" lays it out, plus the named decisions services ask
 * for (repointing, role changes, export with secrets).
 */
import { describe, expect, it } from "vitest";
import {
  ACTIONS,
  type Action,
  allows,
  exportAction,
  isPeopleOnly,
  mayInvite,
  mayKeepSecretsWhenRepointing,
  roleChangeAction,
  type Subject,
} from "../../src/policy/policy";

const SUBJECTS: Record<string, Subject> = {
  "non-member": { kind: "USER", role: null },
  VIEWER: { kind: "USER", role: "VIEWER" },
  MEMBER: { kind: "USER", role: "MEMBER" },
  ADMIN: { kind: "USER", role: "ADMIN" },
  OWNER: { kind: "USER", role: "OWNER" },
  "READ token": { kind: "API_TOKEN", scopes: ["READ"], creatorRole: "OWNER" },
  "TEST token": { kind: "API_TOKEN", scopes: ["TEST"], creatorRole: "OWNER" },
  "RESOLVE token": { kind: "API_TOKEN", scopes: ["RESOLVE"], creatorRole: "OWNER" },
  "WRITE token": { kind: "API_TOKEN", scopes: ["WRITE"], creatorRole: "OWNER" },
  "all-scopes token": { kind: "API_TOKEN", scopes: ["READ", "TEST", "RESOLVE", "WRITE"], creatorRole: "OWNER" },
  "no-scope token": { kind: "API_TOKEN", scopes: [], creatorRole: "OWNER" },
  // A token never does more than its creator's current role allows.
  "all-scopes token of an ADMIN": { kind: "API_TOKEN", scopes: ["READ", "TEST", "RESOLVE", "WRITE"], creatorRole: "ADMIN" },
  "all-scopes token of a MEMBER": { kind: "API_TOKEN", scopes: ["READ", "TEST", "RESOLVE", "WRITE"], creatorRole: "MEMBER" },
  "all-scopes token of a VIEWER": { kind: "API_TOKEN", scopes: ["READ", "TEST", "RESOLVE", "WRITE"], creatorRole: "VIEWER" },
};

// Who is allowed each action; everyone else in SUBJECTS is refused.
const ALLOWED: Record<Action, string[]> = {
  "workspace.read": [
    "VIEWER", "MEMBER", "ADMIN", "OWNER", "READ token", "all-scopes token",
    "all-scopes token of an ADMIN", "all-scopes token of a MEMBER", "all-scopes token of a VIEWER",
  ],
  "connection.test": ["MEMBER", "ADMIN", "OWNER", "TEST token", "all-scopes token", "all-scopes token of an ADMIN", "all-scopes token of a MEMBER"],
  "connection.resolve": ["MEMBER", "ADMIN", "OWNER", "RESOLVE token", "all-scopes token", "all-scopes token of an ADMIN", "all-scopes token of a MEMBER"],
  "connection.write": ["ADMIN", "OWNER", "WRITE token", "all-scopes token", "all-scopes token of an ADMIN"],
  "connection.export_secrets": ["ADMIN", "OWNER"],
  "workspace.admin": ["ADMIN", "OWNER"],
  "workspace.own": ["OWNER"],
};

const cases = ACTIONS.flatMap((action) =>
  Object.entries(SUBJECTS).map(([who, subject]) => [action, who, subject, ALLOWED[action].includes(who)] as const),
);

describe("policy table", () => {
  it("covers every action", () => {
    expect(Object.keys(ALLOWED).sort()).toEqual([...ACTIONS].sort());
  });

  it.each(cases)("%s by %s", (action, _who, subject, expected) => {
    expect(allows(subject, action)).toBe(expected);
  });

  it("keeps administration, owners and secret exports for people", () => {
    expect(ACTIONS.filter(isPeopleOnly).sort()).toEqual(["connection.export_secrets", "workspace.admin", "workspace.own"]);
  });
});

describe("named decisions", () => {
  it("exporting with secrets is its own action; without them it is reading", () => {
    expect(exportAction(true)).toBe("connection.export_secrets");
    expect(exportAction(false)).toBe("workspace.read");
  });

  it.each([
    ["VIEWER", undefined, "workspace.admin"],
    ["ADMIN", "MEMBER", "workspace.admin"],
    ["OWNER", "ADMIN", "workspace.own"],
    ["ADMIN", "OWNER", "workspace.own"],
    ["OWNER", "OWNER", "workspace.own"],
  ] as const)("granting %s over %s needs %s", (newRole, currentRole, action) => {
    expect(roleChangeAction(newRole, currentRole)).toBe(action);
  });

  it.each([
    [{ repointed: false, keptSecrets: ["password"] }, false, true],
    [{ repointed: true, keptSecrets: [] }, false, true],
    [{ repointed: true, keptSecrets: ["password"] }, false, false],
    [{ repointed: true, keptSecrets: ["password"] }, true, true],
  ])("repointing %o with resolve right %s may keep the secrets: %s", (change, mayResolve, expected) => {
    expect(mayKeepSecretsWhenRepointing(change, mayResolve)).toBe(expected);
  });

  // Who may invite whom: the inviter's role caps the invited role (rows: inviter; columns: OWNER, ADMIN, MEMBER, VIEWER).
  it.each([
    [null, [false, false, false, false]],
    ["VIEWER", [false, false, false, false]],
    ["MEMBER", [false, false, false, false]],
    ["ADMIN", [false, true, true, true]],
    ["OWNER", [true, true, true, true]],
  ] as const)("an inviter who is %s may invite OWNER, ADMIN, MEMBER, VIEWER: %o", (inviter, expected) => {
    expect((["OWNER", "ADMIN", "MEMBER", "VIEWER"] as const).map((role) => mayInvite(inviter, role))).toEqual(expected);
  });
});
