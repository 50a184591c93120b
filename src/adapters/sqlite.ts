/**
 * SQLite, through node-sqlite3-wasm (SQLite compiled to WebAssembly, reading the real file).
 * As in Airflow, the database file is in `host`, as a path relative to the directory the
 * operator allows (PATCHBAY_SQLITE_ROOT, handed in as ctx.sqliteRoot). The file must resolve,
 * symbolic links followed, to a regular file inside that directory; it is opened read-only,
 * so a test never creates or changes a database.
 *
 * Which code a path gets: a path that names a place outside the directory as written (an
 * absolute path elsewhere, a `..` segment) is INVALID_CONFIG, decided without touching the
 * disk; a path inside it whose file turns out to be a symbolic link out of it is
 * PERMISSION_DENIED. Messages name the path as the user typed it, never the directory.
 */
import { createRequire } from "node:module";
import { formatDuration } from "./common/progress";
import { realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { DeadlineExceeded } from "./common/deadline";
import { errorCode, type Failure } from "./common/network-errors";
import { type Probe, runProbe } from "./common/probe";
import type { ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec, TestContext, TestOutcome } from "./types";

export const SQLITE_DISABLED_MESSAGE = "SQLite is not enabled on this server (PATCHBAY_SQLITE_ROOT).";

const fields: FieldSpec[] = [
  {
    name: "host",
    label: "Database file",
    kind: "STRING",
    required: true,
    path: true,
    placeholder: "analytics/events.db",
    description: "Path of the SQLite file inside the directory this server allows (PATCHBAY_SQLITE_ROOT), e.g. analytics/events.db.",
  },
];

export const sqliteAdapter: ConnectionAdapter = {
  id: "sqlite",
  label: "SQLite",
  summary: "opens a file under `PATCHBAY_SQLITE_ROOT` read-only (no escape by `..` or symlink)",
  fields,
  validate(settings) {
    const problem = settings.host === null ? null : pathProblem(settings.host);
    return problem ? [{ field: "host", message: problem } satisfies FieldProblem] : [];
  },
  // Airflow's SQLite connection keeps the file path in host (SqliteHook): host, then schema;
  // neither is an in-memory database.
  sqlalchemy: (settings) => ({
    drivername: "sqlite",
    username: null,
    password: null,
    host: null,
    port: null,
    database: settings.host || settings.schema || null,
    query: {},
  }),
  test: testSqlite,
};

/** Why a path can never name a file inside the directory, whatever the directory is. */
function pathProblem(path: string): string | null {
  if (path.includes("\0")) return "A file path cannot contain a NUL character.";
  if (path.split(/[\\/]/).includes("..")) return "A file path cannot contain '..'; give the path inside the SQLite directory.";
  return null;
}

class Refused extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

interface SqliteTarget {
  root: string;
  path: string;
}

const probe: Probe<SqliteTarget, { version: string; objects: number }> = {
  fields,
  target(settings, ctx) {
    if (!ctx.sqliteRoot) return { code: "INVALID_CONFIG", message: SQLITE_DISABLED_MESSAGE };
    const path = settings.host;
    if (!path) return { code: "INVALID_CONFIG", message: "Database file is required." };
    const problem = pathProblem(path);
    if (problem) return { code: "INVALID_CONFIG", message: problem };
    return { root: ctx.sqliteRoot, path };
  },
  // The query below is synchronous and cannot be interrupted; the deadline covers the file
  // checks, and the read itself touches only the first pages of the file.
  async open({ root, path }, { ctx, closeWith }) {
    const file = await confine(root, path);
    ctx.signal.throwIfAborted();
    let database: SqliteDatabase | undefined;
    closeWith({ destroy: () => closeQuietly(database) });
    try {
      database = new (sqlite().Database)(file, { readOnly: true });
      const version = String(database.get("SELECT sqlite_version() AS version")?.version ?? "");
      const objects = Number(database.get("SELECT count(*) AS objects FROM sqlite_master")?.objects ?? 0);
      return { version, objects };
    } catch (error) {
      throw new Refused(openFailure(error, path));
    }
  },
  describe: ({ path }, { version, objects }) => ({
    ok: true,
    message: `Opened ${path} read-only: ${objects} schema object${objects === 1 ? "" : "s"} (tables, indexes, views, triggers).`,
    serverVersion: version ? `SQLite ${version}` : null,
  }),
  classify(error, { path }, { ctx }) {
    if (error instanceof Refused) return error.failure;
    if (error instanceof DeadlineExceeded) return { code: "TIMEOUT", message: `Opening ${path} did not finish within ${formatDuration(ctx.timeoutMs)}.` };
    return { code: "UNKNOWN", message: `Opening ${path} failed.` };
  },
};

function testSqlite(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

/**
 * The real path of the file `path` names inside `root`, or a Refused. The containment check runs twice: on
 * the path as written (so nothing outside is even looked at), then on the real paths of both
 * the root and the file, so a symbolic link cannot lead out.
 */
async function confine(root: string, path: string): Promise<string> {
  const rootPath = resolve(root);
  let realRoot: string;
  try {
    realRoot = await realpath(rootPath);
  } catch {
    throw new Refused({ code: "UNKNOWN", message: "The SQLite directory of this server (PATCHBAY_SQLITE_ROOT) cannot be read." });
  }

  const candidate = isAbsolute(path) ? resolve(path) : resolve(rootPath, path);
  if (!inside(rootPath, candidate) && !inside(realRoot, candidate)) {
    throw new Refused({ code: "INVALID_CONFIG", message: `${path} is outside the SQLite directory of this server; give a path inside it.` });
  }

  let file: string;
  try {
    file = await realpath(candidate);
  } catch (error) {
    throw new Refused(fileFailure(error, path));
  }
  if (!inside(realRoot, file)) {
    throw new Refused({
      code: "PERMISSION_DENIED",
      message: `${path} leads (through a symbolic link) outside the SQLite directory of this server, so it may not be opened.`,
    });
  }
  let kind;
  try {
    kind = await stat(file);
  } catch (error) {
    throw new Refused(fileFailure(error, path));
  }
  // Opening a FIFO or a device would block or read forever; only regular files are databases.
  if (!kind.isFile()) {
    const what = kind.isDirectory() ? "a directory" : "not a regular file";
    throw new Refused({ code: "INVALID_CONFIG", message: `${path} is ${what}, not an SQLite database file.` });
  }
  return file;
}

/** Whether `path` is `dir` or below it (both absolute and normalised). */
function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function fileFailure(error: unknown, path: string): Failure {
  switch (errorCode(error)) {
    case "ENOENT":
    case "ENOTDIR":
      return { code: "NOT_FOUND", message: `There is no file ${path} in the SQLite directory of this server.` };
    case "EACCES":
    case "EPERM":
      return { code: "PERMISSION_DENIED", message: `This server may not read ${path}.` };
    case "ELOOP":
      return { code: "INVALID_CONFIG", message: `${path} is a loop of symbolic links.` };
    default:
      return { code: "UNKNOWN", message: `${path} cannot be read.` };
  }
}

/** SQLite's own error text names no path and no secret; it is kept as a hint. */
function openFailure(error: unknown, shown: string): Failure {
  const message = error instanceof Error ? error.message : String(error);
  if (/not a database|file is encrypted/i.test(message)) {
    return { code: "PROTOCOL_ERROR", message: `${shown} is not an SQLite database.` };
  }
  if (/database disk image is malformed/i.test(message)) {
    return { code: "PROTOCOL_ERROR", message: `${shown} is a damaged SQLite database (the disk image is malformed).` };
  }
  if (/locked|busy/i.test(message)) {
    return { code: "UNKNOWN", message: `${shown} is locked by another process. Try again later.` };
  }
  if (/Could not open/i.test(message) || /unable to open/i.test(message)) {
    return { code: "PERMISSION_DENIED", message: `SQLite could not open ${shown} read-only.` };
  }
  return { code: "UNKNOWN", message: `Reading ${shown} failed.` };
}

type SqliteModule = typeof import("node-sqlite3-wasm");
type SqliteDatabase = InstanceType<SqliteModule["Database"]>;

let loaded: SqliteModule | undefined;

/** Loaded on first use: compiling the WebAssembly module is not worth doing at start-up. */
function sqlite(): SqliteModule {
  loaded ??= createRequire(import.meta.url)("node-sqlite3-wasm") as SqliteModule;
  return loaded;
}

function closeQuietly(database: SqliteDatabase | undefined): void {
  try {
    if (database?.isOpen) database.close();
  } catch {
    // Nothing to report: the outcome is decided, and the file was opened read-only.
  }
}
