/**
 * Rotations survive SIGKILL. A real server process (the compiled one, as `npm start` runs
 * it) is killed at several points chosen at random inside the rotation, found by watching
 * the rows' own progress, then started again on the same database:
 *
 * - data key rotation: 2,000 connections, the rotation started while resolves run; afterwards
 *   pendingReencryption reaches 0, every connection opens to its original secret, and no old
 *   key version remains;
 * - master key rotation: 1,000 workspace keys re-wrapped at start-up under the new master key;
 *   afterwards every key records the new key's fingerprint, tokens, sessions and secrets still
 *   work, and a start with only the old key is refused with one line.
 *
 * Throughput and where each kill landed go into the test's meta (stored results), not into
 * assertions on time.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { unwrapDataKey, wrapDataKey, generateDataKey } from "../../src/crypto/key-wrap";
import { masterKeyFingerprint } from "../../src/crypto/master-key";
import { openSecrets } from "../../src/crypto/sealed-secrets";
import { freePort } from "../../src/net/free-port";
import { GraphQLClient } from "../support/client";
import { buildServer, type CompiledServer } from "../support/compiled-server";
import { createTestDatabase } from "../support/database";
import { createApiToken, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { type SeededConnection, seedConnections } from "../support/sealed-seed";
import { type ServerProcess, spawnServer, waitUntilReady, within } from "../support/server-process";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONNECTIONS = 2_000;
const WORKSPACE_KEYS = 1_000;
const KILLS = 3;

let compiled: CompiledServer;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  compiled = await buildServer();
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await compiled?.remove();
});

interface Server extends ServerProcess {
  url: string;
}

async function environment() {
  const database = await createTestDatabase("crash");
  const dataDir = await mkdtemp(join(tmpdir(), "patchbay-crash-"));
  cleanups.push(() => database.drop(), () => rm(dataDir, { recursive: true, force: true }));
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  cleanups.push(() => db.end());
  const base = {
    DATABASE_URL: database.url,
    PATCHBAY_DATA_DIR: dataDir,
    PATCHBAY_LOG_LEVEL: "warn",
    PATCHBAY_KEY_REENCRYPT_BATCH: "20",
    PATCHBAY_KEY_DESTROY_DELAY_SECONDS: "1",
    PATCHBAY_SIGNUPS_PER_ADDRESS_PER_HOUR: "100000",
  };
  return { db, base };
}

function spawn(env: Record<string, string>, port: number): Server {
  const server = spawnServer({ cwd: ROOT, env: { PORT: String(port), ...env }, entry: [compiled.mainJs] });
  cleanups.push(() => server.kill());
  return { ...server, url: `http://127.0.0.1:${port}` };
}

async function start(env: Record<string, string>): Promise<Server> {
  const server = spawn(env, await freePort());
  await waitUntilReady(server.url, server, 60_000);
  return server;
}

/** Polls `progress` until it passes `threshold`, then SIGKILLs the server; returns the progress seen at the kill. */
async function killWhen(server: Server, progress: () => Promise<number>, passed: (value: number) => boolean): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await progress();
    if (passed(value) || server.hasExited()) {
      await server.kill();
      return value;
    }
    if (Date.now() > deadline) throw new Error(`no progress past the kill point: ${value}\n${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function meta(context: TestContext, values: Record<string, unknown>): void {
  Object.assign(context.task.meta as Record<string, unknown>, values);
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, limitMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() - started > limitMs) throw new Error(`not reached within ${limitMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Opens every seeded connection with the key its row names, as the server does. */
async function openAll(db: pg.Client, masterKey: Buffer, workspaceId: string, seeded: SeededConnection[]): Promise<string[]> {
  const { rows: keys } = await db.query(`SELECT "version", "wrappedKey" FROM "WorkspaceKey" WHERE "workspaceId" = $1`, [workspaceId]);
  const deks = new Map(keys.map((k) => [k.version, unwrapDataKey(masterKey, workspaceId, k.version, k.wrappedKey)]));
  const { rows } = await db.query(`SELECT id, "keyVersion", "secretCiphertext" FROM "Connection" WHERE "workspaceId" = $1`, [workspaceId]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const wrong: string[] = [];
  for (const c of seeded) {
    const row = byId.get(c.id);
    try {
      const opened = openSecrets(deks.get(row.keyVersion)!, row.secretCiphertext, { workspaceId, connectionId: c.id });
      if (opened.password !== c.password) wrong.push(c.name);
    } catch {
      wrong.push(c.name);
    }
  }
  return wrong;
}

describe("key rotation with the server killed midway", () => {
  it("data key: 2,000 connections re-encrypted across SIGKILLs while resolves run", async (context) => {
    const { db, base } = await environment();
    const masterKey = randomBytes(32);
    const env = { ...base, PATCHBAY_MASTER_KEY: masterKey.toString("base64") };
    let server = await start(env);
    const owner: SignedUp = await signUp(new GraphQLClient(server.url), "crash");
    const workspace = await createWorkspace(owner.client);
    const seeded = await seedConnections(db, env.PATCHBAY_MASTER_KEY, workspace.id, CONNECTIONS);
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "RESOLVE"]);

    // Resolves run throughout: a wrong secret is never acceptable; a refused connection while
    // the server is dead is.
    let stop = false;
    let ok = 0;
    let unavailable = 0;
    const wrong: string[] = [];
    let next = 0;
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          const c = seeded[next++ % seeded.length];
          try {
            const response = await fetch(`${server.url}/api/v1/connections/${c.name}`, {
              headers: { authorization: `Bearer ${token}` },
              signal: AbortSignal.timeout(5_000),
            });
            const body = (await response.json()) as { password?: string };
            if (response.status === 200 && body.password === c.password) ok++;
            else if (response.status === 200) wrong.push(c.name);
            else unavailable++;
          } catch {
            unavailable++;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 200));

    const pending = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM "Connection" WHERE "workspaceId" = $1 AND "keyVersion" < 2`, [workspace.id])).rows[0].n as number;
    const rotatedAt = performance.now();
    const rotated = await owner.client.ok(`mutation($w: ID!) { rotateWorkspaceKey(workspaceId: $w) { currentVersion pendingReencryption } }`, { w: workspace.id });
    expect(rotated.rotateWorkspaceKey.currentVersion).toBe(2);

    // Kill points spread over the rotation: each somewhere in the next stretch of rows still pending.
    const killedAt: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const before = await pending();
      const threshold = Math.floor(before * (1 - (0.15 + Math.random() * 0.5) / (KILLS - k)));
      killedAt.push(await killWhen(server, pending, (n) => n <= threshold));
      server = await start(env);
    }
    // The last start resumes and finishes.
    const ownerThere = new GraphQLClient(server.url, owner.token);
    const status = await until(
      async () => (await ownerThere.ok(`query($s: String!) { workspace(slug: $s) { keyStatus { currentVersion pendingReencryption } } }`, { s: workspace.slug })).workspace.keyStatus,
      (s) => s.pendingReencryption === 0,
    );
    const reencryptedMs = performance.now() - rotatedAt;
    expect(status.currentVersion).toBe(2);
    const versions = await until(
      async () => (await db.query(`SELECT "version" FROM "WorkspaceKey" WHERE "workspaceId" = $1 ORDER BY 1`, [workspace.id])).rows.map((r) => r.version),
      (v) => v.length === 1,
    );
    stop = true;
    await load;

    expect(versions).toEqual([2]);
    expect(await openAll(db, masterKey, workspace.id, seeded)).toEqual([]);
    expect(wrong).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    // A sample through the API of the last process.
    for (const c of seeded.filter((_, i) => i % 100 === 0)) {
      const response = await fetch(`${server.url}/api/v1/connections/${c.name}`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await response.json()) as { password: string }).password).toBe(c.password);
    }
    // Every kill landed inside the rotation.
    for (const n of killedAt) expect(n).toBeGreaterThan(0);
    meta(context, { connections: CONNECTIONS, killedWithPending: killedAt, resolvesOk: ok, resolvesUnavailable: unavailable, rotationToDoneMs: Math.round(reencryptedMs) });
    await server.kill();
  }, 180_000);

  it("master key: 1,000 workspace keys re-wrapped across SIGKILLs; the old key alone is then refused", async (context) => {
    const { db, base } = await environment();
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const oldEnv = { ...base, PATCHBAY_MASTER_KEY: oldKey.toString("base64") };
    let server = await start(oldEnv);
    const owner = await signUp(new GraphQLClient(server.url), "master");
    const workspace = await createWorkspace(owner.client);
    const seeded = await seedConnections(db, oldEnv.PATCHBAY_MASTER_KEY, workspace.id, 50);
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "RESOLVE"]);
    // Many more workspaces, straight into the database: the keys a rotation has to re-wrap.
    const ids = Array.from({ length: WORKSPACE_KEYS - 1 }, () => randomUUID());
    await db.query(`INSERT INTO "Workspace" ("id", "slug", "name") SELECT id, 'bulk-' || id, 'bulk' FROM unnest($1::text[]) AS id`, [ids]);
    await db.query(
      `INSERT INTO "WorkspaceKey" ("workspaceId", "version", "wrappedKey", "masterKeyFingerprint") SELECT id, 1, w, $3 FROM unnest($1::text[], $2::bytea[]) AS v(id, w)`,
      [ids, ids.map((id) => wrapDataKey(oldKey, id, 1, generateDataKey())), masterKeyFingerprint(oldKey)],
    );
    await server.kill();

    const rotationEnv = { ...base, PATCHBAY_MASTER_KEY: newKey.toString("base64"), PATCHBAY_MASTER_KEY_PREVIOUS: oldKey.toString("base64"), PATCHBAY_KEY_REENCRYPT_BATCH: "10" };
    const newFingerprint = masterKeyFingerprint(newKey);
    const rewrapped = async () =>
      (await db.query(`SELECT count(*)::int AS n FROM "WorkspaceKey" WHERE "masterKeyFingerprint" = $1`, [newFingerprint])).rows[0].n as number;
    const killedAt: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const before = await rewrapped();
      const threshold = before + Math.ceil((WORKSPACE_KEYS - before) * (0.15 + Math.random() * 0.5) / (KILLS - k));
      killedAt.push(await killWhen(spawn(rotationEnv, await freePort()), rewrapped, (n) => n >= threshold));
    }
    const startedAt = performance.now();
    server = await start(rotationEnv);
    const finishMs = performance.now() - startedAt;
    const { rows } = await db.query(`SELECT "masterKeyFingerprint" AS f, count(*)::int AS n FROM "WorkspaceKey" GROUP BY 1 UNION ALL SELECT "masterKeyFingerprint", count(*)::int FROM "InstanceKey" GROUP BY 1`);
    expect(rows.every((r) => r.f === newFingerprint)).toBe(true);
    // Every key opens with the new master key, to the key it was: the secrets open unchanged.
    expect(await openAll(db, newKey, workspace.id, seeded)).toEqual([]);
    // The token and the session from before the rotation still work, and so do resolves.
    const c = seeded[3];
    const response = await fetch(`${server.url}/api/v1/connections/${c.name}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await response.json()) as { password: string }).password).toBe(c.password);
    expect((await new GraphQLClient(server.url, owner.token).ok(`{ viewer { user { id } } }`)).viewer.user.id).toBe(owner.userId);
    await server.kill();

    // The old key alone is refused, in one line; the new one alone starts.
    const refused = spawn(oldEnv, await freePort());
    const exit = await within(refused.exited, 60_000, () => `the start with the old key to be refused:\n${refused.stderr()}`);
    expect(exit.code).not.toBe(0);
    const message = refused.stderr().trim().split("\n").filter((l) => l.includes(newFingerprint));
    expect(message).toHaveLength(1);
    expect(message[0]).toContain("PATCHBAY_MASTER_KEY");
    expect(refused.stderr()).not.toContain(oldKey.toString("base64"));
    server = await start({ ...base, PATCHBAY_MASTER_KEY: newKey.toString("base64") });
    expect((await new GraphQLClient(server.url, owner.token).ok(`{ viewer { user { id } } }`)).viewer.user.id).toBe(owner.userId);
    await server.kill();
    for (const n of killedAt) expect(n).toBeLessThan(WORKSPACE_KEYS);
    meta(context, { workspaceKeys: WORKSPACE_KEYS, killedWithRewrapped: killedAt, lastStartMs: Math.round(finishMs) });
  }, 180_000);
});
