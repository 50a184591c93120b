/**
 * The sqlite adapter against files in a temp directory standing in for PATCHBAY_SQLITE_ROOT:
 * a real database, a file that is not one, a missing file, a directory, and every way out of
 * the directory (`..`, an absolute path elsewhere, a symbolic link pointing out).
 */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateSettings } from "../../src/adapters/registry";
import { SQLITE_DISABLED_MESSAGE, sqliteAdapter } from "../../src/adapters/sqlite";
import type { ConnectionSettings, TestOutcome } from "../../src/adapters/types";
import { testContext } from "./support/context";
import { expectFailure } from "./support/outcome";

const { Database } = createRequire(import.meta.url)("node-sqlite3-wasm") as typeof import("node-sqlite3-wasm");

let base: string;
let root: string;
let outside: string;

function settings(host: string | null): ConnectionSettings {
  return { host, port: null, schema: null, login: null, password: null, extra: {} };
}

function testSqlite(host: string | null, sqliteRoot: string | null = root): Promise<TestOutcome> {
  return sqliteAdapter.test!(settings(host), testContext({ sqliteRoot }));
}

function createDatabase(file: string): void {
  const db = new Database(file);
  try {
    db.exec("CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX events_name ON events (name);");
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "patchbay-sqlite-"));
  root = join(base, "root");
  outside = join(base, "outside");
  await mkdir(join(root, "analytics"), { recursive: true });
  await mkdir(outside);
  createDatabase(join(root, "analytics", "events.db"));
  createDatabase(join(outside, "secret.db"));
  await writeFile(join(root, "notes.txt"), "These are notes, not a database. ".repeat(50));
  await symlink(join(outside, "secret.db"), join(root, "escape.db"));
  await symlink(join(root, "analytics", "events.db"), join(root, "alias.db"));
  await symlink(outside, join(root, "outside-dir"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("sqlite adapter field specs and validation", () => {
  it("keeps the file path in host, as Airflow does, and skips the network host check for it", () => {
    expect(sqliteAdapter.fields).toEqual([expect.objectContaining({ name: "host", kind: "STRING", required: true, path: true })]);
    expect(validateSettings(sqliteAdapter, settings("analytics/events.db"))).toEqual([]);
    expect(validateSettings(sqliteAdapter, settings("data files/My Events.db"))).toEqual([]);
  });

  it("refuses '..' and NUL when the connection is saved", () => {
    expect(validateSettings(sqliteAdapter, settings("../outside/secret.db"))).toEqual([expect.objectContaining({ field: "host" })]);
    expect(validateSettings(sqliteAdapter, settings("analytics/../../x.db"))).toEqual([expect.objectContaining({ field: "host" })]);
    expect(validateSettings(sqliteAdapter, settings("a\0b.db"))).toEqual([expect.objectContaining({ field: "host" })]);
  });
});

describe("sqlite adapter", () => {
  it("opens a database read-only and reports the SQLite version", async () => {
    const outcome = await testSqlite("analytics/events.db");
    expect(outcome).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^SQLite 3\.\d+\.\d+$/) });
    expect(outcome.message).toContain("2 schema objects");
    // Read-only: no journal or WAL files appear next to the database.
    expect((await readdir(join(root, "analytics"))).sort()).toEqual(["events.db"]);
  });

  it("accepts an absolute path inside the directory, and a symbolic link that stays inside", async () => {
    expect(await testSqlite(join(root, "analytics", "events.db"))).toMatchObject({ ok: true });
    expect(await testSqlite("alias.db")).toMatchObject({ ok: true });
  });

  it("reports NOT_FOUND for a missing file and never creates one", async () => {
    const message = expectFailure(await testSqlite("analytics/missing.db"), "NOT_FOUND");
    expect(message).toContain("analytics/missing.db");
    expect(existsSync(join(root, "analytics", "missing.db"))).toBe(false);
  });

  it("reports PROTOCOL_ERROR for a file that is not an SQLite database", async () => {
    expect(expectFailure(await testSqlite("notes.txt"), "PROTOCOL_ERROR")).toMatch(/not an SQLite database/);
  });

  it("reports INVALID_CONFIG for a directory", async () => {
    expectFailure(await testSqlite("analytics"), "INVALID_CONFIG");
  });

  it("reports INVALID_CONFIG for a named pipe instead of blocking on it", async () => {
    execFileSync("mkfifo", [join(root, "pipe.db")]);
    expect(expectFailure(await testSqlite("pipe.db"), "INVALID_CONFIG")).toMatch(/not a regular file/);
  });

  it("reports INVALID_CONFIG when SQLite is not enabled on the server", async () => {
    expect(expectFailure(await testSqlite("analytics/events.db", null), "INVALID_CONFIG")).toBe(SQLITE_DISABLED_MESSAGE);
  });

  it("reports INVALID_CONFIG for a path that leaves the directory with '..', without looking at the file", async () => {
    const message = expectFailure(await testSqlite("../outside/secret.db"), "INVALID_CONFIG");
    expect(message).not.toContain(root);
  });

  it("reports INVALID_CONFIG for an absolute path outside the directory", async () => {
    expectFailure(await testSqlite(join(outside, "secret.db")), "INVALID_CONFIG");
    expectFailure(await testSqlite("/etc/passwd"), "INVALID_CONFIG");
  });

  it("reports PERMISSION_DENIED for a symbolic link that points outside the directory", async () => {
    const message = expectFailure(await testSqlite("escape.db"), "PERMISSION_DENIED");
    expect(message).toMatch(/symbolic link/);
    expect(message).not.toContain(outside);
    expectFailure(await testSqlite("outside-dir/secret.db"), "PERMISSION_DENIED");
  });

  it("works when the directory itself is reached through a symbolic link", async () => {
    const linkedRoot = join(base, "linked-root");
    await symlink(root, linkedRoot);
    expect(await testSqlite("analytics/events.db", linkedRoot)).toMatchObject({ ok: true });
    expect(await testSqlite(join(root, "analytics", "events.db"), linkedRoot)).toMatchObject({ ok: true });
  });
});
