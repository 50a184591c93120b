/**
 * rotateWorkspaceKey: new secrets are sealed with version n+1 at once, the job re-encrypts the
 * rest while resolves and edits go on, and the old version is destroyed once nothing uses it.
 * (The crash-and-restart version of this is test/lifecycle/rotation-crash.test.ts.)
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { seedConnections } from "../support/sealed-seed";
import { unwrapDataKey } from "../../src/crypto/key-wrap";
import { openSecrets, sealSecrets } from "../../src/crypto/sealed-secrets";
import { sealContext as accessTokenSealContext } from "../../src/services/connections/access-tokens";

let app: TestApp;
let db: pg.Client;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp({ PATCHBAY_KEY_REENCRYPT_BATCH: "50", PATCHBAY_KEY_DESTROY_DELAY_SECONDS: "1" });
  db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
  owner = await signUp(new GraphQLClient(app.url), "rotation");
}, 60_000);

afterAll(async () => {
  await db?.end();
  await app?.stop();
});

const KEY_STATUS = `query($s: String!) { workspace(slug: $s) { keyStatus { currentVersion pendingReencryption rotatedAt } } }`;
const ROTATE = `mutation($w: ID!) { rotateWorkspaceKey(workspaceId: $w) { currentVersion pendingReencryption rotatedAt } }`;

async function keyVersions(workspaceId: string): Promise<number[]> {
  const { rows } = await db.query(`SELECT "version" FROM "WorkspaceKey" WHERE "workspaceId" = $1 ORDER BY 1`, [workspaceId]);
  return rows.map((r) => r.version);
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, limitMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() - started > limitMs) throw new Error(`not reached within ${limitMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function resolveRest(token: string, name: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}/api/v1/connections/${name}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.json() };
}

describe("rotateWorkspaceKey", () => {
  it("seals new secrets with the new version at once and re-encrypts the rest while resolves and edits go on", async () => {
    const workspace = await createWorkspace(owner.client);
    const seeded = await seedConnections(db, app.masterKey, workspace.id, 400);
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "RESOLVE", "WRITE"]);
    expect((await owner.client.ok(KEY_STATUS, { s: workspace.slug })).workspace.keyStatus).toEqual({
      currentVersion: 1,
      pendingReencryption: 0,
      rotatedAt: null,
    });

    // Resolves run throughout, every answer checked against the original secret.
    let stop = false;
    let resolves = 0;
    const failures: string[] = [];
    let i = 0;
    // The connection edited below may answer with either password while the edit lands.
    const alsoAccepted = new Map<string, string>();
    const load = Promise.all(Array.from({ length: 8 }, async () => {
      while (!stop) {
        const c = seeded[i++ % seeded.length];
        const { status, body } = await resolveRest(token, c.name);
        if (status !== 200 || (body.password !== c.password && body.password !== alsoAccepted.get(c.name))) failures.push(`${c.name}: ${status}`);
        resolves++;
      }
    }));
    await new Promise((r) => setTimeout(r, 100));

    const rotated = (await owner.client.ok(ROTATE, { w: workspace.id })).rotateWorkspaceKey;
    expect(rotated.currentVersion).toBe(2);
    expect(rotated.rotatedAt).not.toBeNull();
    // Sealed from now on with version 2, without waiting for the job.
    const fresh = await createConnection(owner.client, workspace.id, { password: "sealed-after-rotation" });
    const { rows } = await db.query(`SELECT "keyVersion" FROM "Connection" WHERE id = $1`, [fresh.id]);
    expect(rows[0].keyVersion).toBe(2);
    // An edit in the middle of the rotation.
    const edited = seeded[7];
    alsoAccepted.set(edited.name, "changed-mid-rotation");
    const before = edited.password;
    const client = new GraphQLClient(app.url, token);
    const { connection } = (await client.ok(`query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) { id } } }`, { s: workspace.slug, n: edited.name })).workspace;
    await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { updateConnection(id: $id, patch: $p) { version } }`, {
      id: connection.id,
      p: { password: "changed-mid-rotation" },
    });
    alsoAccepted.set(edited.name, before);
    edited.password = "changed-mid-rotation";

    const done = await until(
      async () => (await owner.client.ok(KEY_STATUS, { s: workspace.slug })).workspace.keyStatus.pendingReencryption,
      (pending) => pending === 0,
    );
    expect(done).toBe(0);
    await until(() => keyVersions(workspace.id), (versions) => versions.length === 1);
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(resolves).toBeGreaterThan(10);
    expect(await keyVersions(workspace.id)).toEqual([2]);
    const left = await db.query(`SELECT count(*)::int AS n FROM "Connection" WHERE "workspaceId" = $1 AND "keyVersion" <> 2`, [workspace.id]);
    expect(left.rows[0].n).toBe(0);
    for (const c of [...seeded.slice(0, 20), edited]) expect((await resolveRest(token, c.name)).body.password).toBe(c.password);
    expect((await resolveRest(token, fresh.name)).body.password).toBe("sealed-after-rotation");

    // Rotating again starts over from the new version.
    expect((await owner.client.ok(ROTATE, { w: workspace.id })).rotateWorkspaceKey.currentVersion).toBe(3);
    await until(() => keyVersions(workspace.id), (versions) => versions.join() === "3");
    expect((await resolveRest(token, seeded[3].name)).body.password).toBe(seeded[3].password);
    expect(app.logs.join("\n")).not.toContain(seeded[3].password);
  }, 60_000);

  it("re-encrypts a connection's stored versions too: a rollback after the rotation restores the old secret", async () => {
    const workspace = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, workspace.id, { name: "versioned", password: "first-password" });
    await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { updateConnection(id: $id, patch: $p) { version } }`, {
      id: conn.id,
      p: { password: "second-password" },
    });
    const versionKeys = async () =>
      (await db.query(`SELECT "keyVersion" FROM "ConnectionVersion" WHERE "connectionId" = $1 ORDER BY "version"`, [conn.id])).rows.map((r) => r.keyVersion);
    expect((await versionKeys()).length).toBeGreaterThanOrEqual(2);
    expect(new Set(await versionKeys())).toEqual(new Set([1]));

    const rotated = (await owner.client.ok(ROTATE, { w: workspace.id })).rotateWorkspaceKey;
    expect(rotated.pendingReencryption).toBeGreaterThanOrEqual(3);
    await until(() => keyVersions(workspace.id), (versions) => versions.join() === "2");
    expect(new Set(await versionKeys())).toEqual(new Set([2]));

    await owner.client.ok(`mutation($id: ID!) { rollbackConnection(id: $id, version: 1) { version } }`, { id: conn.id });
    const resolved = await owner.client.ok(`query($s: String!) { resolveConnection(name: "versioned", workspace: $s) { password } }`, { s: workspace.slug });
    expect(resolved.resolveConnection.password).toBe("first-password");
  });

  it("re-encrypts an environment's override too: resolving in that environment after the rotation gives its secret", async () => {
    const workspace = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, workspace.id, { name: "per-env", password: "base-password" });
    await owner.client.ok(`mutation($id: ID!, $e: String!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: $e, patch: $p) { version } }`, {
      id: conn.id,
      e: "prod",
      p: { password: "prod-password" },
    });
    const overrideKeys = async () =>
      (await db.query(`SELECT "keyVersion" FROM "ConnectionOverride" WHERE "connectionId" = $1`, [conn.id])).rows.map((r) => r.keyVersion);
    expect(await overrideKeys()).toEqual([1]);

    await owner.client.ok(ROTATE, { w: workspace.id });
    await until(() => keyVersions(workspace.id), (versions) => versions.join() === "2");
    expect(await overrideKeys()).toEqual([2]);
    const resolved = await owner.client.ok(`query($s: String!) { resolveConnection(name: "per-env", workspace: $s, environment: "prod") { password } }`, {
      s: workspace.slug,
    });
    expect(resolved.resolveConnection.password).toBe("prod-password");
  });

  it("re-encrypts the override secrets inside stored versions: a rollback after the old key is gone restores an environment's old secret", async () => {
    const workspace = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, workspace.id, { name: "per-env-versions", password: "base-password" });
    const SET = `mutation($id: ID!, $e: String!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: $e, patch: $p) { version } }`;
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { password: "prod-password-one" } }); // v2
    await owner.client.ok(SET, { id: conn.id, e: "prod", p: { password: "prod-password-two" } }); // v3
    await owner.client.ok(`mutation($id: ID!, $e: String!) { removeConnectionOverride(id: $id, environment: $e) { version } }`, { id: conn.id, e: "prod" }); // v4
    const versionKeys = async () =>
      (await db.query(`SELECT "keyVersion" FROM "ConnectionVersion" WHERE "connectionId" = $1 ORDER BY "version"`, [conn.id])).rows.map((r) => r.keyVersion);
    expect(await versionKeys()).toEqual([1, 1, 1, 1]);

    await owner.client.ok(ROTATE, { w: workspace.id });
    // Version 1 of the key is destroyed only once no row names it: the versions were re-sealed.
    await until(() => keyVersions(workspace.id), (versions) => versions.join() === "2");
    expect(await versionKeys()).toEqual([2, 2, 2, 2]);

    await owner.client.ok(`mutation($id: ID!) { rollbackConnection(id: $id, version: 2) { version } }`, { id: conn.id });
    const resolve = `query($s: String!, $e: String) { resolveConnection(name: "per-env-versions", workspace: $s, environment: $e) { password } }`;
    expect((await owner.client.ok(resolve, { s: workspace.slug, e: "prod" })).resolveConnection.password).toBe("prod-password-one");
    expect((await owner.client.ok(resolve, { s: workspace.slug })).resolveConnection.password).toBe("base-password");
    expect(app.logs.join("\n")).not.toContain("prod-password-one");
  });

  it("re-encrypts a staged import's batches too: committing after the old key is destroyed imports them", async () => {
    const workspace = await createWorkspace(owner.client);
    const session = (await owner.client.ok(`mutation($w: ID!) { beginImport(workspaceId: $w, format: AIRFLOW_ENV) { id } }`, { w: workspace.id })).beginImport;
    const stage = `mutation($s: ID!, $q: Int!, $c: String!) { stageImportBatch(sessionId: $s, seq: $q, content: $c) { batches } }`;
    await owner.client.ok(stage, { s: session.id, q: 1, c: "staged_a=postgres://u:staged-a-pw@h/d\n" });
    await owner.client.ok(stage, { s: session.id, q: 2, c: "staged_b=postgres://u:staged-b-pw@h/d\n" });
    const batchKeys = async () =>
      (await db.query(`SELECT "keyVersion" FROM "ImportBatch" WHERE "sessionId" = $1 ORDER BY "seq"`, [session.id])).rows.map((r) => r.keyVersion);
    expect(await batchKeys()).toEqual([1, 1]);

    await owner.client.ok(ROTATE, { w: workspace.id });
    await until(() => keyVersions(workspace.id), (versions) => versions.join() === "2");
    expect(await batchKeys()).toEqual([2, 2]);
    const report = (await owner.client.ok(`mutation($s: ID!) { commitImport(sessionId: $s) { applied lines { name outcome } } }`, { s: session.id })).commitImport;
    expect(report).toEqual({ applied: true, lines: [{ name: "staged_a", outcome: "CREATED" }, { name: "staged_b", outcome: "CREATED" }] });
    const resolved = await owner.client.ok(`query($s: String!) { resolveConnection(name: "staged_b", workspace: $s) { password } }`, { s: workspace.slug });
    expect(resolved.resolveConnection.password).toBe("staged-b-pw");
  });

  it("re-encrypts every sealed table: an oauth2 connection's stored access token too", async () => {
    const workspace = await createWorkspace(owner.client);
    const [conn] = await seedConnections(db, app.masterKey, workspace.id, 1, "oauth");
    const master = Buffer.from(app.masterKey, "base64");
    const dekOf = async (version: number) => {
      const { rows } = await db.query(`SELECT "wrappedKey" FROM "WorkspaceKey" WHERE "workspaceId" = $1 AND "version" = $2`, [workspace.id, version]);
      return unwrapDataKey(master, workspace.id, version, rows[0].wrappedKey);
    };
    const context = { workspaceId: workspace.id, connectionId: accessTokenSealContext(conn.id) };
    const token = { access_token: "at-before-rotation", token_type: "Bearer" };
    await db.query(
      `INSERT INTO "AccessToken" ("connectionId", "workspaceId", "connectionVersion", "ciphertext", "keyVersion", "refreshAt", "obtainedAt")
       VALUES ($1, $2, 1, $3, 1, now() + interval '1 hour', now())`,
      [conn.id, workspace.id, sealSecrets(await dekOf(1), 1, context, token)],
    );

    await owner.client.ok(ROTATE, { w: workspace.id });
    await until(() => keyVersions(workspace.id), (versions) => versions.join() === "2");
    const { rows } = await db.query(`SELECT "keyVersion", "ciphertext" FROM "AccessToken" WHERE "connectionId" = $1`, [conn.id]);
    expect(rows[0].keyVersion).toBe(2);
    expect(openSecrets(await dekOf(2), rows[0].ciphertext, context)).toEqual(token);
  });

  it("leaves a value that does not open as it was, and keeps the key version it names", async () => {
    const workspace = await createWorkspace(owner.client);
    const [good, damaged] = await seedConnections(db, app.masterKey, workspace.id, 2, "damage");
    const { rows } = await db.query(`SELECT "secretCiphertext" FROM "Connection" WHERE id = $1`, [damaged.id]);
    const flipped = Buffer.from(rows[0].secretCiphertext);
    flipped[flipped.length - 20] ^= 0x01;
    await db.query(`UPDATE "Connection" SET "secretCiphertext" = $1 WHERE id = $2`, [flipped, damaged.id]);

    await owner.client.ok(ROTATE, { w: workspace.id });
    const keyVersionOf = async (id: string) => (await db.query(`SELECT "keyVersion" FROM "Connection" WHERE id = $1`, [id])).rows[0].keyVersion;
    await until(() => keyVersionOf(good.id), (v) => v === 2);
    // Past the destroy delay, the version the damaged row names is still there, and so is the row, byte for byte.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await keyVersions(workspace.id)).toEqual([1, 2]);
    expect(await keyVersionOf(damaged.id)).toBe(1);
    expect(Buffer.from((await db.query(`SELECT "secretCiphertext" FROM "Connection" WHERE id = $1`, [damaged.id])).rows[0].secretCiphertext).equals(flipped)).toBe(true);
    expect((await owner.client.ok(KEY_STATUS, { s: workspace.slug })).workspace.keyStatus.pendingReencryption).toBe(1);
    expect(app.logs.some((line) => line.includes("do not open") && line.includes(damaged.id))).toBe(true);
  });

  it("only an owner rotates; admins see the status, members do not", async () => {
    const anonymous = new GraphQLClient(app.url);
    const admin = await signUp(anonymous, "rotation-admin");
    const member = await signUp(anonymous, "rotation-member");
    const workspace = await createWorkspace(owner.client);
    await addMember(owner.client, workspace.id, admin.email, "ADMIN");
    await addMember(owner.client, workspace.id, member.email, "MEMBER");
    expect((await admin.client.request(ROTATE, { w: workspace.id })).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await admin.client.ok(KEY_STATUS, { s: workspace.slug })).workspace.keyStatus.currentVersion).toBe(1);
    expect((await member.client.request(KEY_STATUS, { s: workspace.slug })).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "WRITE", "RESOLVE"]);
    expect((await new GraphQLClient(app.url, token).request(ROTATE, { w: workspace.id })).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await keyVersions(workspace.id)).toEqual([1]);
  });
});
