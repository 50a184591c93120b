/**
 * The embedded PostgreSQL runner on its own, with real PostgreSQL processes: its port kept
 * and checked, its superuser's password working over SCRAM, and the supervisor giving up
 * (and saying why) when PostgreSQL keeps dying or cannot be restarted.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { type EmbeddedPostgres, EmbeddedPostgresError, removeDataDir, startEmbeddedPostgres } from "../../src/db/embedded-postgres";
import { createLogger } from "../../src/log";
import { freePort } from "../../src/net/free-port";

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "patchbay-embedded-"));
  cleanups.push(() => removeDataDir(dir));
  return dir;
}

function capture() {
  const lines: Array<Record<string, any>> = [];
  return { lines, logger: createLogger({ level: "info", sink: (line) => lines.push(JSON.parse(line)) }) };
}

async function start(dir: string, options: Partial<Parameters<typeof startEmbeddedPostgres>[0]> = {}): Promise<EmbeddedPostgres> {
  const embedded = await startEmbeddedPostgres({ dir, ...options });
  cleanups.push(() => embedded.stop());
  return embedded;
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

async function until<T>(what: string, ms: number, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("the embedded PostgreSQL runner", () => {
  it("refuses a kept port that another program holds, naming the port and the file, before creating a cluster", async () => {
    const dir = await dataDir();
    const port = await freePort();
    const squatter = await listen(port);
    cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));
    await writeFile(join(dir, "pg-port"), `${port}\n`);

    const error = await startEmbeddedPostgres({ dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    const message = (error as Error).message;
    expect(message).toContain(`port ${port}`);
    expect(message).toContain(join(dir, "pg-port"));
    expect(message).toContain("taken by another program");
    expect(message.split("\n")).toHaveLength(1);
  });

  it("gives up when PostgreSQL keeps dying, says so once, and stops at once", { timeout: 60_000 }, async () => {
    const { lines, logger } = capture();
    const reasons: string[] = [];
    const embedded = await start(await dataDir(), {
      logger,
      onGiveUp: (reason) => reasons.push(reason),
      restartPolicy: { delaysMs: [50], maxDeaths: 2, windowMs: 60_000 },
    });
    // Its superuser password works over SCRAM (initdb was given only the verifier).
    const client = new pg.Client({ connectionString: embedded.adminUrl });
    await client.connect();
    expect((await client.query("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname = 'postgres'")).rows).toEqual([{ scram: true }]);
    await client.end();

    process.kill(embedded.pid()!, "SIGKILL");
    await until("the first restart", 30_000, () => (embedded.status().restarts === 1 && embedded.status().state === "running" ? true : undefined));
    process.kill(embedded.pid()!, "SIGKILL");
    await until("giving up", 30_000, () => (embedded.status().state === "failed" ? true : undefined));

    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/exited 2 times/);
    expect(lines.filter((l) => l.msg === "embedded PostgreSQL exited")).toHaveLength(2);
    expect(lines.some((l) => l.msg.includes("giving up"))).toBe(true);
    expect(embedded.pid()).toBeUndefined();
    await embedded.stop();
  });

  it("logs each failed restart and gives up when attempts run out (its port taken meanwhile)", { timeout: 60_000 }, async () => {
    const { lines, logger } = capture();
    const reasons: string[] = [];
    const embedded = await start(await dataDir(), {
      logger,
      onGiveUp: (reason) => reasons.push(reason),
      restartPolicy: { delaysMs: [1_000, 100], maxDeaths: 5, windowMs: 60_000 },
    });
    process.kill(embedded.pid()!, "SIGKILL");
    // Take its port before the first attempt (a second later): the listening socket died with the postmaster.
    let taken: Server | null = null;
    const deadline = Date.now() + 5_000;
    while (!taken && Date.now() < deadline) {
      taken = await listen(embedded.port).catch(() => null);
      if (!taken) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(taken).not.toBeNull();
    cleanups.push(() => new Promise((resolve) => taken!.close(resolve)));

    await until("giving up", 30_000, () => (embedded.status().state === "failed" ? true : undefined));
    const failures = lines.filter((l) => l.msg === "embedded PostgreSQL did not restart");
    expect(failures.map((l) => l.attempt)).toEqual([1, 2]);
    for (const failure of failures) expect(failure.error).toContain(`port ${embedded.port}`);
    expect(reasons).toEqual(["the embedded PostgreSQL is down: it did not restart in 2 attempts"]);
    await embedded.stop();
  });
});
