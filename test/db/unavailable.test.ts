/**
 * Which database errors mean "did not answer in time" (SERVICE_UNAVAILABLE), taken from real
 * failures of the pool of db/pool.ts against the run's PostgreSQL and a port nobody listens
 * on, and which do not (a unique violation is the caller's problem, not the database's).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDatabaseUnavailable, isUniqueViolation } from "../../src/db/errors";
import { createPool } from "../../src/db/pool";
import { createPrisma, type PrismaClient } from "../../src/db/prisma";
import { applyMigrations } from "../../src/db/migrate";
import { freePort } from "../../src/net/free-port";
import { createTestDatabase } from "../support/database";

let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase("unavail");
  await applyMigrations(database.url, new URL("../../prisma/migrations", import.meta.url).pathname);
});

afterAll(async () => {
  await database?.drop();
});

async function failure(work: () => Promise<unknown>): Promise<unknown> {
  return work().then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error,
  );
}

describe("isDatabaseUnavailable", () => {
  it("recognises a statement that passed statement_timeout, through Prisma", async () => {
    const pool = createPool({ databaseUrl: database.url, deadlines: { connectTimeoutMs: 2_000, statementTimeoutMs: 200 } });
    const prisma: PrismaClient = createPrisma({ pool });
    try {
      const error = await failure(() => prisma.$queryRaw`SELECT pg_sleep(2)`);
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
  });

  it("recognises a database nobody answers for", async () => {
    const url = new URL(database.url);
    url.port = String(await freePort());
    const pool = createPool({ databaseUrl: url.toString(), deadlines: { connectTimeoutMs: 500, statementTimeoutMs: 500 } });
    const prisma = createPrisma({ pool });
    try {
      expect(isDatabaseUnavailable(await failure(() => pool.query("SELECT 1")))).toBe(true);
      expect(isDatabaseUnavailable(await failure(() => prisma.user.count()))).toBe(true);
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
  });

  it("does not take a constraint violation or a programming error for an outage", async () => {
    const pool = createPool({ databaseUrl: database.url, deadlines: { connectTimeoutMs: 2_000, statementTimeoutMs: 2_000 } });
    const prisma = createPrisma({ pool });
    try {
      await pool.query(`INSERT INTO "User" (id, email, "passwordHash") VALUES ('u1', 'a@example.com', 'x')`);
      const duplicate = await failure(() => prisma.user.create({ data: { id: "u2", email: "a@example.com", passwordHash: "x" } }));
      expect(isUniqueViolation(duplicate)).toBe(true);
      expect(isDatabaseUnavailable(duplicate)).toBe(false);
      expect(isDatabaseUnavailable(await failure(() => pool.query("SELECT * FROM no_such_table")))).toBe(false);
      expect(isDatabaseUnavailable(new Error("something else"))).toBe(false);
      expect(isDatabaseUnavailable(null)).toBe(false);
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
  });
});
