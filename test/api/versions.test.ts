/**
 * Connections over time: every change stores a version (full state, secrets sealed per
 * version, who, when, which fields), `versions` lists them newest first without a secret,
 * `rollbackConnection` restores one as a new version under the repointing rule, and each
 * connection keeps the newest PATCHBAY_CONNECTION_VERSIONS_KEPT versions.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { CONNECTION_FIELDS, addMember, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

const KEPT = 5;
let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let db: pg.Client;

beforeAll(async () => {
  app = await startTestApp({ PATCHBAY_CONNECTION_VERSIONS_KEPT: String(KEPT) });
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
  db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await app?.stop();
});

const VERSIONS = `query($slug: String!, $name: String!, $first: Int) { workspace(slug: $slug) { connection(name: $name) {
  version versions(first: $first) { version changedAt changedBy changedFields snapshot } } } }`;
const UPDATE = `mutation($id: ID!, $patch: ConnectionPatch!, $v: Int) { updateConnection(id: $id, patch: $patch, expectedVersion: $v) { ${CONNECTION_FIELDS} } }`;
const ROLLBACK = `mutation($id: ID!, $version: Int!, $v: Int) { rollbackConnection(id: $id, version: $version, expectedVersion: $v) { ${CONNECTION_FIELDS} } }`;
const RESOLVE = `query($name: String!, $ws: String) { resolveConnection(name: $name, workspace: $ws) { name host port login password extra } }`;

async function versionsOf(client: GraphQLClient, name: string, first?: number) {
  const response = await client.request(VERSIONS, { slug: workspace.slug, name, first });
  if (response.errors) throw new Error(JSON.stringify(response.errors));
  return { list: response.data.workspace.connection.versions as any[], raw: response.raw };
}

async function resolve(name: string) {
  return (await owner.client.ok(RESOLVE, { name, ws: workspace.slug })).resolveConnection;
}

async function storedVersions(connectionId: string): Promise<number[]> {
  const { rows } = await db.query(`SELECT version FROM "ConnectionVersion" WHERE "connectionId" = $1 ORDER BY version`, [connectionId]);
  return rows.map((r) => r.version);
}

describe("versions", () => {
  it("records create and update with who, when and the changed fields, secrets by name only", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_a", password: "first-pass-111" });
    await owner.client.ok(UPDATE, { id: created.id, patch: { description: "now described", port: 6543 } });
    await owner.client.ok(UPDATE, { id: created.id, patch: { password: "second-pass-222" } });
    await owner.client.ok(UPDATE, { id: created.id, patch: { extra: { sslmode: "require" } } });

    const { list, raw } = await versionsOf(owner.client, "history_a");
    expect(list.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    expect(list.map((v) => v.changedFields)).toEqual([
      ["extra"],
      ["password"],
      ["description", "port"],
      ["name", "type", "host", "port", "schema", "login", "password"],
    ]);
    for (const v of list) {
      expect(v.changedBy).toBe(owner.email);
      expect(Date.parse(v.changedAt)).toBeGreaterThan(Date.now() - 60_000);
    }
    expect(list[1].snapshot).toEqual({
      name: "history_a",
      type: "postgres",
      description: "now described",
      host: "db.example.com",
      port: 6543,
      schema: "analytics",
      login: "reporter",
      extra: {},
      secretFields: ["password"],
      // Snapshot format 2: the connection's overrides by environment (none here).
      overrides: [],
      version: 3,
    });
    expect(raw).not.toContain("first-pass-111");
    expect(raw).not.toContain("second-pass-222");
  });

  it("keeps no secret in plaintext and binds each version's secrets to its number", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_sealed", password: "sealed-pass-333" });
    await owner.client.ok(UPDATE, { id: created.id, patch: { password: "sealed-pass-444" } });
    const { rows } = await db.query(`SELECT * FROM "ConnectionVersion" WHERE "connectionId" = $1 ORDER BY version`, [created.id]);
    expect(rows).toHaveLength(2);
    const dump = JSON.stringify(rows.map((r) => ({ ...r, secretCiphertext: Buffer.from(r.secretCiphertext).toString("latin1") })));
    expect(dump).not.toContain("sealed-pass-333");
    expect(dump).not.toContain("sealed-pass-444");
    expect(rows.map((r) => r.keyVersion)).toEqual([1, 1]);

    // Version 2's ciphertext put in version 1's place does not open as version 1.
    await db.query(`UPDATE "ConnectionVersion" SET "secretCiphertext" = $2 WHERE "connectionId" = $1 AND version = 1`, [created.id, rows[1].secretCiphertext]);
    const refused = await owner.client.request(ROLLBACK, { id: created.id, version: 1 });
    expect(refused.errors?.[0]?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
    expect(refused.raw).not.toContain("sealed-pass");
    expect((await resolve("history_sealed")).password).toBe("sealed-pass-444");
    expect(await storedVersions(created.id)).toEqual([1, 2]);
  });

  it("pages with first and refuses a first out of range", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_page" });
    for (let i = 0; i < 3; i++) await owner.client.ok(UPDATE, { id: created.id, patch: { description: `d${i}` } });
    expect((await versionsOf(owner.client, "history_page", 2)).list.map((v) => v.version)).toEqual([4, 3]);
    for (const first of [0, -1, 201]) {
      const error = await owner.client.fails(VERSIONS, { slug: workspace.slug, name: "history_page", first });
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    }
  });

  it("records upserts and imports, and an unchanged upsert adds no version", async () => {
    const UPSERT = `mutation($w: ID!, $inputs: [ConnectionInput!]!) { upsertConnections(workspaceId: $w, inputs: $inputs) { created updated unchanged } }`;
    const input = { name: "history_sync", type: "postgres", host: "a.example.com", login: "u", password: "sync-pass-1" };
    await owner.client.ok(UPSERT, { w: workspace.id, inputs: [input] });
    await owner.client.ok(UPSERT, { w: workspace.id, inputs: [input] });
    await owner.client.ok(UPSERT, { w: workspace.id, inputs: [{ ...input, host: "b.example.com" }] });
    const IMPORT = `mutation($w: ID!, $c: String!) { importConnections(workspaceId: $w, format: AIRFLOW_JSON, content: $c, onConflict: OVERWRITE) { applied } }`;
    const content = JSON.stringify({ history_sync: { conn_type: "postgres", host: "c.example.com", login: "u", password: "sync-pass-1" } });
    expect((await owner.client.ok(IMPORT, { w: workspace.id, c: content })).importConnections.applied).toBe(true);

    const { list } = await versionsOf(owner.client, "history_sync");
    expect(list.map((v) => [v.version, v.snapshot.host, v.changedFields])).toEqual([
      [3, "c.example.com", ["host"]],
      [2, "b.example.com", ["host"]],
      [1, "a.example.com", ["name", "type", "host", "login", "password"]],
    ]);
  });
});

describe("rollback", () => {
  it("restores a version, secrets included, as a new version", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_rb", password: "rb-pass-1", extra: { sslmode: "require" } });
    await owner.client.ok(UPDATE, { id: created.id, patch: { password: "rb-pass-2", description: "changed", extra: {} } });
    expect((await resolve("history_rb")).password).toBe("rb-pass-2");

    const rolled = (await owner.client.ok(ROLLBACK, { id: created.id, version: 1, v: 2 })).rollbackConnection;
    expect(rolled).toMatchObject({ version: 3, description: null, extra: { sslmode: "require" }, secretFields: ["password"] });
    expect(await resolve("history_rb")).toMatchObject({ password: "rb-pass-1", extra: { sslmode: "require" } });

    const { list } = await versionsOf(owner.client, "history_rb");
    expect(list[0]).toMatchObject({ version: 3, changedBy: owner.email, changedFields: ["description", "extra", "password"] });
    // Rolling back to version 2 works too: nothing was lost.
    await owner.client.ok(ROLLBACK, { id: created.id, version: 2 });
    expect((await resolve("history_rb")).password).toBe("rb-pass-2");
  });

  it("refuses a stale expectedVersion with CONFLICT and writes nothing", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_stale" });
    await owner.client.ok(UPDATE, { id: created.id, patch: { description: "x" } });
    const error = await owner.client.fails(ROLLBACK, { id: created.id, version: 1, v: 1 });
    expect(error.code).toBe("CONFLICT");
    expect(await storedVersions(created.id)).toEqual([1, 2]);
  });

  it("answers BAD_USER_INPUT for a version below 1 and NOT_FOUND for one never kept", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_missing" });
    for (const version of [0, -1, -2147483648]) {
      expect(await owner.client.fails(ROLLBACK, { id: created.id, version })).toMatchObject({ code: "BAD_USER_INPUT", field: "version" });
    }
    for (const version of [2, 2147483647]) {
      expect((await owner.client.fails(ROLLBACK, { id: created.id, version })).code).toBe("NOT_FOUND");
    }
    expect(await storedVersions(created.id)).toEqual([1]);
  });

  it("refuses a version that points elsewhere with its secrets to a caller who may not resolve them", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_repoint", host: "good.example.com", password: "repoint-pass" });
    // An admin with the right to resolve moves it elsewhere, secrets kept.
    await owner.client.ok(UPDATE, { id: created.id, patch: { host: "moved.example.com" } });
    const writer = owner.client.as((await createApiToken(owner.client, workspace.id, ["WRITE", "READ"], "writer")).token);

    const refused = await writer.fails(ROLLBACK, { id: created.id, version: 1 });
    expect(refused.code).toBe("FORBIDDEN");
    expect(refused.message).toContain("password");
    expect(await storedVersions(created.id)).toEqual([1, 2]);
    expect((await resolve("history_repoint")).host).toBe("moved.example.com");

    // A version that differs in a field that sends nothing elsewhere is fine for the writer.
    await owner.client.ok(UPDATE, { id: created.id, patch: { description: "described" } });
    const allowed = (await writer.ok(ROLLBACK, { id: created.id, version: 2 })).rollbackConnection;
    expect(allowed).toMatchObject({ version: 4, description: null, host: "moved.example.com" });

    // With RESOLVE the same token may bring version 1 back.
    const resolver = owner.client.as((await createApiToken(owner.client, workspace.id, ["WRITE", "RESOLVE"], "resolver")).token);
    expect((await resolver.ok(ROLLBACK, { id: created.id, version: 1 })).rollbackConnection.host).toBe("good.example.com");
    expect((await resolve("history_repoint")).password).toBe("repoint-pass");
  });

  it("refuses VIEWERs and MEMBERs (WRITE is for ADMIN and above)", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_roles" });
    await owner.client.ok(UPDATE, { id: created.id, patch: { description: "x" } });
    for (const role of ["VIEWER", "MEMBER"]) {
      const person = await signUp(new GraphQLClient(app.url), role.toLowerCase());
      await addMember(owner.client, workspace.id, person.email, role);
      expect((await person.client.fails(ROLLBACK, { id: created.id, version: 1 })).code).toBe("FORBIDDEN");
    }
    expect(await storedVersions(created.id)).toEqual([1, 2]);
  });

  it("is invisible across workspaces: NOT_FOUND, nothing written", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_tenant" });
    await owner.client.ok(UPDATE, { id: created.id, patch: { description: "x" } });
    const intruder = await signUp(new GraphQLClient(app.url), "intruder");
    const theirs = await createWorkspace(intruder.client);
    const token = intruder.client.as((await createApiToken(intruder.client, theirs.id, ["READ", "WRITE", "RESOLVE"])).token);
    for (const client of [intruder.client, token]) {
      expect((await client.fails(ROLLBACK, { id: created.id, version: 1 })).code).toBe("NOT_FOUND");
    }
    expect(await storedVersions(created.id)).toEqual([1, 2]);
  });
});

describe("retention", () => {
  it(`keeps the newest ${KEPT} versions of each connection, and rollback to a dropped one is NOT_FOUND`, async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_kept" });
    const other = await createConnection(owner.client, workspace.id, { name: "history_kept_other" });
    for (let i = 0; i < 7; i++) await owner.client.ok(UPDATE, { id: created.id, patch: { description: `d${i}` } });
    expect(await storedVersions(created.id)).toEqual([4, 5, 6, 7, 8]);
    expect(await storedVersions(other.id)).toEqual([1]);
    expect((await owner.client.fails(ROLLBACK, { id: created.id, version: 3 })).code).toBe("NOT_FOUND");
    expect((await owner.client.ok(ROLLBACK, { id: created.id, version: 4 })).rollbackConnection.description).toBe("d2");
  });

  it("keeps 100 by default", () => {
    expect(loadConfig({}).connectionVersionsKept).toBe(100);
    expect(() => loadConfig({ PATCHBAY_CONNECTION_VERSIONS_KEPT: "0" })).toThrow(/PATCHBAY_CONNECTION_VERSIONS_KEPT/);
  });
});

describe("connections from before versions were kept", () => {
  it("get their previous state as a version on their first change", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_legacy", password: "legacy-pass" });
    await db.query(`DELETE FROM "ConnectionVersion" WHERE "connectionId" = $1`, [created.id]);
    await owner.client.ok(UPDATE, { id: created.id, patch: { password: "legacy-pass-2" } });
    const { list } = await versionsOf(owner.client, "history_legacy");
    expect(list.map((v) => [v.version, v.changedBy, v.changedFields])).toEqual([
      [2, owner.email, ["password"]],
      [1, "(before version history)", []],
    ]);
    await owner.client.ok(ROLLBACK, { id: created.id, version: 1 });
    expect((await resolve("history_legacy")).password).toBe("legacy-pass");
  });
});

describe("all or nothing", () => {
  it("a failed update or import leaves neither the connection nor its versions changed", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "history_atomic" });
    await createConnection(owner.client, workspace.id, { name: "history_atomic_taken" });
    expect((await owner.client.fails(UPDATE, { id: created.id, patch: { name: "history_atomic_taken", description: "x" } })).code).toBe("CONFLICT");
    expect((await owner.client.fails(UPDATE, { id: created.id, patch: { port: 70000 } })).code).toBe("BAD_USER_INPUT");
    const IMPORT = `mutation($w: ID!, $c: String!) { importConnections(workspaceId: $w, format: AIRFLOW_JSON, content: $c, onConflict: OVERWRITE) { applied } }`;
    const content = JSON.stringify({ history_atomic: { conn_type: "postgres", host: "new.example.com" }, broken: { conn_type: "postgres", port: "x" } });
    expect((await owner.client.ok(IMPORT, { w: workspace.id, c: content })).importConnections.applied).toBe(false);
    expect(await storedVersions(created.id)).toEqual([1]);
  });
});
