/**
 * oauth2 connections in environments, against a real OAuth2 server (oidc-provider, this
 * process, 127.0.0.1) with two confidential clients: the connection uses one, its staging
 * override the other (its own client id and secret). Two Patchbay processes on one database
 * resolve concurrently in both: each environment gets its own token, from its own client,
 * with one token request each; an environment without an override shares the connection's.
 * A refresh token the server rotates goes back to the override that held it, and a failed
 * grant in an environment is recorded on that environment's override; when it turns that
 * environment from SUCCESS to FAILURE, this test's receiver (127.0.0.1) gets the signed webhook.
 */
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { type RunningServer, startServerProcess } from "../support/patchbay-process";
import { type OAuthServer, startOAuthServer } from "../servers/oauth2";

const STAGING = { clientId: "staging-client", clientSecret: "st4ging-s3cret/+&:%" };
const CREATE = `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { id } }`;
const OVERRIDE = `mutation($id: ID!, $e: String!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: $e, patch: $p) { id } }`;
const RESOLVE = `query($e: String) { resolveConnection(name: "reports_api", environment: $e) { login password extra } }`;
const TEST_IN = `mutation($id: ID!, $e: String!) { testConnectionIn(id: $id, environment: $e) { status } }`;
const HOOK = `mutation($w: ID!, $u: String!) { createWebhook(workspaceId: $w, url: $u) { secret } }`;

let server: OAuthServer;
let first: TestApp;
let second: RunningServer;
let secondDir: string;
let owner: SignedUp;
let receiver: Server;
const received: string[] = [];
const signatures: string[] = [];

beforeAll(async () => {
  server = await startOAuthServer({ extraClients: [STAGING] });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push(Buffer.concat(chunks).toString("utf8"));
      signatures.push(String(req.headers["x-patchbay-signature"]));
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  first = await startTestApp();
  secondDir = await mkdtemp(join(tmpdir(), "patchbay-oauth-env-"));
  second = await startServerProcess({ DATABASE_URL: first.databaseUrl, PATCHBAY_MASTER_KEY: first.masterKey, PATCHBAY_DATA_DIR: secondDir });
  owner = await signUp(new GraphQLClient(first.url), "oauth-env-owner");
}, 120_000);

afterAll(async () => {
  await second?.stop();
  await first?.stop();
  await server?.stop();
  await new Promise((r) => receiver?.close(r));
  if (secondDir) await rm(secondDir, { recursive: true, force: true });
});

/** Resolves, trying again only when the database asked to (SERVICE_UNAVAILABLE with a retry-after). */
async function resolve(client: GraphQLClient, environment: string | null): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    const response = await client.request(RESOLVE, { e: environment });
    const error = response.errors?.[0];
    if (!error) return response.data.resolveConnection;
    if (attempt === 3 || error.extensions?.code !== "SERVICE_UNAVAILABLE" || !error.extensions?.retryAfterSeconds) {
      throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
    }
    await new Promise((r) => setTimeout(r, 200 * attempt));
  }
}

async function workspaceWith(extra: Record<string, unknown>, password: string | null = server.clientSecret) {
  const workspace = await createWorkspace(owner.client);
  const input = { name: "reports_api", type: "oauth2", login: server.clientId, password, extra: { token_url: server.tokenUrl, ...extra } };
  const { id } = (await owner.client.ok(CREATE, { w: workspace.id, input })).createConnection;
  const { token } = await createApiToken(owner.client, workspace.id, ["RESOLVE"]);
  return { workspace, id, here: new GraphQLClient(first.url, token), there: new GraphQLClient(second.url, token) };
}

describe("oauth2 in environments", () => {
  it("gives each environment with an override its own token from its own client, one request each across two processes", async () => {
    const { id, here, there } = await workspaceWith({ grant_type: "client_credentials", scopes: server.scope });
    await owner.client.ok(OVERRIDE, { id, e: "staging", p: { login: STAGING.clientId, password: STAGING.clientSecret } });
    const before = { ...server.requestsByClient };
    server.delayMs = 300; // every resolve arrives while the refreshes are under way
    let answers: Array<{ environment: string | null; resolved: any }>;
    try {
      const environments = [null, "staging", "dev"];
      answers = await Promise.all(
        Array.from({ length: 48 }, async (_, i) => {
          const environment = environments[i % 3];
          return { environment, resolved: await resolve(i % 2 === 0 ? here : there, environment) };
        }),
      );
    } finally {
      server.delayMs = 0;
    }
    const tokensOf = (environment: string | null) => new Set(answers.filter((a) => a.environment === environment).map((a) => a.resolved.password));
    const [own, staging, dev] = [tokensOf(null), tokensOf("staging"), tokensOf("dev")];
    expect(own.size).toBe(1);
    expect(staging.size).toBe(1);
    expect([...staging][0]).not.toBe([...own][0]);
    // dev has no override: it is the connection itself, token included.
    expect(dev).toEqual(own);
    const requested = (client: string) => (server.requestsByClient[client] ?? 0) - (before[client] ?? 0);
    expect(requested(server.clientId)).toBe(1);
    expect(requested(STAGING.clientId)).toBe(1);
    for (const { resolved } of answers) {
      expect(JSON.stringify(resolved)).not.toContain(server.clientSecret);
      expect(JSON.stringify(resolved)).not.toContain(STAGING.clientSecret);
    }
    expect(answers.find((a) => a.environment === "staging")!.resolved.login).toBe(STAGING.clientId);
    const rows = await first.prisma.accessToken.findMany({ where: { connectionId: id }, orderBy: { environment: "asc" } });
    expect(rows.map((r) => r.environment)).toEqual(["", "staging"]);
    for (const row of rows) for (const token of [...own, ...staging]) expect(Buffer.from(row.ciphertext).includes(Buffer.from(token))).toBe(false);
  }, 60_000);

  it("writes a rotated refresh token back to the override that held it, and leaves the connection's alone", async () => {
    const own = await server.issueRefreshToken();
    const theirs = await server.issueRefreshToken(STAGING.clientId);
    const { id, here } = await workspaceWith({ grant_type: "refresh_token", refresh_token: own });
    await owner.client.ok(OVERRIDE, { id, e: "staging", p: { login: STAGING.clientId, password: STAGING.clientSecret, extra: { refresh_token: theirs } } });
    const stagingToken = (await resolve(here, "staging")).password;
    expect((await resolve(here, null)).password).not.toBe(stagingToken);
    // Both due again: each refresh must use the rotated token stored for it (a used one is refused).
    await first.prisma.accessToken.updateMany({ where: { connectionId: id }, data: { refreshAt: new Date(Date.now() - 1000) } });
    const again = (await resolve(here, "staging")).password;
    expect(again).not.toBe(stagingToken);
    expect((await resolve(here, null)).password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const audit = await first.prisma.auditEvent.findMany({ where: { action: "connection.refresh_token_rotated", targetId: id } });
    expect(audit.filter((a) => (a.details as any).environment === "staging")).toHaveLength(2);
    expect(audit.filter((a) => (a.details as any).environment === undefined)).toHaveLength(2);
  }, 60_000);

  it("records a failed grant in an environment on its override, not on the connection, and its status change reaches the webhook", async () => {
    const { workspace, id, here } = await workspaceWith({ grant_type: "client_credentials" });
    const hook = (await owner.client.ok(HOOK, { w: workspace.id, u: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook` })).createWebhook;
    await owner.client.ok(OVERRIDE, { id, e: "broken", p: { login: STAGING.clientId, password: STAGING.clientSecret } });
    expect((await owner.client.ok(TEST_IN, { id, e: "broken" })).testConnectionIn.status).toBe("SUCCESS");
    // The environment's secret goes wrong: its token is stale (a new version), and the refresh fails.
    await owner.client.ok(OVERRIDE, { id, e: "broken", p: { password: "not-the-secret" } });
    const response = await here.request(RESOLVE, { e: "broken" });
    expect(response.errors?.[0]?.extensions?.code).toBe("SERVICE_UNAVAILABLE");
    expect(JSON.stringify(response)).not.toContain("not-the-secret");
    const override = await first.prisma.connectionOverride.findFirstOrThrow({ where: { connectionId: id, environment: "broken" } });
    const results = await first.prisma.overrideTestResult.findMany({ where: { overrideId: override.id }, orderBy: { testedAt: "desc" } });
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ status: "FAILURE", errorCode: "AUTH_FAILED" });
    expect(results[0].message).not.toContain("not-the-secret");
    const started = Date.now();
    while (received.length === 0 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(1);
    expect(signatures[0]).toBe(`sha256=${createHmac("sha256", hook.secret).update(received[0]).digest("hex")}`);
    expect(JSON.parse(received[0])).toMatchObject({ connection: { id }, environment: "broken", oldStatus: "SUCCESS", newStatus: "FAILURE", code: "AUTH_FAILED" });
    expect(received[0]).not.toContain("not-the-secret");
    expect(await first.prisma.testResult.count({ where: { connectionId: id } })).toBe(0);
    expect((await resolve(here, null)).password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  }, 60_000);
});
