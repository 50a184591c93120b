/**
 * Starts a real Patchbay server for a test file: its own database on the run's PostgreSQL,
 * its own master key, a free port, and every log line captured so tests can search them
 * for secrets.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testLookup } from "./lookup";
import { type App, startApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/log";
import { createTestDatabase } from "./database";

export interface TestApp extends App {
  databaseUrl: string;
  /** Every log line the server wrote. */
  logs: string[];
  /** Every SQL statement Prisma sent, while counting is on. */
  queries: string[];
  countQueries<T>(fn: () => Promise<T>): Promise<{ result: T; count: number; statements: string[] }>;
  masterKey: string;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  /** The URL the server is given for its database (e.g. through a proxy); `databaseUrl` stays the direct one. */
  serverDatabaseUrl?: (directUrl: string) => string;
}

export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase("app");
  const dataDir = await mkdtemp(join(tmpdir(), "patchbay-app-"));
  const masterKey = env.PATCHBAY_MASTER_KEY ?? randomBytes(32).toString("base64");
  const logs: string[] = [];
  const queries: string[] = [];
  let counting = false;
  const config = loadConfig({
    PORT: "0",
    DATABASE_URL: options.serverDatabaseUrl?.(database.url) ?? database.url,
    PATCHBAY_DATA_DIR: dataDir,
    PATCHBAY_MASTER_KEY: masterKey,
    PATCHBAY_LOG_LEVEL: "debug",
    // Every test signs up and logs in from 127.0.0.1: the abuse limits per address, made for
    // many clients, would trip over the suite itself. test/api/abuse-limits.test.ts sets them.
    PATCHBAY_SIGNUPS_PER_ADDRESS_PER_HOUR: "100000",
    PATCHBAY_LOGIN_FAILURES_PER_ADDRESS: "100000",
    PATCHBAY_PASSWORD_HASH_PER_ADDRESS: "10000",
    PATCHBAY_PASSWORD_HASH_QUEUE: "10000",
    PATCHBAY_WORKSPACE_CREATIONS_PER_USER_PER_HOUR: "100000",
    ...env,
  });
  const app = await startApp(config, {
    logger: createLogger({ level: "debug", sink: (line) => logs.push(line) }),
    lookup: testLookup,
    onQuery: (sql) => {
      if (counting) queries.push(sql);
    },
  });
  return {
    ...app,
    databaseUrl: database.url,
    logs,
    queries,
    masterKey,
    async countQueries(fn) {
      queries.length = 0;
      counting = true;
      try {
        const result = await fn();
        return { result, count: queries.length, statements: [...queries] };
      } finally {
        counting = false;
      }
    },
    async stop() {
      await app.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
