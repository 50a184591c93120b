/**
 * Code resolving connections by name: who may, what it gets, what it leaves behind (audit,
 * usage), and the delete guard that protects connections in use.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

let app: TestApp;
let anonymous: GraphQLClient;
let owner: SignedUp;
let workspace: { id: string; slug: string };
const people: Record<string, SignedUp> = {};
const tokens: Record<string, GraphQLClient> = {};

const RESOLVE = `query($n: String!, $w: String) { resolveConnection(name: $n, workspace: $w) {
  name type description host port schema login password extra
} }`;

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  people.OWNER = owner;
  workspace = await createWorkspace(owner.client);
  for (const role of ["ADMIN", "MEMBER", "VIEWER"]) {
    people[role] = await signUp(anonymous, role.toLowerCase());
    await addMember(owner.client, workspace.id, people[role].email, role);
  }
  for (const scope of ["READ", "TEST", "WRITE", "RESOLVE"]) {
    tokens[scope] = anonymous.as((await createApiToken(owner.client, workspace.id, [scope], `${scope.toLowerCase()}-token`)).token);
  }
  await createConnection(owner.client, workspace.id, {
    name: "warehouse",
    description: "Reporting replica",
    extra: { sslmode: "require" },
  });
});

afterAll(async () => {
  await app.stop();
});

describe("resolveConnection", () => {
  it("gives a RESOLVE token every field with the secrets, in its own workspace", async () => {
    const data = await tokens.RESOLVE.ok(RESOLVE, { n: "warehouse" });
    expect(data.resolveConnection).toEqual({
      name: "warehouse",
      type: "postgres",
      description: "Reporting replica",
      host: "db.example.com",
      port: 5432,
      schema: "analytics",
      login: "reporter",
      password: "s3cret-Pa55word!",
      extra: { sslmode: "require" },
    });
  });

  it.each(["OWNER", "ADMIN", "MEMBER"])("lets a %s resolve by workspace slug", async (role) => {
    const data = await people[role].client.ok(RESOLVE, { n: "warehouse", w: workspace.slug });
    expect(data.resolveConnection.password).toBe("s3cret-Pa55word!");
  });

  it("refuses a VIEWER and tokens without RESOLVE with FORBIDDEN", async () => {
    expect((await people.VIEWER.client.fails(RESOLVE, { n: "warehouse", w: workspace.slug })).code).toBe("FORBIDDEN");
    for (const scope of ["READ", "TEST", "WRITE"]) {
      expect((await tokens[scope].fails(RESOLVE, { n: "warehouse" })).code).toBe("FORBIDDEN");
    }
  });

  it("asks a person for the workspace and answers NOT_FOUND for a missing name or another workspace", async () => {
    expect(await owner.client.fails(RESOLVE, { n: "warehouse" })).toMatchObject({ code: "BAD_USER_INPUT", field: "workspace" });
    expect((await owner.client.fails(RESOLVE, { n: "nope", w: workspace.slug })).code).toBe("NOT_FOUND");
    const stranger = await signUp(anonymous, "stranger");
    expect((await stranger.client.fails(RESOLVE, { n: "warehouse", w: workspace.slug })).code).toBe("NOT_FOUND");
    const other = await createWorkspace(stranger.client);
    expect((await tokens.RESOLVE.fails(RESOLVE, { n: "warehouse", w: other.slug })).code).toBe("NOT_FOUND");
  });

  it("needs a caller", async () => {
    expect((await anonymous.fails(RESOLVE, { n: "warehouse", w: workspace.slug })).code).toBe("UNAUTHENTICATED");
  });
});

describe("usage and audit", () => {
  it("counts who resolved a connection, sets lastUsedAt and audits each read without the value", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "counted" });
    await tokens.RESOLVE.ok(RESOLVE, { n: "counted" });
    await tokens.RESOLVE.ok(RESOLVE, { n: "counted" });
    await people.MEMBER.client.ok(RESOLVE, { n: "counted", w: workspace.slug });

    const data = await owner.client.ok(
      `query($s: String!) { workspace(slug: $s) { connection(name: "counted") { lastUsedAt usage { actorKind actorId actorName count lastUsedAt } } auditEvents(first: 10) { nodes { action actor targetId details } } } }`,
      { s: workspace.slug },
    );
    const connection = data.workspace.connection;
    expect(connection.lastUsedAt).not.toBeNull();
    const usage = Object.fromEntries(connection.usage.map((u: any) => [u.actorKind, u]));
    expect(usage.API_TOKEN).toMatchObject({ count: 2, actorName: expect.stringContaining("resolve-token") });
    expect(usage.USER).toMatchObject({ count: 1, actorId: people.MEMBER.userId, actorName: expect.stringContaining(people.MEMBER.email) });

    const resolves = data.workspace.auditEvents.nodes.filter((e: any) => e.action === "connection.resolve" && e.targetId === conn.id);
    expect(resolves).toHaveLength(3);
    expect(JSON.stringify(resolves)).not.toContain("s3cret-Pa55word!");
  });
});

describe("deleting a connection in use", () => {
  const DELETE = `mutation($id: ID!, $force: Boolean) { deleteConnection(id: $id, force: $force) }`;

  it("is refused with CONFLICT naming its users, unless forced", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "in_use" });
    await tokens.RESOLVE.ok(RESOLVE, { n: "in_use" });
    const refused = await owner.client.fails(DELETE, { id: conn.id });
    expect(refused.code).toBe("CONFLICT");
    expect(refused.message).toContain("resolve-token");
    expect(refused.extensions.usedBy).toEqual([expect.objectContaining({ actorKind: "API_TOKEN", count: 1 })]);
    expect((await owner.client.ok(DELETE, { id: conn.id, force: true })).deleteConnection).toBe(true);
  });

  it("goes through for a connection nobody resolved", async () => {
    const conn = await createConnection(owner.client, workspace.id);
    expect((await owner.client.ok(DELETE, { id: conn.id })).deleteConnection).toBe(true);
  });
});

describe("upsertConnections", () => {
  const UPSERT = `mutation($w: ID!, $inputs: [ConnectionInput!]!) { upsertConnections(workspaceId: $w, inputs: $inputs) {
    created updated unchanged connections { name version host secretFields }
  } }`;
  const inputs = [
    { name: "sync_a", type: "postgres", host: "a.example.com", login: "u", password: "s3cret-Pa55word!" },
    { name: "sync_b", type: "mysql", host: "b.example.com", port: 3306, login: "u" },
  ];

  it("creates, then changes nothing on a second identical run, then updates what changed", async () => {
    const ws = await createWorkspace(owner.client);
    const first = (await owner.client.ok(UPSERT, { w: ws.id, inputs })).upsertConnections;
    expect(first).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
    const second = (await owner.client.ok(UPSERT, { w: ws.id, inputs })).upsertConnections;
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    expect(second.connections.map((c: any) => c.version)).toEqual([1, 1]);
    const third = (await owner.client.ok(UPSERT, { w: ws.id, inputs: [{ ...inputs[0], password: "rotated-Pa55word#2" }, inputs[1]] }))
      .upsertConnections;
    expect(third).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(third.connections[0]).toMatchObject({ name: "sync_a", version: 2, secretFields: ["password"] });
  });

  it("writes nothing when one input is bad, and names it", async () => {
    const ws = await createWorkspace(owner.client);
    const error = await owner.client.fails(UPSERT, { w: ws.id, inputs: [inputs[0], { ...inputs[1], port: 99999 }] });
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "inputs.1.port" });
    const list = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connections { totalCount } } }`, { s: ws.slug });
    expect(list.workspace.connections.totalCount).toBe(0);
  });

  it("refuses the same name twice in one call", async () => {
    const ws = await createWorkspace(owner.client);
    expect(await owner.client.fails(UPSERT, { w: ws.id, inputs: [inputs[0], inputs[0]] })).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "inputs.1.name",
    });
  });

  it("needs WRITE", async () => {
    expect((await tokens.RESOLVE.fails(UPSERT, { w: workspace.id, inputs })).code).toBe("FORBIDDEN");
  });
});
