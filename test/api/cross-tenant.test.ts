/**
 * Nothing crosses workspaces: every operation that takes an id, run by another workspace's
 * owner and by its most powerful token, answers NOT_FOUND (never FORBIDDEN, so ids cannot
 * be probed) and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, inviteMember, signUp, type SignedUp } from "../support/factories";

let app: TestApp;
let victim: SignedUp;
let victimWorkspace: { id: string; slug: string };
let victimConnection: { id: string; name: string };
let victimTokenId: string;
let victimInvitationId: string;
let victimWebhookId: string;
let victimImportId: string;
const intruders: Record<string, GraphQLClient> = {};

beforeAll(async () => {
  app = await startTestApp();
  const anonymous = new GraphQLClient(app.url);
  victim = await signUp(anonymous, "victim");
  victimWorkspace = await createWorkspace(victim.client);
  victimConnection = await createConnection(victim.client, victimWorkspace.id, { name: "crown_jewels" });
  victimTokenId = (await createApiToken(victim.client, victimWorkspace.id, ["READ"])).id;
  victimInvitationId = (await inviteMember(victim.client, victimWorkspace.id, "friend@example.com", "MEMBER")).id;
  // Never called: the victim's connection is never tested.
  victimWebhookId = (
    await victim.client.ok(`mutation($w: ID!) { createWebhook(workspaceId: $w, url: "https://example.com/hook") { webhook { id } } }`, { w: victimWorkspace.id })
  ).createWebhook.webhook.id;

  victimImportId = (await victim.client.ok(`mutation($w: ID!) { beginImport(workspaceId: $w, format: AIRFLOW_ENV) { id } }`, { w: victimWorkspace.id })).beginImport.id;
  await victim.client.ok(`mutation($s: ID!) { stageImportBatch(sessionId: $s, seq: 1, content: "staged=postgres://h/d") { batches } }`, { s: victimImportId });

  const intruder = await signUp(anonymous, "intruder");
  const own = await createWorkspace(intruder.client);
  intruders.owner = intruder.client;
  intruders.token = anonymous.as((await createApiToken(intruder.client, own.id, ["READ", "TEST", "WRITE", "RESOLVE"])).token);
});

afterAll(async () => {
  await app.stop();
});

const operations: Record<string, () => [string, Record<string, unknown>]> = {
  updateConnection: () => [`mutation($id: ID!) { updateConnection(id: $id, patch: { description: "x" }) { id } }`, { id: victimConnection.id }],
  rollbackConnection: () => [`mutation($id: ID!) { rollbackConnection(id: $id, version: 1) { id } }`, { id: victimConnection.id }],
  renameConnection: () => [`mutation($id: ID!) { renameConnection(id: $id, newName: "planted") { id } }`, { id: victimConnection.id }],
  deleteConnection: () => [`mutation($id: ID!) { deleteConnection(id: $id, force: true) }`, { id: victimConnection.id }],
  testConnection: () => [`mutation($id: ID!) { testConnection(id: $id) { status } }`, { id: victimConnection.id }],
  "testConnection with a patch": () => [
    `mutation($id: ID!) { testConnection(id: $id, patch: { host: "127.0.0.1" }) { status } }`,
    { id: victimConnection.id },
  ],
  createConnection: () => [
    `mutation($w: ID!) { createConnection(workspaceId: $w, input: { name: "planted", type: "postgres", host: "h", login: "u" }) { id } }`,
    { w: victimWorkspace.id },
  ],
  testConnectionInput: () => [
    `mutation($w: ID!) { testConnectionInput(workspaceId: $w, input: { name: "p", type: "postgres", host: "127.0.0.1", login: "u" }) { status } }`,
    { w: victimWorkspace.id },
  ],
  createApiToken: () => [`mutation($w: ID!) { createApiToken(workspaceId: $w, name: "x", scopes: [RESOLVE]) { token } }`, { w: victimWorkspace.id }],
  revokeApiToken: () => [`mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: victimTokenId }],
  inviteMember: () => [`mutation($w: ID!) { inviteMember(workspaceId: $w, email: "nobody@example.com", role: ADMIN) { token } }`, { w: victimWorkspace.id }],
  revokeInvitation: () => [`mutation($id: ID!) { revokeInvitation(id: $id) { id } }`, { id: victimInvitationId }],
  setMemberRole: () => [`mutation($w: ID!, $u: ID!) { setMemberRole(workspaceId: $w, userId: $u, role: VIEWER) { role } }`, { w: victimWorkspace.id, u: victim.userId }],
  setTestSchedule: () => [`mutation($w: ID!) { setTestSchedule(workspaceId: $w, everyMinutes: 5) { id } }`, { w: victimWorkspace.id }],
  removeTestSchedule: () => [`mutation($w: ID!) { removeTestSchedule(workspaceId: $w) }`, { w: victimWorkspace.id }],
  createWebhook: () => [`mutation($w: ID!) { createWebhook(workspaceId: $w, url: "https://example.com/planted") { secret } }`, { w: victimWorkspace.id }],
  deleteWebhook: () => [`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id: victimWebhookId }],
  removeMember: () => [`mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }`, { w: victimWorkspace.id, u: victim.userId }],
  setConnectionOverride: () => [
    `mutation($id: ID!) { setConnectionOverride(id: $id, environment: "prod", patch: { host: "127.0.0.1", password: "x" }) { id } }`,
    { id: victimConnection.id },
  ],
  removeConnectionOverride: () => [`mutation($id: ID!) { removeConnectionOverride(id: $id, environment: "prod") { id } }`, { id: victimConnection.id }],
  testConnectionIn: () => [`mutation($id: ID!) { testConnectionIn(id: $id, environment: "prod") { status } }`, { id: victimConnection.id }],
  exportBundle: () => [`mutation($w: ID!) { exportBundle(workspaceId: $w, passphrase: "a long enough passphrase") }`, { w: victimWorkspace.id }],
  importBundle: () => [
    `mutation($w: ID!) { importBundle(workspaceId: $w, bundle: "patchbay-bundle.v1.x.y", passphrase: "a long enough passphrase") { applied } }`,
    { w: victimWorkspace.id },
  ],
  beginImport: () => [`mutation($w: ID!) { beginImport(workspaceId: $w, format: AIRFLOW_ENV) { id } }`, { w: victimWorkspace.id }],
  stageImportBatch: () => [`mutation($s: ID!) { stageImportBatch(sessionId: $s, seq: 1, content: "planted=postgres://h/d") { id } }`, { s: victimImportId }],
  commitImport: () => [`mutation($s: ID!) { commitImport(sessionId: $s) { applied } }`, { s: victimImportId }],
  abortImport: () => [`mutation($s: ID!) { abortImport(sessionId: $s) }`, { s: victimImportId }],
  "exportConnections in an environment": () => [
    `query($w: ID!) { exportConnections(workspaceId: $w, format: AIRFLOW_JSON, environment: "prod") }`,
    { w: victimWorkspace.id },
  ],
};

describe.each(["owner", "token"])("another workspace's %s", (who) => {
  it.each(Object.keys(operations))("gets NOT_FOUND from %s", async (name) => {
    const [query, variables] = operations[name]();
    const error = await intruders[who].fails(query, variables);
    expect(error.code).toBe("NOT_FOUND");
  });

  it("cannot see the workspace by slug, nor list it", async () => {
    const data = await intruders[who].ok(`query($s: String!) { workspace(slug: $s) { id } workspaces { slug } }`, { s: victimWorkspace.slug });
    expect(data.workspace).toBeNull();
    expect(data.workspaces.map((w: any) => w.slug)).not.toContain(victimWorkspace.slug);
  });
});

it("left the victim's objects untouched", async () => {
  const data = await victim.client.ok(
    `query($s: String!) { workspace(slug: $s) {
      connections { totalCount nodes { name description version } }
      members { role user { id } }
      apiTokens { id revokedAt }
      invitations { id email status }
      testSchedules { id }
      webhooks { id url }
    } }`,
    { s: victimWorkspace.slug },
  );
  expect(data.workspace.connections).toEqual({ totalCount: 1, nodes: [{ name: "crown_jewels", description: null, version: 1 }] });
  expect(data.workspace.members).toEqual([{ role: "OWNER", user: { id: victim.userId } }]);
  expect(data.workspace.apiTokens).toEqual([{ id: victimTokenId, revokedAt: null }]);
  expect(data.workspace.invitations).toEqual([{ id: victimInvitationId, email: "friend@example.com", status: "PENDING" }]);
  expect(data.workspace.testSchedules).toEqual([]);
  expect(data.workspace.webhooks).toEqual([{ id: victimWebhookId, url: "https://example.com/hook" }]);
  expect(await app.prisma.importSession.findMany({ where: { workspaceId: victimWorkspace.id }, select: { id: true, batches: true } })).toEqual([
    { id: victimImportId, batches: 1 },
  ]);
});
