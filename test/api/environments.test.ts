/**
 * Environments: one connection name, different values per environment. Overrides of plain
 * fields and secrets, resolving in an environment (GraphQL and REST) with unbound and bound
 * tokens, the repointing rule over what an environment sees, testConnectionIn against a real
 * PostgreSQL with its own lastTest, versions and the audit trail.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { CONNECTION_FIELDS, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { createPgTarget, type PgTarget } from "../support/pg-target";
import { findSecrets } from "../support/secrets";

const BASE_PASSWORD = "s3cret-Pa55word!";
const PROD_PASSWORD = "rotated-Pa55word#2";

const OVERRIDES = `overrides { environment host port schema login extra secretFields lastTest { status errorCode message } }`;
const SET = `mutation($id: ID!, $e: String!, $p: ConnectionPatch!, $v: Int) {
  setConnectionOverride(id: $id, environment: $e, patch: $p, expectedVersion: $v) { ${CONNECTION_FIELDS} ${OVERRIDES} }
}`;
const REMOVE = `mutation($id: ID!, $e: String!, $v: Int) { removeConnectionOverride(id: $id, environment: $e, expectedVersion: $v) { version ${OVERRIDES} } }`;
const RESOLVE = `query($n: String!, $w: String, $e: String) { resolveConnection(name: $n, workspace: $w, environment: $e) {
  name type host port schema login password extra airflowUri
} }`;
const TEST_IN = `mutation($id: ID!, $e: String!) { testConnectionIn(id: $id, environment: $e) { id status errorCode message } }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { status errorCode } }`;
const UPDATE = `mutation($id: ID!, $p: ConnectionPatch!) { updateConnection(id: $id, patch: $p) { version host } }`;
const TOKEN = `mutation($w: ID!, $s: [TokenScope!]!, $e: String) {
  createApiToken(workspaceId: $w, name: "bound", scopes: $s, environment: $e) { token apiToken { id environment } }
}`;

let app: TestApp;
let anonymous: GraphQLClient;
let owner: SignedUp;
let workspace: { id: string; slug: string };

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  workspace = await createWorkspace(owner.client);
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  const audit = await client.query(`SELECT details::text AS d FROM "AuditEvent"`);
  const tests = await client.query(`SELECT message, "serverVersion" FROM "OverrideTestResult"`);
  const overrides = await client.query(`SELECT host, login, extra::text, "secretCiphertext"::text AS c FROM "ConnectionOverride"`);
  await client.end();
  expect(
    findSecrets({
      logs: app.logs,
      audit: audit.rows.map((r) => r.d),
      testResults: tests.rows.map((r) => JSON.stringify(r)),
      overrideRows: overrides.rows.map((r) => JSON.stringify(r)),
    }),
  ).toEqual([]);
  await app.stop();
});

async function tokenFor(scopes: string[], environment?: string): Promise<{ client: GraphQLClient; token: string; apiToken: any }> {
  const data = (await owner.client.ok(TOKEN, { w: workspace.id, s: scopes, e: environment ?? null })).createApiToken;
  return { client: anonymous.as(data.token), token: data.token, apiToken: data.apiToken };
}

async function restResolve(token: string, name: string, query = ""): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}/api/v1/connections/${name}${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

describe("overrides", () => {
  it("replace the fields they hold, secrets included, and leave the rest to the connection", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "warehouse", extra: { sslmode: "disable", application_name: "pb" } });
    const set = (
      await owner.client.ok(SET, {
        id: conn.id,
        e: "prod",
        p: { host: "prod-db.example.com", login: "prod_reader", password: PROD_PASSWORD, extra: { sslmode: "require" } },
        v: conn.version,
      })
    ).setConnectionOverride;
    // A change of an override is a change of its connection: a new version.
    expect(set.version).toBe(conn.version + 1);
    expect(set.host).toBe("db.example.com");
    expect(set.overrides).toEqual([
      {
        environment: "prod",
        host: "prod-db.example.com",
        port: null,
        schema: null,
        login: "prod_reader",
        extra: { sslmode: "require" },
        secretFields: ["password"],
        lastTest: null,
      },
    ]);

    const prod = (await owner.client.ok(RESOLVE, { n: "warehouse", w: workspace.slug, e: "prod" })).resolveConnection;
    expect(prod).toMatchObject({
      host: "prod-db.example.com",
      port: 5432,
      schema: "analytics",
      login: "prod_reader",
      password: PROD_PASSWORD,
      extra: { sslmode: "require", application_name: "pb" },
    });
    expect(prod.airflowUri).toContain("prod-db.example.com");
    const own = (await owner.client.ok(RESOLVE, { n: "warehouse", w: workspace.slug })).resolveConnection;
    expect(own).toMatchObject({ host: "db.example.com", login: "reporter", password: BASE_PASSWORD, extra: { sslmode: "disable" } });
    // An environment without an override of this connection sees the connection's own values.
    const dev = (await owner.client.ok(RESOLVE, { n: "warehouse", w: workspace.slug, e: "dev" })).resolveConnection;
    expect(dev).toMatchObject({ host: "db.example.com", password: BASE_PASSWORD });

    const environments = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { environments } }`, { s: workspace.slug });
    expect(environments.workspace.environments).toEqual(["prod"]);
  });

  it("keep stored secrets when absent, drop a field back to the connection's with null, and secret extras too", async () => {
    const conn = await createConnection(owner.client, workspace.id, {
      name: "partner_api",
      type: "http",
      host: "api.example.com",
      port: null,
      schema: "https",
      login: null,
      password: null,
      extra: { auth_type: "bearer", bearer_token: "base-bearer-token" },
    });
    await owner.client.ok(SET, { id: conn.id, e: "staging", p: { host: "staging.example.com", extra: { bearer_token: "staging-bearer-token" } } });
    let staging = (await owner.client.ok(RESOLVE, { n: "partner_api", w: workspace.slug, e: "staging" })).resolveConnection;
    expect(staging.extra).toMatchObject({ auth_type: "bearer", bearer_token: "staging-bearer-token" });
    expect(staging.host).toBe("staging.example.com");

    // Only the host changes: the override's bearer token is kept (the owner may resolve it).
    const listed = (await owner.client.ok(SET, { id: conn.id, e: "staging", p: { host: null } })).setConnectionOverride;
    expect(listed.overrides[0]).toMatchObject({ host: null, secretFields: ["extra.bearer_token"] });
    staging = (await owner.client.ok(RESOLVE, { n: "partner_api", w: workspace.slug, e: "staging" })).resolveConnection;
    expect(staging).toMatchObject({ host: "api.example.com", extra: { bearer_token: "staging-bearer-token" } });

    // Clearing the last overridden field leaves no override at all.
    const cleared = (await owner.client.ok(SET, { id: conn.id, e: "staging", p: { extra: { bearer_token: null } } })).setConnectionOverride;
    expect(cleared.overrides).toEqual([]);
    staging = (await owner.client.ok(RESOLVE, { n: "partner_api", w: workspace.slug, e: "staging" })).resolveConnection;
    expect(staging.extra.bearer_token).toBe("base-bearer-token");
  });

  it("refuse what belongs to the connection, bad environment names, stale versions and other workspaces", async () => {
    const conn = await createConnection(owner.client, workspace.id);
    expect(await owner.client.fails(SET, { id: conn.id, e: "prod", p: { name: "renamed" } })).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    expect(await owner.client.fails(SET, { id: conn.id, e: "prod", p: { port: 70000 } })).toMatchObject({ code: "BAD_USER_INPUT", field: "port" });
    for (const bad of ["", "__proto__", "a b", "x".repeat(65), "prod/../dev"]) {
      expect(await owner.client.fails(SET, { id: conn.id, e: bad, p: { host: "h" } })).toMatchObject({ code: "BAD_USER_INPUT", field: "environment" });
    }
    // NUL is refused before any resolver runs (src/graphql/input-guard.ts).
    expect((await owner.client.fails(SET, { id: conn.id, e: "prod\u0000", p: { host: "h" } })).code).toBe("BAD_USER_INPUT");
    expect((await owner.client.fails(SET, { id: conn.id, e: "prod", p: { host: "h.example.com" }, v: conn.version + 5 })).code).toBe("CONFLICT");

    const stranger = await signUp(anonymous, "stranger");
    await createWorkspace(stranger.client);
    expect((await stranger.client.fails(SET, { id: conn.id, e: "prod", p: { host: "h.example.com" } })).code).toBe("NOT_FOUND");
    expect((await stranger.client.fails(REMOVE, { id: conn.id, e: "prod" })).code).toBe("NOT_FOUND");
    expect((await stranger.client.fails(TEST_IN, { id: conn.id, e: "prod" })).code).toBe("NOT_FOUND");
  });

  it("are removed as a new version, and the environment falls back to the connection", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "removable" });
    const set = (await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod.example.com" } })).setConnectionOverride;
    const removed = (await owner.client.ok(REMOVE, { id: conn.id, e: "prod", v: set.version })).removeConnectionOverride;
    expect(removed).toMatchObject({ version: set.version + 1, overrides: [] });
    const prod = (await owner.client.ok(RESOLVE, { n: "removable", w: workspace.slug, e: "prod" })).resolveConnection;
    expect(prod.host).toBe("db.example.com");
    const audit = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { auditEvents(first: 20) { nodes { action targetId details } } } }`, {
      s: workspace.slug,
    });
    const mine = audit.workspace.auditEvents.nodes.filter((e: any) => e.targetId === conn.id);
    expect(mine.map((e: any) => e.action)).toEqual(
      expect.arrayContaining(["connection.override_set", "connection.override_remove", "connection.resolve"]),
    );
    expect(mine.find((e: any) => e.action === "connection.override_set").details).toMatchObject({ environment: "prod", changed: ["host"] });
    expect(mine.find((e: any) => e.action === "connection.resolve").details).toMatchObject({ environment: "prod" });
  });
});

describe("tokens and environments", () => {
  it("an unbound token names any environment; a bound one resolves its own and may not name another", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "bound_target" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod.example.com", password: PROD_PASSWORD } });

    const unbound = await tokenFor(["RESOLVE"]);
    expect((await unbound.client.ok(RESOLVE, { n: "bound_target", e: "prod" })).resolveConnection).toMatchObject({
      host: "prod.example.com",
      password: PROD_PASSWORD,
    });
    expect((await unbound.client.ok(RESOLVE, { n: "bound_target" })).resolveConnection.host).toBe("db.example.com");

    const bound = await tokenFor(["RESOLVE", "TEST", "WRITE"], "prod");
    expect(bound.apiToken.environment).toBe("prod");
    expect((await bound.client.ok(RESOLVE, { n: "bound_target" })).resolveConnection).toMatchObject({ host: "prod.example.com", password: PROD_PASSWORD });
    expect((await bound.client.ok(RESOLVE, { n: "bound_target", e: "prod" })).resolveConnection.host).toBe("prod.example.com");
    expect((await bound.client.fails(RESOLVE, { n: "bound_target", e: "staging" })).code).toBe("FORBIDDEN");
    expect((await bound.client.fails(TEST_IN, { id: conn.id, e: "staging" })).code).toBe("FORBIDDEN");
    expect((await bound.client.fails(SET, { id: conn.id, e: "staging", p: { host: "s.example.com", password: "x" } })).code).toBe("FORBIDDEN");
    expect((await owner.client.fails(TOKEN, { w: workspace.id, s: ["READ"], e: "no spaces" })).field).toBe("environment");

    const listed = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { apiTokens { id environment } } }`, { s: workspace.slug });
    expect(listed.workspace.apiTokens.find((t: any) => t.id === bound.apiToken.id).environment).toBe("prod");
  });

  it("REST takes ?environment=, and a bound token's other environment is 403", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "rest_target" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod.example.com", password: PROD_PASSWORD } });
    const unbound = await tokenFor(["RESOLVE"]);
    const prod = await restResolve(unbound.token, "rest_target", "?environment=prod");
    expect(prod.status).toBe(200);
    expect(prod.body).toMatchObject({ host: "prod.example.com", password: PROD_PASSWORD, schema: "analytics" });
    expect((await restResolve(unbound.token, "rest_target")).body.host).toBe("db.example.com");
    const uri = await fetch(`${app.url}/api/v1/connections/rest_target?environment=prod&format=uri`, { headers: { authorization: `Bearer ${unbound.token}` } });
    expect(await uri.text()).toContain("@prod.example.com:5432/analytics");
    expect((await restResolve(unbound.token, "rest_target", "?environment=a%20b")).body.error).toMatchObject({ code: "BAD_USER_INPUT", field: "environment" });

    const bound = await tokenFor(["RESOLVE"], "prod");
    expect((await restResolve(bound.token, "rest_target")).body.host).toBe("prod.example.com");
    const other = await restResolve(bound.token, "rest_target", "?environment=dev");
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe("FORBIDDEN");
  });
});

describe("the repointing rule in environments", () => {
  it("a WRITE-only token may not send the connection's secrets to a new host through an override", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "repoint_target" });
    const writer = await tokenFor(["WRITE", "READ"]);
    // The prod environment would send the connection's password to the new host.
    expect(await writer.client.fails(SET, { id: conn.id, e: "prod", p: { host: "attacker.example.com" } })).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "password",
    });
    // Typing the password again for that environment is allowed.
    const set = (await writer.client.ok(SET, { id: conn.id, e: "prod", p: { host: "attacker.example.com", password: "typed-again" } }))
      .setConnectionOverride;
    expect(set.overrides[0]).toMatchObject({ host: "attacker.example.com", secretFields: ["password"] });
    // A plain change that does not move the secrets needs no resolve right.
    await writer.client.ok(SET, { id: conn.id, e: "prod", p: { schema: "other_db" } });

    // Moving the connection itself would move staging's own password with it.
    const staging = await createConnection(owner.client, workspace.id, { name: "repoint_base" });
    await owner.client.ok(SET, { id: staging.id, e: "staging", p: { password: PROD_PASSWORD } });
    expect(await writer.client.fails(UPDATE, { id: staging.id, p: { host: "attacker.example.com", password: "typed-again" } })).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "overrides.staging.password",
    });
    // The owner may (they may read that password anyway).
    expect((await owner.client.ok(UPDATE, { id: staging.id, p: { host: "new.example.com" } })).updateConnection.host).toBe("new.example.com");
  });
});

describe("testConnectionIn", () => {
  let target: PgTarget;
  beforeAll(async () => {
    target = await createPgTarget(PROD_PASSWORD);
  });

  it("tests an environment's values and records the result on its override, apart from the connection's", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "tested", ...target, password: BASE_PASSWORD });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { password: PROD_PASSWORD } });
    await owner.client.ok(SET, { id: conn.id, e: "staging", p: { schema: "no_such_db" } });

    expect((await owner.client.ok(TEST, { id: conn.id })).testConnection).toMatchObject({ status: "FAILURE", errorCode: "AUTH_FAILED" });
    const prod = (await owner.client.ok(TEST_IN, { id: conn.id, e: "prod" })).testConnectionIn;
    expect(prod).toMatchObject({ status: "SUCCESS", errorCode: null });
    const staging = (await owner.client.ok(TEST_IN, { id: conn.id, e: "staging" })).testConnectionIn;
    expect(staging.status).toBe("FAILURE");

    const read = await owner.client.ok(
      `query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) { lastTest { status errorCode } ${OVERRIDES} } } }`,
      { s: workspace.slug, n: "tested" },
    );
    const connection = read.workspace.connection;
    expect(connection.lastTest).toMatchObject({ status: "FAILURE", errorCode: "AUTH_FAILED" });
    expect(connection.overrides.map((o: any) => [o.environment, o.lastTest?.status])).toEqual([
      ["prod", "SUCCESS"],
      ["staging", "FAILURE"],
    ]);

    // A TEST token may test; a VIEWER-level READ token may not.
    const tester = await tokenFor(["TEST"]);
    expect((await tester.client.ok(TEST_IN, { id: conn.id, e: "prod" })).testConnectionIn.status).toBe("SUCCESS");
    const reader = await tokenFor(["READ"]);
    expect((await reader.client.fails(TEST_IN, { id: conn.id, e: "prod" })).code).toBe("FORBIDDEN");
  });
});

describe("exporting one environment", () => {
  const EXPORT = `query($w: ID!, $f: ExportFormat!, $s: Boolean, $e: String) { exportConnections(workspaceId: $w, format: $f, includeSecrets: $s, environment: $e) }`;

  it("writes a plain Airflow file of the environment's values, which imports as it is", async () => {
    const own = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, own.id, { name: "exported", extra: { sslmode: "disable" } });
    await createConnection(owner.client, own.id, { name: "untouched" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod.example.com", password: PROD_PASSWORD, extra: { sslmode: "require" } } });

    const file = JSON.parse((await owner.client.ok(EXPORT, { w: own.id, f: "AIRFLOW_JSON", s: true, e: "prod" })).exportConnections);
    expect(Object.keys(file)).toEqual(["exported", "untouched"]);
    expect(file.exported).toMatchObject({ conn_type: "postgres", host: "prod.example.com", login: "reporter", password: PROD_PASSWORD, schema: "analytics", port: 5432 });
    expect(JSON.parse(file.exported.extra)).toEqual({ sslmode: "require" });
    expect(file.untouched).toMatchObject({ host: "db.example.com", password: BASE_PASSWORD });
    // Nothing Airflow does not know: no environment, no override.
    expect(Object.keys(file.exported).sort()).toEqual(["conn_type", "description", "extra", "host", "login", "password", "port", "schema"]);

    const stubs = JSON.parse((await owner.client.ok(EXPORT, { w: own.id, f: "AIRFLOW_JSON", e: "prod" })).exportConnections);
    expect(stubs.exported.host).toBe("prod.example.com");
    expect(JSON.stringify(stubs)).not.toContain(PROD_PASSWORD);

    const elsewhere = await createWorkspace(owner.client);
    const imported = await owner.client.ok(
      `mutation($w: ID!, $c: String!) { importConnections(workspaceId: $w, format: AIRFLOW_JSON, content: $c) { applied } }`,
      { w: elsewhere.id, c: JSON.stringify(file) },
    );
    expect(imported.importConnections.applied).toBe(true);
    const resolved = (await owner.client.ok(RESOLVE, { n: "exported", w: elsewhere.slug })).resolveConnection;
    expect(resolved).toMatchObject({ host: "prod.example.com", password: PROD_PASSWORD, extra: { sslmode: "require" } });

    const bound = await tokenFor(["READ"], "prod");
    expect((await bound.client.fails(EXPORT, { w: workspace.id, f: "AIRFLOW_JSON", e: "dev" })).code).toBe("FORBIDDEN");
  });
});

describe("importing into one environment", () => {
  const EXPORT = `query($w: ID!, $e: String) { exportConnections(workspaceId: $w, format: AIRFLOW_JSON, includeSecrets: true, environment: $e) }`;
  const IMPORT = `mutation($w: ID!, $c: String!, $e: String, $o: OnConflict, $d: Boolean) {
    importConnections(workspaceId: $w, format: AIRFLOW_JSON, content: $c, environment: $e, onConflict: $o, dryRun: $d) { applied lines { name outcome message } }
  }`;

  it("turns what differs from each connection into its override, and a round trip changes nothing", async () => {
    const own = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, own.id, { name: "roundtrip" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod.example.com", password: PROD_PASSWORD } });
    const file = (await owner.client.ok(EXPORT, { w: own.id, e: "prod" })).exportConnections;

    // The same values again: nothing to do.
    const again = (await owner.client.ok(IMPORT, { w: own.id, c: file, e: "prod" })).importConnections;
    expect(again).toEqual({ applied: true, lines: [{ name: "roundtrip", outcome: "UNCHANGED", message: null }] });

    // Into staging, which has no values yet: the override holds only what differs.
    const dry = (await owner.client.ok(IMPORT, { w: own.id, c: file, e: "staging", d: true })).importConnections;
    expect(dry).toEqual({ applied: false, lines: [{ name: "roundtrip", outcome: "CREATED", message: null }] });
    expect((await owner.client.ok(IMPORT, { w: own.id, c: file, e: "staging" })).importConnections.applied).toBe(true);
    const listed = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "roundtrip") { ${OVERRIDES} } } }`, { s: own.slug });
    expect(listed.workspace.connection.overrides.find((o: any) => o.environment === "staging")).toMatchObject({
      host: "prod.example.com",
      port: null,
      schema: null,
      login: null,
      secretFields: ["password"],
    });
    const staging = (await owner.client.ok(RESOLVE, { n: "roundtrip", w: own.slug, e: "staging" })).resolveConnection;
    expect(staging).toMatchObject({ host: "prod.example.com", password: PROD_PASSWORD, login: "reporter" });
    expect((await owner.client.ok(RESOLVE, { n: "roundtrip", w: own.slug })).resolveConnection.host).toBe("db.example.com");

    // Other values for an environment that has some: FAIL by default, all or nothing.
    const changed = JSON.stringify({ ...JSON.parse(file), roundtrip: { ...JSON.parse(file).roundtrip, host: "other.example.com" } });
    const refused = (await owner.client.ok(IMPORT, { w: own.id, c: changed, e: "prod" })).importConnections;
    expect(refused).toMatchObject({ applied: false, lines: [{ name: "roundtrip", outcome: "ERROR" }] });
    const overwritten = (await owner.client.ok(IMPORT, { w: own.id, c: changed, e: "prod", o: "OVERWRITE" })).importConnections;
    expect(overwritten).toMatchObject({ applied: true, lines: [{ name: "roundtrip", outcome: "UPDATED" }] });
    expect((await owner.client.ok(RESOLVE, { n: "roundtrip", w: own.slug, e: "prod" })).resolveConnection.host).toBe("other.example.com");

    // A name the workspace does not have cannot get environment values.
    const unknown = JSON.stringify({ nobody: JSON.parse(file).roundtrip, roundtrip: JSON.parse(file).roundtrip });
    const report = (await owner.client.ok(IMPORT, { w: own.id, c: unknown, e: "dev" })).importConnections;
    expect(report.applied).toBe(false);
    expect(report.lines.map((l: any) => [l.name, l.outcome])).toEqual([
      ["nobody", "ERROR"],
      ["roundtrip", "CREATED"],
    ]);
    const after = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { environments } }`, { s: own.slug });
    expect(after.workspace.environments).toEqual(["prod", "staging"]);
  });
});
