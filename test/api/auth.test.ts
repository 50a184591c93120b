import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient, responseLog } from "../support/client";
import { createApiToken, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { findSecrets } from "../support/secrets";

let app: TestApp;
let anonymous: GraphQLClient;
let owner: SignedUp;
let workspace: { id: string; slug: string };

const SIGN_UP = `mutation($e: String!, $p: String!, $n: String) { signUp(email: $e, password: $p, name: $n) { token user { id email name } } }`;
const LOG_IN = `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token user { id email } } }`;
const VIEWER = `{ viewer { user { id email } apiToken { name prefix scopes lastUsedAt } workspace { slug } } }`;

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  workspace = await createWorkspace(owner.client);
});

afterAll(async () => {
  expect(findSecrets({ responses: responseLog, logs: app.logs }, ["correct horse battery"])).toEqual([]);
  await app.stop();
});

describe("people", () => {
  it("signs up, logs in and knows who is calling", async () => {
    const email = `Ada.${Date.now()}@Example.com`;
    const up = await anonymous.ok(SIGN_UP, { e: email, p: "a long enough password", n: "Ada" });
    expect(up.signUp.user).toMatchObject({ email: email.toLowerCase(), name: "Ada" });
    const login = await anonymous.ok(LOG_IN, { e: email, p: "a long enough password" });
    expect(login.logIn.user.id).toBe(up.signUp.user.id);
    const viewer = await anonymous.as(login.logIn.token).ok(VIEWER);
    expect(viewer.viewer).toEqual({ user: { id: up.signUp.user.id, email: email.toLowerCase() }, apiToken: null, workspace: null });
  });

  it("stores a slow hash, not the password", async () => {
    const client = new pg.Client({ connectionString: app.databaseUrl });
    await client.connect();
    const { rows } = await client.query(`SELECT "passwordHash" FROM "User" WHERE id = $1`, [owner.userId]);
    await client.end();
    expect(rows[0].passwordHash).toMatch(/^scrypt\$/);
    expect(rows[0].passwordHash).not.toContain("correct horse battery");
  });

  it.each([
    ["a bad email", { e: "not-an-email", p: "long enough password" }, "BAD_USER_INPUT", "email"],
    ["a short password", { e: "short@example.com", p: "short" }, "BAD_USER_INPUT", "password"],
  ])("refuses sign-up with %s", async (_label, variables, code, field) => {
    expect(await anonymous.fails(SIGN_UP, variables)).toMatchObject({ code, field });
  });

  it("refuses a second account for one email, whatever its case", async () => {
    expect(await anonymous.fails(SIGN_UP, { e: owner.email.toUpperCase(), p: "another long password" })).toMatchObject({
      code: "CONFLICT",
      field: "email",
    });
  });

  it("answers a wrong password and an unknown email alike", async () => {
    const wrong = await anonymous.fails(LOG_IN, { e: owner.email, p: "wrong password!!" });
    const unknown = await anonymous.fails(LOG_IN, { e: "nobody@example.com", p: "wrong password!!" });
    expect(wrong).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(unknown.message).toBe(wrong.message);
  });

  it("slows down password guessing with RATE_LIMITED", async () => {
    const target = await signUp(anonymous, "target");
    const codes: string[] = [];
    for (let i = 0; i < 12; i++) codes.push((await anonymous.fails(LOG_IN, { e: target.email, p: `guess number ${i}` })).code);
    expect(codes.slice(0, 10).every((c) => c === "UNAUTHENTICATED")).toBe(true);
    expect(codes.slice(10)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
  });

  it("refuses a tampered or garbage bearer token with UNAUTHENTICATED", async () => {
    const tampered = owner.token.slice(0, -3) + (owner.token.endsWith("AAA") ? "BBB" : "AAA");
    for (const token of [tampered, "garbage", "pbt_nottherightshape_x"]) {
      const response = await anonymous.as(token).request(VIEWER);
      expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
  });

  it("treats no token as anonymous: viewer is empty, workspaces need sign-in", async () => {
    expect((await anonymous.ok(VIEWER)).viewer).toEqual({ user: null, apiToken: null, workspace: null });
    expect((await anonymous.fails(`{ workspaces { id } }`)).code).toBe("UNAUTHENTICATED");
  });
});

describe("API tokens", () => {
  it("shows the token once, in the documented format, and stores only a hash", async () => {
    const data = await owner.client.ok(
      `mutation($w: ID!) { createApiToken(workspaceId: $w, name: "etl", scopes: [READ, RESOLVE]) { token apiToken { id name prefix scopes createdAt expiresAt revokedAt } } }`,
      { w: workspace.id },
    );
    const { token, apiToken } = data.createApiToken;
    expect(token).toMatch(/^pbt_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}$/);
    expect(token.startsWith(apiToken.prefix)).toBe(true);
    expect(apiToken).toMatchObject({ name: "etl", scopes: ["READ", "RESOLVE"], expiresAt: null, revokedAt: null });

    const client = new pg.Client({ connectionString: app.databaseUrl });
    await client.connect();
    const { rows } = await client.query(`SELECT * FROM "ApiToken" WHERE id = $1`, [apiToken.id]);
    await client.end();
    expect(JSON.stringify(rows)).not.toContain(token.slice(apiToken.prefix.length));

    const listed = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { apiTokens { id prefix } } }`, { s: workspace.slug });
    expect(listed.workspace.apiTokens).toContainEqual({ id: apiToken.id, prefix: apiToken.prefix });
    expect(JSON.stringify(listed)).not.toContain(token);
  });

  it("authenticates as its workspace and records lastUsedAt", async () => {
    const { token } = await createApiToken(owner.client, workspace.id, ["READ"], "reader");
    const viewer = await anonymous.as(token).ok(VIEWER);
    expect(viewer.viewer.user).toBeNull();
    expect(viewer.viewer.workspace).toEqual({ slug: workspace.slug });
    expect(viewer.viewer.apiToken).toMatchObject({ name: "reader", scopes: ["READ"] });
    expect(viewer.viewer.apiToken.lastUsedAt).not.toBeNull();
  });

  it("stops working once revoked", async () => {
    const { token, id } = await createApiToken(owner.client, workspace.id, ["READ"]);
    expect((await anonymous.as(token).request(VIEWER)).errors).toBeUndefined();
    const revoked = await owner.client.ok(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id });
    expect(revoked.revokeApiToken.revokedAt).not.toBeNull();
    expect((await anonymous.as(token).request(VIEWER)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("stops working once expired, and refuses an expiry in the past", async () => {
    const create = `mutation($w: ID!, $at: DateTime) { createApiToken(workspaceId: $w, name: "short", scopes: [READ], expiresAt: $at) { token } }`;
    expect(await owner.client.fails(create, { w: workspace.id, at: new Date(Date.now() - 1000).toISOString() })).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "expiresAt",
    });
    const { createApiToken: created } = await owner.client.ok(create, { w: workspace.id, at: new Date(Date.now() + 1500).toISOString() });
    expect((await anonymous.as(created.token).request(VIEWER)).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1700));
    expect((await anonymous.as(created.token).request(VIEWER)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("rejects a token with a one-character typo", async () => {
    const { token } = await createApiToken(owner.client, workspace.id, ["READ"]);
    const typo = token.slice(0, 10) + (token[10] === "a" ? "b" : "a") + token.slice(11);
    expect((await anonymous.as(typo).request(VIEWER)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("cannot administer: no tokens, no members, no new workspaces", async () => {
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "TEST", "WRITE", "RESOLVE"]);
    const client = anonymous.as(token);
    expect((await client.fails(`mutation($w: ID!) { createApiToken(workspaceId: $w, name: "x", scopes: [READ]) { token } }`, { w: workspace.id })).code).toBe("FORBIDDEN");
    expect((await client.fails(`mutation { createWorkspace(slug: "tok-ws", name: "x") { id } }`)).code).toBe("FORBIDDEN");
  });
});

describe("workspaces", () => {
  it("makes the creator OWNER and lists what the caller belongs to", async () => {
    const ws = await createWorkspace(owner.client);
    const data = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { slug myRole members { role user { email } } } workspaces { slug } }`, { s: ws.slug });
    expect(data.workspace).toEqual({ slug: ws.slug, myRole: "OWNER", members: [{ role: "OWNER", user: { email: owner.email } }] });
    expect(data.workspaces.map((w: any) => w.slug)).toContain(ws.slug);
  });

  it("refuses a bad or taken slug", async () => {
    const create = `mutation($s: String!) { createWorkspace(slug: $s, name: "X") { id } }`;
    expect(await owner.client.fails(create, { s: "Has Spaces" })).toMatchObject({ code: "BAD_USER_INPUT", field: "slug" });
    expect(await owner.client.fails(create, { s: workspace.slug })).toMatchObject({ code: "CONFLICT", field: "slug" });
  });
});
