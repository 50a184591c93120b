/**
 * Environments over time: every change of an override is a version of its connection whose
 * snapshot holds every override (secrets sealed with the version), `versions` shows override
 * changes, `rollbackConnection` brings the environments back as they were (values, secrets,
 * removals, overrides set later removed) under expectedVersion, the repointing rule for each
 * environment and audit; a version written before versions held the environments (format 1)
 * still reads and leaves them as they are; an override's extra keeps the key order given.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { CONNECTION_FIELDS, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { findSecrets } from "../support/secrets";

const BASE_PASSWORD = "s3cret-Pa55word!";
const PROD_ONE = "prod-first-Pa55#1";
const PROD_TWO = "prod-second-Pa55#2";
const STAGING = "staging-only-Pa55#3";
const TOKEN_VALUE = "tok-override-zzz-999";

const OVERRIDES = `overrides { environment host port schema login extra secretFields }`;
const SET = `mutation($id: ID!, $e: String!, $p: ConnectionPatch!, $v: Int) {
  setConnectionOverride(id: $id, environment: $e, patch: $p, expectedVersion: $v) { version ${OVERRIDES} }
}`;
const REMOVE = `mutation($id: ID!, $e: String!) { removeConnectionOverride(id: $id, environment: $e) { version } }`;
const ROLLBACK = `mutation($id: ID!, $version: Int!, $v: Int) { rollbackConnection(id: $id, version: $version, expectedVersion: $v) { ${CONNECTION_FIELDS} ${OVERRIDES} } }`;
const RESOLVE = `query($n: String!, $w: String, $e: String) { resolveConnection(name: $n, workspace: $w, environment: $e) { host login password extra } }`;
const VERSIONS = `query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) {
  version ${OVERRIDES} versions(first: 50) { version changedBy changedFields snapshot } } } }`;

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let db: pg.Client;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
  db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  const versions = await db.query(`SELECT snapshot::text AS s, "changedFields"::text AS f, "secretCiphertext"::text AS c FROM "ConnectionVersion"`);
  const audit = await db.query(`SELECT details::text AS d FROM "AuditEvent"`);
  await db.end();
  // The versions hold override secrets only sealed; nothing in clear in snapshots, audit or logs.
  expect(
    findSecrets({ logs: app.logs, audit: audit.rows.map((r) => r.d), versionRows: versions.rows.map((r) => JSON.stringify(r)) }, [
      PROD_ONE,
      PROD_TWO,
      STAGING,
      TOKEN_VALUE,
    ]),
  ).toEqual([]);
  await app.stop();
});

async function resolveIn(name: string, environment?: string) {
  return (await owner.client.ok(RESOLVE, { n: name, w: workspace.slug, e: environment ?? null })).resolveConnection;
}

async function history(name: string) {
  return (await owner.client.ok(VERSIONS, { s: workspace.slug, n: name })).workspace.connection;
}

describe("override changes as versions", () => {
  it("list each set, change and removal with its fields, and the overrides in the snapshot, secrets by name only", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "hist_env" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod-a.example.com", password: PROD_ONE } });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod-b.example.com" } });
    await owner.client.ok(REMOVE, { id: conn.id, e: "prod" });

    const response = await owner.client.request(VERSIONS, { s: workspace.slug, n: "hist_env" });
    expect(JSON.stringify(response.data)).not.toContain(PROD_ONE);
    const { versions } = response.data.workspace.connection;
    expect(versions.map((v: any) => [v.version, v.changedFields])).toEqual([
      [4, ["overrides.prod"]],
      [3, ["overrides.prod.host"]],
      [2, ["overrides.prod"]],
      [1, expect.arrayContaining(["name", "host", "password"])],
    ]);
    expect(versions[0].snapshot.overrides).toEqual([]);
    expect(versions[1].snapshot.overrides).toEqual([
      { environment: "prod", host: "prod-b.example.com", port: null, schema: null, login: null, extra: {}, secretFields: ["password"] },
    ]);
    expect(versions[2].snapshot).toMatchObject({ host: "db.example.com", overrides: [{ environment: "prod", host: "prod-a.example.com" }] });
    expect(versions[3].snapshot.overrides).toEqual([]);
    expect(versions.every((v: any) => v.changedBy === versions[0].changedBy && v.changedBy !== "")).toBe(true);
  });
});

describe("rollbackConnection with environments", () => {
  it("restores every override as it was: values, secrets, removed ones back and later ones gone", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "roll_env" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod-a.example.com", password: PROD_ONE } }); // v2
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod-b.example.com", password: PROD_TWO } }); // v3
    await owner.client.ok(SET, { id: conn.id, e: "staging", p: { login: "staging_reader", password: STAGING } }); // v4
    await owner.client.ok(REMOVE, { id: conn.id, e: "prod" }); // v5
    expect((await resolveIn("roll_env", "prod")).password).toBe(BASE_PASSWORD);

    // Back to v3: prod returns with its second password; staging, set after v3, is gone.
    const rolled = (await owner.client.ok(ROLLBACK, { id: conn.id, version: 3, v: 5 })).rollbackConnection;
    expect(rolled.version).toBe(6);
    expect(rolled.overrides).toEqual([
      { environment: "prod", host: "prod-b.example.com", port: null, schema: null, login: null, extra: {}, secretFields: ["password"] },
    ]);
    expect(await resolveIn("roll_env", "prod")).toMatchObject({ host: "prod-b.example.com", password: PROD_TWO });
    expect(await resolveIn("roll_env", "staging")).toMatchObject({ login: "reporter", password: BASE_PASSWORD });

    // Back to v2: the first secret of prod, from the version's own sealed copy.
    await owner.client.ok(ROLLBACK, { id: conn.id, version: 2 });
    expect(await resolveIn("roll_env", "prod")).toMatchObject({ host: "prod-a.example.com", password: PROD_ONE });
    // Back to v4: both environments.
    await owner.client.ok(ROLLBACK, { id: conn.id, version: 4 });
    expect(await resolveIn("roll_env", "staging")).toMatchObject({ login: "staging_reader", password: STAGING });
    expect(await resolveIn("roll_env", "prod")).toMatchObject({ host: "prod-b.example.com", password: PROD_TWO });
    // Back to v1: no environment at all.
    const bare = (await owner.client.ok(ROLLBACK, { id: conn.id, version: 1 })).rollbackConnection;
    expect(bare.overrides).toEqual([]);
    expect(await resolveIn("roll_env", "prod")).toMatchObject({ host: "db.example.com", password: BASE_PASSWORD });

    const { versions } = await history("roll_env");
    expect(versions[0]).toMatchObject({ version: 9, changedFields: ["overrides.prod", "overrides.staging"] });
    expect(versions[3]).toMatchObject({ version: 6, changedFields: ["overrides.prod", "overrides.staging"] });
    const audit = await db.query(
      `SELECT details FROM "AuditEvent" WHERE "targetId" = $1 AND action = 'connection.rollback'`,
      [conn.id],
    );
    expect(audit.rows.map((r) => [r.details.toVersion, r.details.version]).sort((a, b) => a[1] - b[1])).toEqual([
      [3, 6],
      [2, 7],
      [4, 8],
      [1, 9],
    ]);
  });

  it("finds the overrides in versions made by updates and upserts of the connection itself", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "roll_by_update" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod-a.example.com", password: PROD_ONE } }); // v2
    await owner.client.ok(`mutation($id: ID!) { updateConnection(id: $id, patch: { description: "v3" }) { version } }`, { id: conn.id }); // v3
    const upsert = `mutation($w: ID!, $inputs: [ConnectionInput!]!) { upsertConnections(workspaceId: $w, inputs: $inputs) { updated } }`;
    const input = { name: "roll_by_update", type: "postgres", host: "db.example.com", port: 5432, schema: "analytics", login: "reporter", password: BASE_PASSWORD };
    expect((await owner.client.ok(upsert, { w: workspace.id, inputs: [{ ...input, description: "v4" }] })).upsertConnections.updated).toBe(1); // v4
    await owner.client.ok(REMOVE, { id: conn.id, e: "prod" }); // v5

    const { versions } = await history("roll_by_update");
    expect(versions.slice(1, 3).map((v: any) => [v.version, v.changedFields, v.snapshot.overrides.map((o: any) => o.environment)])).toEqual([
      [4, ["description"], ["prod"]],
      [3, ["description"], ["prod"]],
    ]);
    const rolled = (await owner.client.ok(ROLLBACK, { id: conn.id, version: 3 })).rollbackConnection;
    expect(rolled).toMatchObject({ version: 6, description: "v3" });
    expect(await resolveIn("roll_by_update", "prod")).toMatchObject({ host: "prod-a.example.com", password: PROD_ONE });
  });

  it("is a CONFLICT at a stale expectedVersion and changes nothing", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "roll_stale" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { password: PROD_ONE } });
    await owner.client.ok(REMOVE, { id: conn.id, e: "prod" });
    const error = await owner.client.fails(ROLLBACK, { id: conn.id, version: 2, v: 2 });
    expect(error.code).toBe("CONFLICT");
    const after = await history("roll_stale");
    expect(after.version).toBe(3);
    expect(after.overrides).toEqual([]);
  });

  it("refuses to bring an environment's stored secret back to another host for a caller who may not resolve it", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "roll_repoint" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod-a.example.com", password: PROD_ONE } }); // v2
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod-b.example.com", password: PROD_TWO } }); // v3
    const writer = owner.client.as((await createApiToken(owner.client, workspace.id, ["WRITE", "READ"], "writer")).token);

    const refused = await writer.fails(ROLLBACK, { id: conn.id, version: 2 });
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toContain("prod");
    expect(refused.message).not.toContain(PROD_ONE);
    expect((await history("roll_repoint")).version).toBe(3);
    expect(await resolveIn("roll_repoint", "prod")).toMatchObject({ host: "prod-b.example.com", password: PROD_TWO });

    // From a state without environments, bringing v3's prod back moves that environment from the
    // connection's host to prod-b with a stored secret: refused too.
    await owner.client.ok(ROLLBACK, { id: conn.id, version: 1 });
    expect((await writer.fails(ROLLBACK, { id: conn.id, version: 3 })).code).toBe("FORBIDDEN");

    const resolver = owner.client.as((await createApiToken(owner.client, workspace.id, ["WRITE", "RESOLVE"], "resolver")).token);
    await resolver.ok(ROLLBACK, { id: conn.id, version: 2 });
    expect(await resolveIn("roll_repoint", "prod")).toMatchObject({ host: "prod-a.example.com", password: PROD_ONE });
  });

  it("reads a version written before versions held the environments, and leaves the overrides as they are", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "roll_format1", description: "first" });
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { host: "prod-a.example.com", password: PROD_ONE } });
    await owner.client.ok(`mutation($id: ID!) { updateConnection(id: $id, patch: { description: "second" }) { version } }`, { id: conn.id });
    // Version 1 as a server before this change stored it: format 1, no overrides.
    await db.query(
      `UPDATE "ConnectionVersion" SET snapshot = ((snapshot::jsonb - 'overrides') || '{"format": 1}')::json WHERE "connectionId" = $1 AND version = 1`,
      [conn.id],
    );
    const { versions } = await history("roll_format1");
    expect(versions.at(-1).snapshot).toMatchObject({ version: 1, description: "first" });
    expect(versions.at(-1).snapshot.overrides).toBeUndefined();

    const rolled = (await owner.client.ok(ROLLBACK, { id: conn.id, version: 1 })).rollbackConnection;
    expect(rolled).toMatchObject({ version: 4, description: "first" });
    expect(rolled.overrides.map((o: any) => o.host)).toEqual(["prod-a.example.com"]);
    expect(await resolveIn("roll_format1", "prod")).toMatchObject({ host: "prod-a.example.com", password: PROD_ONE });
  });
});

describe("an override's extra", () => {
  it("keeps the key order given, a secret's place included, through set, get, resolve, export and a version", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "env_order", extra: { sslmode: "disable", application_name: "pb" } });
    const extra = { zeta_opt: "z", api_token: TOKEN_VALUE, alpha_opt: "a", mid_opt: "m" };
    const set = (await owner.client.ok(SET, { id: conn.id, e: "prod", p: { extra } })).setConnectionOverride;
    expect(Object.keys(set.overrides[0].extra)).toEqual(["zeta_opt", "alpha_opt", "mid_opt"]);
    expect(set.overrides[0].secretFields).toEqual(["extra.api_token"]);

    const read = await history("env_order");
    expect(Object.keys(read.overrides[0].extra)).toEqual(["zeta_opt", "alpha_opt", "mid_opt"]);
    expect(Object.keys(read.versions[0].snapshot.overrides[0].extra)).toEqual(["zeta_opt", "alpha_opt", "mid_opt"]);

    const resolved = await resolveIn("env_order", "prod");
    expect(Object.keys(resolved.extra)).toEqual(["sslmode", "application_name", "zeta_opt", "api_token", "alpha_opt", "mid_opt"]);
    expect(resolved.extra.api_token).toBe(TOKEN_VALUE);

    const file = JSON.parse(
      (
        await owner.client.ok(`query($w: ID!, $e: String) { exportConnections(workspaceId: $w, format: AIRFLOW_JSON, includeSecrets: true, environment: $e) }`, {
          w: workspace.id,
          e: "prod",
        })
      ).exportConnections,
    );
    expect(Object.keys(JSON.parse(file.env_order.extra))).toEqual(["sslmode", "application_name", "zeta_opt", "api_token", "alpha_opt", "mid_opt"]);

    // Rolled back to and forth, the order survives the version too.
    await owner.client.ok(REMOVE, { id: conn.id, e: "prod" });
    await owner.client.ok(ROLLBACK, { id: conn.id, version: 2 });
    expect(Object.keys((await resolveIn("env_order", "prod")).extra)).toEqual(["sslmode", "application_name", "zeta_opt", "api_token", "alpha_opt", "mid_opt"]);
    const stored = await db.query(`SELECT extra::text AS e FROM "ConnectionOverride" WHERE "connectionId" = $1`, [conn.id]);
    expect(stored.rows[0].e).not.toContain(TOKEN_VALUE);
  });
});
