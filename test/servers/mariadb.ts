/**
 * Starts a throwaway MariaDB server for a test file: a fresh data directory in a temp dir, a
 * free port on 127.0.0.1, `root` reachable only through the Unix socket. Follows
 * shared/recipes/test-services.md; `--skip-name-resolve` keeps a password user created as
 * 'name'@'%' from being shadowed by the anonymous ''@'localhost' account.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { freePort } from "../../src/net/free-port";
import { findProgram } from "./availability";

export interface MariaDbOptions {
  /** PEM files for the server's TLS; without them the server offers no TLS. */
  tls?: { certFile: string; keyFile: string };
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

export interface MariaDbHandle {
  host: "127.0.0.1";
  port: number;
  /** Runs statements as root over the Unix socket. */
  admin(sql: string, values?: unknown[]): Promise<unknown>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startMariaDb(options: MariaDbOptions = {}): Promise<MariaDbHandle> {
  const installDb = findProgram("mariadb-install-db");
  const server = findProgram("mariadbd");
  if (!installDb || !server) throw new Error("mariadb-install-db or mariadbd is not installed");

  const dir = await mkdtemp(join(tmpdir(), "patchbay-mariadb-"));
  const dataDir = join(dir, "data");
  const socketPath = join(dir, "sock");
  const port = await freePort();
  let child: ChildProcess | undefined;
  try {
    await run(installDb, [
      "--no-defaults",
      "--user=root",
      `--datadir=${dataDir}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
    ]);
    const tlsFlags = options.tls ? [`--ssl-cert=${options.tls.certFile}`, `--ssl-key=${options.tls.keyFile}`] : [];
    child = spawn(
      server,
      [
        "--no-defaults",
        "--user=root",
        `--datadir=${dataDir}`,
        `--socket=${socketPath}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        "--skip-name-resolve",
        `--pid-file=${join(dir, "pid")}`,
        "--skip-log-bin",
        `--log-error=${join(dir, "error.log")}`,
        ...tlsFlags,
      ],
      { stdio: "ignore" },
    );
    const exited = new Promise<never>((_, reject) =>
      child!.once("exit", (code) => reject(new Error(`mariadbd exited with ${code}; see ${dir}/error.log`))),
    );
    exited.catch(() => {});
    const admin = await Promise.race([waitForSocket(socketPath, options.startTimeoutMs ?? 20_000), exited]);
    return {
      host: "127.0.0.1",
      port,
      admin: async (sql, values) => (await admin.query(sql, values))[0],
      async stop() {
        await admin.end().catch(() => {});
        await stopProcess(child!);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child) await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function waitForSocket(socketPath: string, timeoutMs: number): Promise<mysql.Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await mysql.createConnection({ socketPath, user: "root", connectTimeout: 1_000 });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`MariaDB did not accept connections within ${timeoutMs} ms`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
}
