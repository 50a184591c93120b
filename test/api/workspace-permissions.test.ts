/**
 * Workspace.permissions: what each role and each token scope is told it may do matches
 * DESIGN.md's table, and matches what the API then actually allows (a front end that shows a
 * control because of this field must not get FORBIDDEN when it is used).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createWorkspace, signUp } from "../support/factories";

let app: TestApp;
let workspace: { id: string; slug: string };
const callers: Record<string, GraphQLClient> = {};

const FIELDS = [
  "read",
  "testConnections",
  "resolveConnections",
  "writeConnections",
  "manageApiTokens",
  "readAuditLog",
  "manageMembers",
  "manageOwners",
  "exportSecrets",
  "manageHealthChecks",
  "importBundles",
] as const;

// DESIGN.md, "Who may do what": the fields each caller may use; every other field is false.
const EXPECTED: Record<string, Array<(typeof FIELDS)[number]>> = {
  OWNER: [...FIELDS],
  ADMIN: FIELDS.filter((f) => f !== "manageOwners"),
  MEMBER: ["read", "testConnections", "resolveConnections"],
  VIEWER: ["read"],
  "token:READ": ["read"],
  "token:TEST": ["testConnections"],
  "token:RESOLVE": ["resolveConnections"],
  "token:WRITE": ["writeConnections"],
};

beforeAll(async () => {
  app = await startTestApp();
  const anonymous = new GraphQLClient(app.url);
  const owner = await signUp(anonymous, "owner");
  workspace = await createWorkspace(owner.client);
  callers.OWNER = owner.client;
  for (const role of ["ADMIN", "MEMBER", "VIEWER"]) {
    const person = await signUp(anonymous, role.toLowerCase());
    await addMember(owner.client, workspace.id, person.email, role);
    callers[role] = person.client;
  }
  for (const scope of ["READ", "TEST", "WRITE", "RESOLVE"]) {
    callers[`token:${scope}`] = anonymous.as((await createApiToken(owner.client, workspace.id, [scope], scope)).token);
  }
});

afterAll(async () => {
  await app?.stop();
});

async function permissionsOf(caller: string): Promise<Record<string, boolean>> {
  const data = await callers[caller].ok(`{ workspaces { id permissions { ${FIELDS.join(" ")} } } }`);
  const mine = data.workspaces.find((w: { id: string }) => w.id === workspace.id);
  return mine.permissions;
}

describe("Workspace.permissions", () => {
  for (const [caller, allowed] of Object.entries(EXPECTED)) {
    it(`tells ${caller} exactly what the policy allows`, async () => {
      const expected = Object.fromEntries(FIELDS.map((f) => [f, allowed.includes(f)]));
      expect(await permissionsOf(caller)).toEqual(expected);
    });
  }

  it("agrees with the API: each caller told it may read the audit log and manage tokens can, the others are refused", async () => {
    for (const caller of Object.keys(EXPECTED)) {
      const permissions = await permissionsOf(caller);
      const audit = await callers[caller].request(`query($s: String!) { workspace(slug: $s) { auditEvents(first: 1) { nodes { id } } } }`, {
        s: workspace.slug,
      });
      expect(audit.errors === undefined, `${caller} auditEvents`).toBe(permissions.readAuditLog);
      const token = await callers[caller].request(
        `mutation($w: ID!) { createApiToken(workspaceId: $w, name: "probe", scopes: [READ]) { apiToken { id } } }`,
        { w: workspace.id },
      );
      expect(token.errors === undefined, `${caller} createApiToken`).toBe(permissions.manageApiTokens);
      const hooks = await callers[caller].request(`query($s: String!) { workspace(slug: $s) { webhooks { id } } }`, { s: workspace.slug });
      expect(hooks.errors === undefined, `${caller} webhooks`).toBe(permissions.manageHealthChecks);
      const schedule = await callers[caller].request(`mutation($w: ID!) { removeTestSchedule(workspaceId: $w) }`, { w: workspace.id });
      expect(schedule.errors === undefined, `${caller} removeTestSchedule`).toBe(permissions.manageHealthChecks);
      // A bundle that is not one: refused as BAD_USER_INPUT after the permission check, FORBIDDEN before it.
      const bundle = await callers[caller].request(
        `mutation($w: ID!) { importBundle(workspaceId: $w, bundle: "not a bundle", passphrase: "twelve chars long", dryRun: true) { applied } }`,
        { w: workspace.id },
      );
      expect(bundle.errors?.[0]?.extensions?.code !== "FORBIDDEN", `${caller} importBundle: ${JSON.stringify(bundle.errors)}`).toBe(permissions.importBundles);
    }
  });

  it("is per workspace: a person's permissions elsewhere do not leak into this one", async () => {
    const viewer = callers.VIEWER;
    const own = await createWorkspace(viewer);
    const data = await viewer.ok(`{ workspaces { id permissions { writeConnections manageOwners } } }`);
    const byId = Object.fromEntries(data.workspaces.map((w: { id: string; permissions: object }) => [w.id, w.permissions]));
    expect(byId[own.id]).toEqual({ writeConnections: true, manageOwners: true });
    expect(byId[workspace.id]).toEqual({ writeConnections: false, manageOwners: false });
  });
});
