/**
 * Patchbay's database in the embedded PostgreSQL (DATABASE_URL unset): the cluster started in
 * the data directory, and the application database created in it on first start. The server
 * (app.ts) and the primary of PATCHBAY_WORKERS (workers.ts) both start it through here.
 */
import pg from "pg";
import type { Config } from "../config";
import type { Logger } from "../log";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded-postgres";

const EMBEDDED_DATABASE = "patchbay";

export async function startEmbeddedDatabase(
  config: Pick<Config, "dataDir">,
  logger: Logger,
  onFatal: (reason: string) => void,
): Promise<{ embedded: EmbeddedPostgres; url: string }> {
  const embedded = await startEmbeddedPostgres({ dir: config.dataDir, logger, onGiveUp: onFatal });
  try {
    const url = await ensureDatabase(embedded.adminUrl, EMBEDDED_DATABASE);
    logger.info("embedded PostgreSQL started", {
      port: embedded.port,
      postgresPid: embedded.pid(),
      dataDir: config.dataDir,
      ...(embedded.clusterDir.startsWith(config.dataDir) ? {} : { clusterDir: embedded.clusterDir }),
    });
    return { embedded, url };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

/** Creates the embedded cluster's application database once; returns its URL. */
async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
