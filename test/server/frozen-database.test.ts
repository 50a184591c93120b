/**
 * A database that stops answering (issue 7): the test's own PostgreSQL, not the run's shared
 * one, is frozen with SIGSTOP (postmaster and every backend), and the server must answer
 * /readyz with 503 within 2 s and fail requests with SERVICE_UNAVAILABLE / HTTP 503 within
 * its statement and checkout deadlines; thawed with SIGCONT, it serves again without a restart.
 * Durations are recorded in each test's `meta`.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { type App, startApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type EmbeddedPostgres, removeDataDir, startEmbeddedPostgres } from "../../src/db/embedded-postgres";
import { createLogger } from "../../src/log";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

// The deadlines this server runs with; the bounds below are these plus room for a loaded machine.
const CONNECT_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 1_000;
const REQUEST_BOUND_MS = CONNECT_TIMEOUT_MS + STATEMENT_TIMEOUT_MS + 1_000 + 2_000;

let dir: string;
let postgres: EmbeddedPostgres;
let app: App;
let owner: SignedUp;
let resolveToken: string;
let connectionName: string;
let frozen: number[] = [];
const logs: string[] = [];

/** The postmaster (from its pid file) and every process it forked: the backends. */
async function postgresProcesses(): Promise<number[]> {
  const postmaster = Number((await readFile(join(dir, "pg", "postmaster.pid"), "utf8")).split("\n")[0].trim());
  const children = execFileSync("pgrep", ["-P", String(postmaster)], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map(Number);
  return [postmaster, ...children];
}

function signal(pids: number[], name: "SIGSTOP" | "SIGCONT"): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // A backend that exited meanwhile.
    }
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: Math.round(performance.now() - started) };
}

function meta(context: TestContext): Record<string, unknown> {
  return context.task.meta as Record<string, unknown>;
}

async function readyz(): Promise<number> {
  return (await fetch(`${app.url}/readyz`)).status;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "patchbay-frozen-"));
  postgres = await startEmbeddedPostgres({ dir });
  const config = loadConfig({
    PORT: "0",
    DATABASE_URL: postgres.adminUrl,
    PATCHBAY_DATA_DIR: dir,
    PATCHBAY_MASTER_KEY: randomBytes(32).toString("base64"),
    PATCHBAY_DB_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
    PATCHBAY_DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  });
  app = await startApp(config, { logger: createLogger({ level: "debug", sink: (line) => logs.push(line) }) });
  owner = await signUp(new GraphQLClient(app.url), "owner");
  const workspace = await createWorkspace(owner.client);
  connectionName = (await createConnection(owner.client, workspace.id)).name;
  resolveToken = (await createApiToken(owner.client, workspace.id, ["RESOLVE"])).token;
}, 120_000);

afterAll(async () => {
  if (frozen.length) signal(frozen, "SIGCONT");
  await app?.close();
  await postgres?.stop();
  await removeDataDir(dir);
});

describe("a frozen database", () => {
  it("is ready before the freeze", async () => {
    expect(await readyz()).toBe(200);
  });

  it("makes /readyz answer 503 within 2 s", async (context) => {
    frozen = await postgresProcesses();
    expect(frozen.length).toBeGreaterThan(1);
    signal(frozen, "SIGSTOP");
    const { value: status, ms } = await timed(readyz);
    meta(context).readyzMs = ms;
    expect(status).toBe(503);
    expect(ms).toBeLessThan(2_000);
  });

  it("fails a GraphQL query with SERVICE_UNAVAILABLE and HTTP 503 within its deadlines", async (context) => {
    const { value: response, ms } = await timed(() =>
      owner.client.request(`{ workspaces { id connections(first: 5) { nodes { name } } } }`),
    );
    meta(context).graphqlMs = ms;
    expect(response.status).toBe(503);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    expect(response.raw).not.toMatch(/timeout exceeded|Connection terminated|Query read timeout|stack/i);
    expect(ms).toBeLessThan(REQUEST_BOUND_MS);
  });

  it("fails many requests at once, each within its deadlines (none waits behind the others)", async (context) => {
    const { value: responses, ms } = await timed(() =>
      Promise.all(Array.from({ length: 20 }, () => owner.client.request(`{ viewer { user { email } } }`))),
    );
    meta(context).twentyRequestsMs = ms;
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(503));
    expect(ms).toBeLessThan(REQUEST_BOUND_MS);
  });

  it("fails a REST resolve with SERVICE_UNAVAILABLE, HTTP 503 and Retry-After", async (context) => {
    const { value: response, ms } = await timed(() =>
      fetch(`${app.url}/api/v1/connections/${connectionName}`, { headers: { authorization: `Bearer ${resolveToken}` } }),
    );
    meta(context).restMs = ms;
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("SERVICE_UNAVAILABLE");
    expect(ms).toBeLessThan(REQUEST_BOUND_MS);
  });

  it("serves again once thawed, without a restart", async (context) => {
    signal(frozen, "SIGCONT");
    frozen = [];
    const started = performance.now();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await readyz();
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    meta(context).recoveryMs = Math.round(performance.now() - started);
    expect(status).toBe(200);
    const data = await owner.client.ok(`{ workspaces { connections(first: 5) { nodes { name } } } }`);
    expect(data.workspaces[0].connections.nodes.map((n: { name: string }) => n.name)).toContain(connectionName);
    const rest = await fetch(`${app.url}/api/v1/connections/${connectionName}`, { headers: { authorization: `Bearer ${resolveToken}` } });
    expect(rest.status).toBe(200);
    // Logged as the database being slow, never as an unexpected error with a driver's message to the client.
    expect(logs.some((line) => line.includes("database did not answer in time"))).toBe(true);
  });
});
