/**
 * Start-up and lifecycle, for real: the HTTP endpoints a load balancer probes, migrations
 * applied once (also under a race), restarts against the same database, refusing to start
 * with the wrong or a malformed master key, the embedded default (`npm start` with no
 * DATABASE_URL), and the real process answering SIGTERM with a clean exit.
 *
 * Timings a README may quote are stored in each test's `meta` (see `npx vitest run
 * test/server --reporter=json`) rather than printed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { type App, startApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { MasterKeyError } from "../../src/crypto/master-key";
import { removeDataDir } from "../../src/db/embedded-postgres";
import { applyMigrations } from "../../src/db/migrate";
import { createLogger, type Logger } from "../../src/log";
import { freePort } from "../../src/net/free-port";
import { startTestApp, type TestApp } from "../support/app";
import { buildServer, type CompiledServer } from "../support/compiled-server";
import { GraphQLClient } from "../support/client";
import { createTestDatabase } from "../support/database";
import { createWorkspace, signUp } from "../support/factories";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MIGRATIONS_DIR = join(ROOT, "prisma/migrations");
const PASSWORD = "correct horse battery";

let app: TestApp;
/** Run in reverse order in afterAll, each on its own, so one failure does not skip the rest. */
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  app = await startTestApp();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await app?.stop();
});

function randomMasterKey(): string {
  return randomBytes(32).toString("base64");
}

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function capturingLogger(): { logger: Logger; logs: string[] } {
  const logs: string[] = [];
  return { logs, logger: createLogger({ level: "debug", sink: (line) => logs.push(line) }) };
}

/** Every way the key's bytes could be spelled in a message: base64, base64url, hex. */
function spellings(base64Key: string): string[] {
  const raw = Buffer.from(base64Key, "base64");
  return [base64Key, base64Key.replace(/=+$/, ""), raw.toString("base64url"), raw.toString("hex")];
}

/** Awaits a promise that must reject; returns the rejection. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      // A start that unexpectedly succeeded still has to be closed.
      if (value && typeof (value as App).close === "function") cleanups.push(() => (value as App).close());
      throw new Error("expected the promise to reject, but it resolved");
    },
    (error: unknown) => error,
  );
}

function meta(context: TestContext): Record<string, unknown> {
  return context.task.meta as Record<string, unknown>;
}

async function withPg<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function migrationFolders(): Array<{ name: string; checksum: string }> {
  return readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => ({
      name,
      // Prisma's checksum: sha256 of the file's bytes, as lowercase hex.
      checksum: createHash("sha256").update(readFileSync(join(MIGRATIONS_DIR, name, "migration.sql"))).digest("hex"),
    }));
}

interface MigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

async function migrationRows(url: string): Promise<MigrationRow[]> {
  return withPg(url, async (client) => {
    const { rows } = await client.query<MigrationRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    return rows;
  });
}

function expectEachMigrationRecordedOnce(rows: MigrationRow[]): void {
  const folders = migrationFolders();
  expect(folders.length).toBeGreaterThan(0);
  expect(rows.map((r) => r.migration_name)).toEqual(folders.map((f) => f.name));
  for (const folder of folders) {
    const row = rows.find((r) => r.migration_name === folder.name)!;
    expect(row.finished_at, folder.name).toBeInstanceOf(Date);
    expect(row.rolled_back_at, folder.name).toBeNull();
    expect(row.checksum, folder.name).toBe(folder.checksum);
  }
}

describe("HTTP endpoints", () => {
  it("answers /healthz, /readyz and unknown paths with JSON", async () => {
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await health.json()).toEqual({ status: "ok" });

    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await ready.json()).toEqual({ status: "ready" });

    const missing = await fetch(`${app.url}/no-such-endpoint`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await missing.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("NOT_FOUND");
    expect(typeof body.error.message).toBe("string");
  });
});

describe("migrations", () => {
  it("records every migration folder once, finished, with Prisma's checksum", async () => {
    expectEachMigrationRecordedOnce(await migrationRows(app.databaseUrl));
  });

  it("applies nothing when run again on a migrated database", async () => {
    const run = await applyMigrations(app.databaseUrl, MIGRATIONS_DIR);
    expect(run.applied).toEqual([]);
    expect(run.alreadyApplied).toBe(migrationFolders().length);
    expectEachMigrationRecordedOnce(await migrationRows(app.databaseUrl));
  });

  it("refuses to start when an applied migration's file has changed, applying nothing", async () => {
    const database = await createTestDatabase("edited");
    cleanups.push(() => database.drop());
    const dir = await mkdtemp(join(tmpdir(), "patchbay-migrations-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await applyMigrations(database.url, dir);

    const [first] = migrationFolders();
    await appendFile(join(dir, first.name, "migration.sql"), "\n-- edited after it was applied\n");
    await mkdir(join(dir, "99990101000000_later"));
    await writeFile(join(dir, "99990101000000_later", "migration.sql"), "CREATE TABLE later_marker (id int);");

    await expect(applyMigrations(database.url, dir)).rejects.toThrow(
      new RegExp(`Migration ${first.name} was changed after it was applied`),
    );
    // The later migration did not run, and the applied one keeps its recorded checksum.
    const rows = await migrationRows(database.url);
    expect(rows.map((r) => r.migration_name)).not.toContain("99990101000000_later");
    expectEachMigrationRecordedOnce(rows);
    await expect(applyMigrations(database.url, MIGRATIONS_DIR)).resolves.toMatchObject({ applied: [] });
    await database.drop();
  });

  it("records each migration exactly once when three runs race on a fresh database", async () => {
    const database = await createTestDatabase("race");
    cleanups.push(() => database.drop());
    const runs = await Promise.all([1, 2, 3].map(() => applyMigrations(database.url, MIGRATIONS_DIR)));

    const names = migrationFolders().map((f) => f.name);
    // Serialised by the advisory lock: between them the runs applied each migration once.
    expect(runs.flatMap((r) => r.applied).sort()).toEqual(names);
    for (const run of runs) expect(run.applied.length + run.alreadyApplied).toBe(names.length);
    expectEachMigrationRecordedOnce(await migrationRows(database.url));
    await database.drop();
  });
});

describe("restarting against the same database", () => {
  it("a second server with the same master key sees the first one's data and sessions", async (context) => {
    const anonymous = new GraphQLClient(app.url);
    const owner = await signUp(anonymous, "restart");
    const workspace = await createWorkspace(owner.client);

    const dataDir = await tempDir("patchbay-second-");
    const { logger } = capturingLogger();
    const config = loadConfig({
      PORT: "0",
      DATABASE_URL: app.databaseUrl,
      PATCHBAY_MASTER_KEY: app.masterKey,
      PATCHBAY_DATA_DIR: dataDir,
    });
    const started = performance.now();
    const second = await startApp(config, { logger });
    meta(context).secondStartMs = Math.round(performance.now() - started);
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await second.close();
    });

    expect(second.url).not.toBe(app.url);
    const data = await new GraphQLClient(second.url, owner.token).ok(`{ workspaces { id slug } }`);
    expect(data.workspaces).toEqual([{ id: workspace.id, slug: workspace.slug }]);

    // Closing the second server leaves the first serving, and frees the second's port.
    closed = true;
    await second.close();
    await expect(fetch(`${second.url}/healthz`)).rejects.toThrow();
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    expect((await owner.client.ok(`{ workspaces { id } }`)).workspaces).toEqual([{ id: workspace.id }]);
  });
});

describe("master key checks at start-up", () => {
  it("refuses a master key that does not open the database's workspace keys, without echoing either key", async () => {
    // Make sure the database holds at least one wrapped workspace key.
    const owner = await signUp(new GraphQLClient(app.url), "keys");
    await createWorkspace(owner.client);

    const wrongKey = randomMasterKey();
    const { logger, logs } = capturingLogger();
    const config = loadConfig({
      PORT: "0",
      DATABASE_URL: app.databaseUrl,
      PATCHBAY_MASTER_KEY: wrongKey,
      PATCHBAY_DATA_DIR: await tempDir("patchbay-wrongkey-"),
    });
    const error = await rejection(startApp(config, { logger }));
    expect(error).toBeInstanceOf(MasterKeyError);
    const message = (error as Error).message;
    expect(message).toMatch(/master key/i);
    for (const spelling of [...spellings(wrongKey), ...spellings(app.masterKey)]) {
      expect(message).not.toContain(spelling);
      expect(logs.join("\n")).not.toContain(spelling);
    }
    // The refused start did not disturb the running server.
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  });

  it.each([
    ["not base64", "not-base64!!"],
    ["base64 of 16 bytes", randomBytes(16).toString("base64")],
  ])("refuses a malformed PATCHBAY_MASTER_KEY (%s)", async (_label, value) => {
    const config = loadConfig({
      PORT: "0",
      DATABASE_URL: app.databaseUrl,
      PATCHBAY_MASTER_KEY: value,
      PATCHBAY_DATA_DIR: await tempDir("patchbay-badkey-"),
    });
    const error = await rejection(startApp(config, { logger: capturingLogger().logger }));
    expect(error).toBeInstanceOf(MasterKeyError);
    expect((error as Error).message).toContain("PATCHBAY_MASTER_KEY");
    expect((error as Error).message).not.toContain(value);
  });

  it("refuses to start in production without PATCHBAY_MASTER_KEY", async () => {
    const database = await createTestDatabase("prod");
    cleanups.push(() => database.drop());
    const dataDir = await tempDir("patchbay-prod-");
    const config = loadConfig({ PORT: "0", DATABASE_URL: database.url, PATCHBAY_DATA_DIR: dataDir, NODE_ENV: "production" });
    const error = await rejection(startApp(config, { logger: capturingLogger().logger }));
    expect(error).toBeInstanceOf(MasterKeyError);
    expect((error as Error).message).toContain("PATCHBAY_MASTER_KEY");
    // It must not have fallen back to generating a key file.
    expect(readdirSync(dataDir)).not.toContain("master.key");
  });
});

describe("embedded mode (npm start without DATABASE_URL)", () => {
  it("runs its own PostgreSQL, generates master.key 0600, and keeps both across a restart", { timeout: 180_000 }, async (context) => {
    const dir = await tempDir("patchbay-embedded-");
    const config = loadConfig({ PORT: "0", PATCHBAY_DATA_DIR: dir });
    expect(config.databaseUrl).toBeUndefined();
    const email = `embedded-${randomBytes(4).toString("hex")}@example.com`;
    const opened: App[] = [];
    try {
      const first = capturingLogger();
      let started = performance.now();
      const one = await startApp(config, { logger: first.logger });
      meta(context).embeddedFirstStartMs = Math.round(performance.now() - started);
      opened.push(one);

      const keyPath = join(dir, "master.key");
      const keyStat = await stat(keyPath);
      expect(keyStat.mode & 0o777).toBe(0o600);
      const keyText = await readFile(keyPath, "utf8");
      expect(Buffer.from(keyText.trim(), "base64")).toHaveLength(32);
      expect(first.logs.some((l) => JSON.parse(l).msg === "generated a new master key")).toBe(true);

      const signedUp = await new GraphQLClient(one.url).ok(
        `mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token user { email } } }`,
        { e: email, p: PASSWORD },
      );
      expect(signedUp.signUp.user.email).toBe(email);
      const workspace = await createWorkspace(new GraphQLClient(one.url, signedUp.signUp.token));
      await one.close();
      opened.pop();
      await expect(fetch(`${one.url}/healthz`)).rejects.toThrow();

      const second = capturingLogger();
      started = performance.now();
      const two = await startApp(config, { logger: second.logger });
      meta(context).embeddedSecondStartMs = Math.round(performance.now() - started);
      opened.push(two);

      expect(await readFile(keyPath, "utf8")).toBe(keyText);
      expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
      expect(second.logs.some((l) => JSON.parse(l).msg === "generated a new master key")).toBe(false);
      // No migration ran twice.
      expect(second.logs.some((l) => JSON.parse(l).msg === "migrations applied")).toBe(false);

      const loggedIn = await new GraphQLClient(two.url).ok(
        `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token user { email } } }`,
        { e: email, p: PASSWORD },
      );
      expect(loggedIn.logIn.user.email).toBe(email);
      // The workspace key written by the first start opens with the reloaded key file.
      const data = await new GraphQLClient(two.url, loggedIn.logIn.token).ok(`{ workspaces { id } }`);
      expect(data.workspaces).toEqual([{ id: workspace.id }]);

      for (const line of [...first.logs, ...second.logs]) expect(line).not.toContain(keyText.trim());
    } finally {
      for (const a of opened.reverse()) await a.close().catch(() => {});
      await removeDataDir(dir);
    }
  });
});

describe("the real process (npm start)", () => {
  // What `npm start` runs: the compiled server in one Node process, so signals reach it itself.
  let compiled: CompiledServer;
  beforeAll(async () => {
    compiled = await buildServer();
    cleanups.push(() => compiled.remove());
  }, 120_000);

  interface Spawned {
    child: ChildProcess;
    stderr: () => string;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  }

  function spawnServer(env: Record<string, string>): Spawned {
    // Only what the server needs, so nothing from the test runner's environment leaks in.
    const child = spawn(process.execPath, [compiled.mainJs], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so cleanup can reach the embedded database too.
      detached: true,
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdout!.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    let done = false;
    void exited.then(() => (done = true));
    cleanups.push(async () => {
      if (done || child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
      await within(exited, 5_000, "killed server to exit");
    });
    return { child, stderr: () => stderr, exited };
  }

  async function within<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${typeof what === "function" ? what() : what}`)), ms);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function waitUntilReady(url: string, server: Spawned, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    let exited = false;
    void server.exited.then(() => (exited = true));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`the server exited before it was ready:\n${server.stderr()}`);
      const ok = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`/readyz did not answer 200 within ${ms} ms:\n${server.stderr()}`);
  }

  it("serves until SIGTERM, then exits 0; its log is JSON and never holds the master key", { timeout: 60_000 }, async (context) => {
    const database = await createTestDatabase("proc");
    cleanups.push(() => database.drop());
    const port = await freePort();
    const masterKey = randomMasterKey();
    const dbPassword = decodeURIComponent(new URL(database.url).password);
    const started = performance.now();
    const server = spawnServer({
      PORT: String(port),
      DATABASE_URL: database.url,
      PATCHBAY_MASTER_KEY: masterKey,
      PATCHBAY_DATA_DIR: await tempDir("patchbay-proc-"),
    });
    const url = `http://127.0.0.1:${port}`;
    await waitUntilReady(url, server, 20_000);
    meta(context).processReadyMs = Math.round(performance.now() - started);

    // It really serves GraphQL.
    await signUp(new GraphQLClient(url), "process");

    server.child.kill("SIGTERM");
    const exit = await within(server.exited, 10_000, () => `the server to exit after SIGTERM; its stderr:\n${server.stderr()}`);
    // Soft, so the log checks below still run when the exit status is wrong.
    expect.soft(exit, `stderr:\n${server.stderr()}`).toEqual({ code: 0, signal: null });

    const lines = server.stderr().split("\n").filter((l) => l.trim() !== "");
    expect(lines.length).toBeGreaterThan(0);
    const entries = lines.map((line) => {
      try {
        return JSON.parse(line) as { level: string; msg: string };
      } catch {
        throw new Error(`stderr line is not JSON: ${line}`);
      }
    });
    expect(entries.map((e) => e.msg)).toContain("Patchbay is serving");
    expect(entries.map((e) => e.msg)).toContain("shutting down");
    for (const secret of [...spellings(masterKey), dbPassword]) expect(server.stderr()).not.toContain(secret);
    await database.drop();
  });

  it("exits 1 naming PATCHBAY_MASTER_KEY when NODE_ENV=production has no master key", { timeout: 30_000 }, async () => {
    const database = await createTestDatabase("procprod");
    cleanups.push(() => database.drop());
    const dataDir = await tempDir("patchbay-procprod-");
    const server = spawnServer({
      NODE_ENV: "production",
      PORT: String(await freePort()),
      DATABASE_URL: database.url,
      PATCHBAY_DATA_DIR: dataDir,
    });
    const exit = await within(server.exited, 20_000, "the server to refuse to start");
    expect(exit.code).toBe(1);
    expect(server.stderr()).toContain("PATCHBAY_MASTER_KEY");
    expect(readdirSync(dataDir)).not.toContain("master.key");
    await database.drop();
  });
});
