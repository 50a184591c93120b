/**
 * The LISTEN/NOTIFY bus against a real PostgreSQL: two buses stand for two processes.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Invalidation, InvalidationListener } from "../../src/cache/invalidation";
import { InvalidationBus } from "../../src/cache/invalidation-bus";
import { applyMigrations } from "../../src/db/migrate";
import { createPool, DEFAULT_DEADLINES } from "../../src/db/pool";
import { createPrisma, type PrismaClient } from "../../src/db/prisma";
import { createLogger } from "../../src/log";
import { createTestDatabase } from "../support/database";
import { fileURLToPath } from "node:url";

const MIGRATIONS = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

class Recorder implements InvalidationListener {
  changes: Invalidation[] = [];
  resets = 0;
  invalidate(change: Invalidation) {
    this.changes.push(change);
  }
  reset() {
    this.resets += 1;
  }
}

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let prisma: PrismaClient;
let pool: pg.Pool;
const buses: InvalidationBus[] = [];
const logs: string[] = [];
const logger = createLogger({ level: "debug", sink: (line) => logs.push(line) });

function bus(options: Partial<ConstructorParameters<typeof InvalidationBus>[0]> = {}): InvalidationBus {
  const created = new InvalidationBus({ databaseUrl: database.url, logger, ...options });
  buses.push(created);
  return created;
}

beforeAll(async () => {
  database = await createTestDatabase("bus");
  await applyMigrations(database.url, MIGRATIONS);
  pool = createPool({ databaseUrl: database.url, deadlines: DEFAULT_DEADLINES });
  prisma = createPrisma({ pool });
});

afterAll(async () => {
  for (const b of buses) await b.stop();
  await prisma?.$disconnect();
  await pool?.end();
  await database?.drop();
});

describe("InvalidationBus", () => {
  it("delivers a change to every process when its transaction commits, and to its own caches at once", async () => {
    const here = bus();
    const there = bus();
    const mine = new Recorder();
    const theirs = new Recorder();
    here.subscribe(mine);
    there.subscribe(theirs);
    await Promise.all([here.start(), there.start()]);
    expect(here.listening && there.listening).toBe(true);

    const change: Invalidation = { kind: "api-token", tokenId: "t1" };
    await here.transaction(prisma, async (tx, announce) => {
      await announce(change);
      // Not yet committed: nobody has heard of it.
      await new Promise((r) => setTimeout(r, 50));
      expect(theirs.changes).toEqual([]);
      expect(mine.changes).toEqual([]);
    });
    // The announcing process applied it before transaction() returned.
    expect(mine.changes).toContainEqual(change);
    await until(() => theirs.changes.length > 0);
    expect(theirs.changes).toEqual([change]);
  });

  it("delivers nothing for a transaction that rolled back", async () => {
    const here = bus();
    const there = bus();
    const theirs = new Recorder();
    const mine = new Recorder();
    there.subscribe(theirs);
    here.subscribe(mine);
    await Promise.all([here.start(), there.start()]);
    await expect(
      here.transaction(prisma, async (_tx, announce) => {
        await announce({ kind: "session", sessionId: "s1" });
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    // A committed change afterwards arrives alone, so the rolled-back one was not merely late.
    await here.transaction(prisma, async (_tx, announce) => announce({ kind: "session", sessionId: "s2" }));
    await until(() => theirs.changes.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(theirs.changes).toEqual([{ kind: "session", sessionId: "s2" }]);
    // Applied once, right after the commit: its own listener skips the echo.
    expect(mine.changes).toEqual([{ kind: "session", sessionId: "s2" }]);
  });

  it("splits many changes into payloads PostgreSQL accepts", async () => {
    const here = bus();
    const there = bus();
    const theirs = new Recorder();
    there.subscribe(theirs);
    await Promise.all([here.start(), there.start()]);
    const many: Invalidation[] = Array.from({ length: 500 }, (_, i) => ({ kind: "membership", workspaceId: `w-${"x".repeat(36)}`, userId: `u${i}` }));
    await here.transaction(prisma, (_tx, announce) => announce(...many));
    await until(() => theirs.changes.length === 500);
    expect(theirs.changes).toEqual(many);
  });

  it("flushes the caches when its connection is lost, stores nothing meanwhile, and reconnects", async () => {
    const there = bus({ minBackoffMs: 50, maxBackoffMs: 200 });
    const theirs = new Recorder();
    there.subscribe(theirs);
    await there.start();
    const resetsBefore = theirs.resets;
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'patchbay-invalidation-listener' AND datname = current_database()`,
      );
      expect(killed.rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    await until(() => !there.listening || there.connections > 1);
    expect(theirs.resets).toBeGreaterThan(resetsBefore);
    await until(() => there.listening && there.connections > 1);
    // Flushed again on reconnecting: what was announced while it was away is not missed.
    expect(theirs.resets).toBeGreaterThanOrEqual(resetsBefore + 2);

    const here = bus();
    await here.start();
    await here.transaction(prisma, (_tx, announce) => announce({ kind: "workspace", workspaceId: "w1" }));
    await until(() => theirs.changes.some((c) => c.kind === "workspace"));
    expect(logs.some((l) => l.includes("cache invalidation listener lost"))).toBe(true);
  });

  it("keeps retrying while the database refuses it, and listens once it can", async () => {
    const unreachable = new URL(database.url);
    unreachable.pathname = "/no_such_database_here";
    const lonely = bus({ databaseUrl: unreachable.toString(), minBackoffMs: 20, maxBackoffMs: 50 });
    const recorder = new Recorder();
    lonely.subscribe(recorder);
    await lonely.start();
    expect(lonely.listening).toBe(false);
    await until(() => recorder.resets >= 3);
    expect(lonely.listening).toBe(false);
  });

  it("treats an unreadable payload as 'anything may have changed' and flushes", async () => {
    const there = bus();
    const theirs = new Recorder();
    there.subscribe(theirs);
    await there.start();
    const before = theirs.resets;
    await prisma.$executeRaw`SELECT pg_notify('patchbay_invalidate', '{"o": "x", "c": {"not": "a list"}}')`;
    await until(() => theirs.resets > before);
    expect(theirs.changes).toEqual([]);
  });
});
