/**
 * Runs initdb and the PostgreSQL server from the packaged binaries, as this process's user or
 * as the account given. The server gets its own session (so Ctrl-C, which signals the
 * terminal's whole process group, reaches Patchbay alone, and Patchbay stops PostgreSQL after
 * the last request) and, where util-linux's setpriv exists, a parent-death signal so it does
 * not outlive a Patchbay that is killed outright. It sees none of Patchbay's environment
 * (master key, DATABASE_URL, cloud credentials).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { access, constants, readFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import type { RunAs } from "./account";
import type { PostgresBinaries } from "./binaries";
import { EmbeddedPostgresError } from "./errors";
import { LogTail } from "./log-tail";

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PostgresProcess {
  pid: number;
  /** Resolves when the server process has exited, for whatever reason. */
  exited: Promise<Exit>;
  hasExited(): boolean;
  /** Its last log lines. */
  lastLines(): string[];
  /** Fast shutdown (SIGINT); immediate (SIGQUIT) and then SIGKILL if it does not go in time. */
  stop(): Promise<Exit>;
}

export interface RunOptions {
  binaries: PostgresBinaries;
  clusterDir: string;
  runAs?: RunAs;
  /** Every line PostgreSQL writes. */
  onLine?: (line: string) => void;
}

const INITDB_DEADLINE_MS = 120_000;
// Crash recovery after a kill replays WAL; a small embedded cluster does that in seconds.
const READY_DEADLINE_MS = 120_000;
const FAST_SHUTDOWN_MS = 5_000;
const IMMEDIATE_SHUTDOWN_MS = 3_000;

/** Creates the cluster; `pwfile` holds the superuser's password verifier. */
export async function initCluster(options: RunOptions & { pwfile: string }): Promise<void> {
  const tail = new LogTail(20, options.onLine);
  const child = launch(options, null, options.binaries.initdb, [
    `--pgdata=${options.clusterDir}`,
    "--username=postgres",
    `--pwfile=${options.pwfile}`,
    "--auth=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C",
    "--no-instructions",
  ], tail);
  const exit = await settle(child, INITDB_DEADLINE_MS);
  if (exit.error) throw new EmbeddedPostgresError(`could not run ${options.binaries.initdb}: ${exit.error.message}`);
  if (exit.code !== 0) {
    throw new EmbeddedPostgresError(`initdb failed (${describeExit(exit)}) for ${options.clusterDir}: ${tail.last().slice(-3).join(" | ")}`);
  }
}

/** Starts the server on 127.0.0.1:`port` and resolves once it accepts connections. */
export async function startServer(options: RunOptions & { port: number }): Promise<PostgresProcess> {
  const tail = new LogTail(30, options.onLine);
  const args = [
    "-D", options.clusterDir,
    "-p", String(options.port),
    "-c", "listen_addresses=127.0.0.1",
    "-c", "unix_socket_directories=",
    "-c", "max_connections=200",
  ];
  const child = launch(options, await setprivPath(), options.binaries.postgres, args, tail);
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once("exit", (code, signal) => resolve((exit = { code, signal })));
    // A failed spawn (EACCES, ENOENT) emits error and no exit.
    child.once("error", () => resolve((exit = { code: null, signal: null })));
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));

  const ready = await Promise.race([
    waitUntilReady(options.clusterDir, child, () => exit !== null),
    exited.then(() => false),
  ]);
  if (!ready) {
    const error = await Promise.race([spawnError, Promise.resolve(null)]);
    if (exit === null) await stopChild(child, exited);
    const why = error ? `could not run ${options.binaries.postgres}: ${error.message}` : `exited during start-up (${describeExit(exit ?? { code: null, signal: null })})`;
    throw new EmbeddedPostgresError(`the embedded PostgreSQL ${why}: ${tail.last().slice(-3).join(" | ") || "no output"}`);
  }
  return {
    pid: child.pid!,
    exited,
    hasExited: () => exit !== null,
    lastLines: () => tail.last(),
    stop: () => stopChild(child, exited),
  };
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

/**
 * `setpriv` given: the server, in its own session, with SIGINT (fast shutdown) as its
 * parent-death signal. Set after the uid change, which would clear it. Not given: initdb, in
 * our process group, so Ctrl-C during a first start stops it and it cleans up after itself.
 */
function launch(options: RunOptions, setpriv: string | null, file: string, args: string[], tail: LogTail): ChildProcess {
  const server = file === options.binaries.postgres;
  const [command, argv] = server && setpriv ? [setpriv, ["--pdeathsig", "INT", "--", file, ...args]] : [file, args];
  const child = spawn(command, argv, {
    cwd: "/",
    detached: server,
    stdio: ["ignore", "pipe", "pipe"],
    env: postgresEnvironment(),
    ...(options.runAs ? { uid: options.runAs.uid, gid: options.runAs.gid } : {}),
  });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => tail.write(chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => tail.write(chunk));
  return child;
}

function postgresEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", LC_ALL: "C", LANG: "C" };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}

/** Polls postmaster.pid until its status line says "ready" for this very process. */
async function waitUntilReady(clusterDir: string, child: ChildProcess, hasExited: () => boolean): Promise<boolean> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline && !hasExited()) {
    const lines = (await readFile(join(clusterDir, "postmaster.pid"), "utf8").catch(() => "")).split("\n");
    if (Number(lines[0]) === child.pid && lines[7]?.trim() === "ready") return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** Resolves with the exit, or kills the child at the deadline. */
function settle(child: ChildProcess, deadlineMs: number): Promise<Exit & { error?: Error }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, error });
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<Exit>): Promise<Exit> {
  for (const [signal, waitMs] of [["SIGINT", FAST_SHUTDOWN_MS], ["SIGQUIT", IMMEDIATE_SHUTDOWN_MS], ["SIGKILL", 10_000]] as const) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    child.kill(signal);
    const done = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), waitMs).unref())]);
    if (done) break;
  }
  return exited;
}

let setpriv: Promise<string | null> | undefined;

/** util-linux's setpriv, which can set the parent-death signal; Node cannot. Linux only. */
function setprivPath(): Promise<string | null> {
  setpriv ??= process.platform === "linux" ? findOnPath("setpriv") : Promise.resolve(null);
  return setpriv;
}

async function findOnPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
    const candidate = join(dir, name);
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  return null;
}
