/**
 * The oauth2 type against a real authorization server (oidc-provider, started here on
 * 127.0.0.1): the test performs the grant; resolving hands out a current access token, never
 * the client secret or the refresh token; a rotated refresh token is stored and used next; a
 * failed refresh is a failed test result; and two Patchbay processes under 50 concurrent
 * resolves ask the server for a token exactly once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAdapter } from "../../src/adapters/registry";
import type { ConnectionSettings } from "../../src/adapters/types";
import { freePort } from "../../src/net/free-port";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { type RunningServer, startServerProcess } from "../support/patchbay-process";
import { type OAuthServer, startOAuthServer } from "../servers/oauth2";
import { testContext } from "./support/context";
import { expectFailure } from "./support/outcome";

const oauth2 = getAdapter("oauth2")!;
let server: OAuthServer;

beforeAll(async () => {
  server = await startOAuthServer();
});

afterAll(async () => {
  await server?.stop();
});

function clientCredentials(overrides: Partial<ConnectionSettings["extra"]> = {}, secret = server.clientSecret): ConnectionSettings {
  return {
    host: null,
    port: null,
    schema: null,
    login: server.clientId,
    password: secret,
    extra: { token_url: server.tokenUrl, grant_type: "client_credentials", scopes: server.scope, ...overrides },
  };
}

describe("the oauth2 test", () => {
  it("performs the client-credentials grant and says until when the token is valid", async () => {
    const outcome = await oauth2.test!(clientCredentials(), testContext());
    expect(outcome).toMatchObject({ ok: true, message: expect.stringMatching(/client_credentials grant returned a Bearer access token, valid until 20/) });
  });

  it("sends the client secret in the form body when asked (client_secret_post)", async () => {
    const outcome = await oauth2.test!(clientCredentials({ client_auth: "post" }), testContext());
    expect(outcome.ok).toBe(true);
  });

  it("answers AUTH_FAILED for a wrong client secret, naming the OAuth2 error and not the secret", async () => {
    const message = expectFailure(await oauth2.test!(clientCredentials({}, "wrong-secret-123"), testContext()), "AUTH_FAILED", "wrong-secret-123");
    expect(message).toMatch(/invalid_client/);
    expect(message).not.toMatch(/client authentication failed/); // the server's own words are not repeated
  });

  it("answers CONNECTION_REFUSED when nothing listens at the token URL", async () => {
    const port = await freePort();
    const outcome = await oauth2.test!(clientCredentials({ token_url: `http://127.0.0.1:${port}/token` }), testContext());
    expectFailure(outcome, "CONNECTION_REFUSED", server.clientSecret);
  });

  it("answers SECRET_REQUIRED for the client-credentials grant without a secret, before sending anything", async () => {
    const before = server.requests.client_credentials ?? 0;
    expectFailure(await oauth2.test!({ ...clientCredentials(), password: null }, testContext()), "SECRET_REQUIRED");
    expect(server.requests.client_credentials ?? 0).toBe(before);
  });

  it("uses a refresh token once: the server rotates it, and the used one is refused with invalid_grant", async () => {
    const refresh = await server.issueRefreshToken();
    const settings = clientCredentials({ grant_type: "refresh_token", refresh_token: refresh, scopes: null });
    const first = await oauth2.test!(settings, testContext());
    expect(first).toMatchObject({ ok: true, message: expect.stringMatching(/rotated the refresh token/) });
    const again = expectFailure(await oauth2.test!(settings, testContext()), "AUTH_FAILED", refresh);
    expect(again).toMatch(/invalid_grant/);
  });

  it("refuses a token URL with credentials or a non-http scheme when saving", () => {
    const problems = (url: string) => oauth2.validate!(clientCredentials({ token_url: url })).map((p) => p.field);
    expect(problems("https://user:pw@auth.example.com/token")).toEqual(["extra.token_url"]);
    expect(problems("file:///etc/passwd")).toEqual(["extra.token_url"]);
    expect(problems("https://auth.example.com/token?x=1")).toEqual(["extra.token_url"]);
    expect(oauth2.validate!(clientCredentials({ grant_type: "refresh_token" })).map((p) => p.field)).toEqual(["extra.refresh_token"]);
  });
});

const RESOLVE = `query { resolveConnection(name: "reports_api") { password extra airflowJson } }`;
const CREATE = `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { id } }`;

function input(extra: Record<string, unknown>, password: string | null = server.clientSecret) {
  return { name: "reports_api", type: "oauth2", login: server.clientId, password, extra: { token_url: server.tokenUrl, ...extra } };
}

describe("resolving an oauth2 connection", () => {
  let app: TestApp;
  let owner: SignedUp;

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUp(new GraphQLClient(app.url), "oauth-owner");
  });

  afterAll(async () => {
    await app?.stop();
  });

  async function workspaceWith(extra: Record<string, unknown>, password?: string | null) {
    const workspace = await createWorkspace(owner.client);
    const { id } = (await owner.client.ok(CREATE, { w: workspace.id, input: input(extra, password) })).createConnection;
    const resolver = new GraphQLClient(app.url).as((await createApiToken(owner.client, workspace.id, ["RESOLVE"])).token);
    return { workspace, id, resolver };
  }

  it("hands out a current access token and its expiry, never the client secret, and reuses it while fresh", async () => {
    const { resolver } = await workspaceWith({ grant_type: "client_credentials", scopes: server.scope });
    const before = server.requests.client_credentials ?? 0;
    const first = (await resolver.ok(RESOLVE)).resolveConnection;
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(first.password).not.toBe(server.clientSecret);
    expect(JSON.stringify(first)).not.toContain(server.clientSecret);
    expect(new Date(first.extra.expires_at).getTime()).toBeGreaterThan(Date.now() + 500_000);
    expect(first.extra).toMatchObject({ token_type: "Bearer", token_url: server.tokenUrl });
    expect(first.airflowJson.password).toBe(first.password);
    const second = (await resolver.ok(RESOLVE)).resolveConnection;
    expect(second.password).toBe(first.password);
    expect((server.requests.client_credentials ?? 0) - before).toBe(1);
    expect(app.logs.join("\n")).not.toContain(first.password);
  });

  it("stores the rotated refresh token sealed and refreshes with it when the token is due", async () => {
    // A token that lives 2 s is due for refresh at 80% of its life.
    const shortLived = await startOAuthServer({ accessTokenTtlSeconds: 2 });
    try {
      const refresh = await shortLived.issueRefreshToken();
      const workspace = await createWorkspace(owner.client);
      await owner.client.ok(CREATE, {
        w: workspace.id,
        input: { ...input({ grant_type: "refresh_token", refresh_token: refresh }), extra: { token_url: shortLived.tokenUrl, grant_type: "refresh_token", refresh_token: refresh } },
      });
      const resolver = new GraphQLClient(app.url).as((await createApiToken(owner.client, workspace.id, ["RESOLVE"])).token);
      const first = (await resolver.ok(RESOLVE)).resolveConnection;
      expect(JSON.stringify(first)).not.toContain(refresh);
      expect(first.extra).not.toHaveProperty("refresh_token");
      await new Promise((resolve) => setTimeout(resolve, 1_800));
      // The original refresh token was used up; only the stored, rotated one can work now.
      const second = (await resolver.ok(RESOLVE)).resolveConnection;
      expect(second.password).not.toBe(first.password);
      expect(shortLived.requests.refresh_token).toBe(2);
      const rows = await app.prisma.connection.findMany({ where: { workspaceId: workspace.id } });
      expect(Buffer.from(rows[0].secretCiphertext!).toString("latin1")).not.toContain(refresh);
    } finally {
      await shortLived.stop();
    }
  });

  it("records a failed refresh as a failed test result and fails the resolve with SERVICE_UNAVAILABLE", async () => {
    const { workspace, resolver } = await workspaceWith({ grant_type: "client_credentials" }, "not-the-secret-42");
    const error = await resolver.fails(RESOLVE);
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(error.message).toMatch(/AUTH_FAILED.*invalid_client/);
    expect(error.message).not.toContain("not-the-secret-42");
    const page = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "reports_api") { lastTest { status errorCode message } } } }`, {
      s: workspace.slug,
    });
    expect(page.workspace.connection.lastTest).toMatchObject({ status: "FAILURE", errorCode: "AUTH_FAILED", message: expect.stringMatching(/^Refreshing the access token/) });
  });

  it("tests by performing the grant", async () => {
    const { id } = await workspaceWith({ grant_type: "client_credentials", scopes: server.scope });
    const result = (await owner.client.ok(`mutation($id: ID!) { testConnection(id: $id) { status message } }`, { id })).testConnection;
    expect(result).toMatchObject({ status: "SUCCESS", message: expect.stringMatching(/client_credentials grant/) });
  });
});

/**
 * Resolves, retrying when the database is busy (SERVICE_UNAVAILABLE with retryAfterSeconds, as
 * a client is told to): 50 resolves at once on a loaded two-core machine can outwait the pool.
 * A failed token refresh is never retried here (it has no retryAfterSeconds).
 */
async function resolveRetrying(client: GraphQLClient): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    const response = await client.request(RESOLVE);
    const error = response.errors?.[0];
    if (!error) return response.data;
    if (attempt === 3 || error.extensions?.code !== "SERVICE_UNAVAILABLE" || !error.extensions?.retryAfterSeconds) {
      throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
}

describe("two processes resolving one oauth2 connection", () => {
  let first: TestApp;
  let second: RunningServer;
  let secondDir: string;

  beforeAll(async () => {
    first = await startTestApp();
    secondDir = await mkdtemp(join(tmpdir(), "patchbay-oauth-"));
    second = await startServerProcess({ DATABASE_URL: first.databaseUrl, PATCHBAY_MASTER_KEY: first.masterKey, PATCHBAY_DATA_DIR: secondDir });
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    if (secondDir) await rm(secondDir, { recursive: true, force: true });
  });

  it("make exactly one token request for 50 concurrent resolves", async () => {
    const owner = await signUp(new GraphQLClient(first.url), "oauth-two");
    const workspace = await createWorkspace(owner.client);
    await owner.client.ok(CREATE, { w: workspace.id, input: input({ grant_type: "client_credentials", scopes: server.scope }) });
    const { token } = await createApiToken(owner.client, workspace.id, ["RESOLVE"]);
    const here = new GraphQLClient(first.url, token);
    const there = new GraphQLClient(second.url, token);
    const before = server.requests.client_credentials ?? 0;
    // The server answers slowly, so every resolve arrives while the one refresh is under way.
    server.delayMs = 300;
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => resolveRetrying(i % 2 === 0 ? here : there)));
      const tokens = new Set(answers.map((a) => a.resolveConnection.password));
      expect(tokens.size).toBe(1);
      expect((server.requests.client_credentials ?? 0) - before).toBe(1);
    } finally {
      server.delayMs = 0;
    }
  });
});
