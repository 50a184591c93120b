/**
 * Start-up migrations have a deadline too: a process that cannot get the migration lock, or a
 * statement that does not finish, fails the start with a message instead of hanging it.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, MigrationError } from "../../src/db/migrate";
import { createTestDatabase } from "../support/database";

const MIGRATIONS = new URL("../../prisma/migrations", import.meta.url).pathname;
const PRISMA_MIGRATE_LOCK = 72707369;

let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase("migrate");
});

afterAll(async () => {
  await database?.drop();
});

describe("applyMigrations", () => {
  it("gives up waiting for a lock held elsewhere, naming the setting, then succeeds once it is free", async () => {
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PRISMA_MIGRATE_LOCK]);
      const started = Date.now();
      const error = await applyMigrations(database.url, MIGRATIONS, 1_000).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as Error).message).toMatch(/PATCHBAY_MIGRATION_TIMEOUT_MS/);
      expect(Date.now() - started).toBeLessThan(20_000);
      await holder.query("SELECT pg_advisory_unlock($1)", [PRISMA_MIGRATE_LOCK]);
      const run = await applyMigrations(database.url, MIGRATIONS, 60_000);
      expect(run.applied.length).toBeGreaterThan(0);
      const again = await applyMigrations(database.url, MIGRATIONS, 60_000);
      expect(again).toEqual({ applied: [], alreadyApplied: run.applied.length });
    } finally {
      await holder.end();
    }
  });
});
