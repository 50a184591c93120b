/**
 * Applies the SQL migrations in prisma/migrations at start-up, the way `prisma migrate
 * deploy` does: in name order, each recorded in `_prisma_migrations` with its checksum,
 * under the same advisory lock, so the server and the Prisma CLI agree on what is applied.
 * Several processes starting at once serialise on the lock; a second run applies nothing.
 * A migration whose file changed after it was applied is refused before anything runs: the
 * database no longer matches what the files say, and only a person can tell which is right.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

// Prisma Migrate's own advisory lock key.
const PRISMA_MIGRATE_LOCK = 72707369;

/** The project's migrations (prisma/migrations), from src/ or from the compiled dist/. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

export class MigrationError extends Error {}

export interface MigrationRun {
  applied: string[];
  alreadyApplied: number;
}

/** Ten minutes: the default of PATCHBAY_MIGRATION_TIMEOUT_MS. */
export const DEFAULT_MIGRATION_TIMEOUT_MS = 600_000;

/**
 * Every statement, the wait for the lock included (`lock_timeout` covers advisory locks), ends
 * within `timeoutMs`; the client gives up a little later for a server too stuck to cancel.
 */
export async function applyMigrations(
  databaseUrl: string,
  migrationsDir: string,
  timeoutMs: number = DEFAULT_MIGRATION_TIMEOUT_MS,
): Promise<MigrationRun> {
  const migrations = await readMigrations(migrationsDir);
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 10_000,
    statement_timeout: timeoutMs,
    lock_timeout: timeoutMs,
    query_timeout: timeoutMs + 5_000,
  });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK]).catch((error: { code?: string }) => {
      // lock_timeout or statement_timeout, whichever PostgreSQL notices first.
      if (error?.code !== "55P03" && error?.code !== "57014") throw error;
      throw new MigrationError(
        `Another process held the migration lock for ${timeoutMs} ms (PATCHBAY_MIGRATION_TIMEOUT_MS); ` +
          `see pg_locks for the holder of advisory lock ${PRISMA_MIGRATE_LOCK}.`,
      );
    });
    try {
      await ensureMigrationsTable(client);
      const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
        `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
      );
      const recorded = new Map(rows.map((r) => [r.migration_name, r]));
      for (const migration of migrations) {
        const row = recorded.get(migration.name);
        if (row?.finished_at && row.checksum !== migration.checksum) {
          throw new MigrationError(
            `Migration ${migration.name} was changed after it was applied (checksum ${row.checksum.slice(0, 12)}… applied, ` +
              `${migration.checksum.slice(0, 12)}… on disk); restore the file as applied and put the change in a new migration.`,
          );
        }
      }
      const applied: string[] = [];
      for (const migration of migrations) {
        const row = recorded.get(migration.name);
        if (row?.finished_at) continue;
        if (row) {
          throw new MigrationError(
            `Migration ${migration.name} started earlier and did not finish; repair the database, then mark it rolled back.`,
          );
        }
        await applyOne(client, migration);
        applied.push(migration.name);
      }
      return { applied, alreadyApplied: migrations.length - applied.length };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK]);
    }
  } finally {
    await client.end();
  }
}

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

async function ensureMigrationsTable(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum"            VARCHAR(64) NOT NULL,
      "finished_at"         TIMESTAMPTZ,
      "migration_name"      VARCHAR(255) NOT NULL,
      "logs"                TEXT,
      "rolled_back_at"      TIMESTAMPTZ,
      "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
}

async function applyOne(client: pg.Client, migration: Migration): Promise<void> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
    [id, migration.checksum, migration.name],
  );
  try {
    await client.query("BEGIN");
    await client.query(migration.sql);
    await client.query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    // The failed attempt stays recorded (unfinished) so a person looks before the next start.
    await client
      .query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, String((error as Error).message)])
      .catch(() => {});
    throw new MigrationError(`Migration ${migration.name} failed: ${(error as Error).message}`);
  }
}
