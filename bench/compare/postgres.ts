/**
 * The benchmark's PostgreSQL: the same embedded cluster the tests and the server's default
 * mode use (src/db/embedded-postgres.ts), plus pg_stat_statements so statements per request
 * can be counted. The extension must be preloaded, so a fresh cluster is restarted once (the
 * data directory keeps its port).
 */
import { chmod, mkdir } from "node:fs/promises";
import pg from "pg";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/db/embedded-postgres";

export const BENCH_DATABASE = "bench";

export interface BenchPostgres {
  handle: EmbeddedPostgres;
  /** The database both servers use. */
  databaseUrl: string;
  /** A superuser connection to the `postgres` database, for the harness's own queries. */
  admin: pg.Client;
  /** pg_stat_statements' dbid of the bench database. */
  benchOid: number;
  /** Drops and creates the bench database (for a fresh seed). */
  recreateDatabase(): Promise<void>;
  /** The postmaster's process id: its descendants are the backends serving both servers. */
  pid(): number;
  stop(): Promise<void>;
}

export async function startBenchPostgres(dir: string): Promise<BenchPostgres> {
  // Searchable by others, as the tests do: run as root, PostgreSQL's own account then keeps
  // the cluster in this directory instead of under /var/lib/patchbay.
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o711);
  let handle = await startEmbeddedPostgres({ dir });
  let admin = await connect(handle.adminUrl);
  const { rows } = await admin.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'");
  if (!rows[0].setting.split(",").map((s) => s.trim()).includes("pg_stat_statements")) {
    await admin.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    await admin.end();
    await handle.stop();
    handle = await startEmbeddedPostgres({ dir });
    admin = await connect(handle.adminUrl);
  }
  await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const exists = await admin.query("SELECT oid FROM pg_database WHERE datname = $1", [BENCH_DATABASE]);
  if (!exists.rowCount) await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
  const oid = async () =>
    (await admin.query<{ oid: number }>("SELECT oid::int AS oid FROM pg_database WHERE datname = $1", [BENCH_DATABASE])).rows[0].oid;
  const url = new URL(handle.adminUrl);
  url.pathname = `/${BENCH_DATABASE}`;
  const result: BenchPostgres = {
    handle,
    databaseUrl: url.toString(),
    admin,
    benchOid: await oid(),
    pid: () => handle.pid() ?? -1,
    stop: async () => {
      await admin.end().catch(() => {});
      await handle.stop();
    },
    recreateDatabase: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${BENCH_DATABASE}`);
      result.benchOid = await oid();
    },
  };
  return result;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, statement_timeout: 60_000, connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}
