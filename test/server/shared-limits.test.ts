/**
 * Two real server processes (`npm start`) on one database share their rate limits and
 * lockouts (issue 7): guesses spread over both count as one budget, and a lockout reached
 * through one holds in the other.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { GraphQLClient } from "../support/client";
import { createTestDatabase } from "../support/database";
import { signUp } from "../support/factories";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const LOG_IN = `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }`;
const CREATE = `mutation($s: String!) { createWorkspace(slug: $s, name: "W") { id } }`;

interface Server {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<void>;
}

const servers: Server[] = [];
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;

async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir(), PORT: String(port), ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const server = { url: `http://127.0.0.1:${port}`, child, stderr: () => stderr, exited };
  servers.push(server);
  for (let i = 0; i < 150; i++) {
    const ready = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ready) return server;
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the server did not become ready:\n${stderr}`);
}

beforeAll(async () => {
  database = await createTestDatabase("shared");
  dataDir = await mkdtemp(join(tmpdir(), "patchbay-shared-"));
  const env = {
    DATABASE_URL: database.url,
    PATCHBAY_MASTER_KEY: randomBytes(32).toString("base64"),
    PATCHBAY_DATA_DIR: dataDir,
    PATCHBAY_LOG_LEVEL: "warn",
    PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: "4",
    PATCHBAY_WORKSPACE_CREATIONS_PER_USER_PER_HOUR: "3",
  };
  // One after the other: the second finds the migrations applied.
  await startServer(env);
  await startServer(env);
}, 90_000);

afterAll(async () => {
  for (const server of servers) {
    server.child.kill("SIGTERM");
    await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
  }
  await database?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe("two processes on one database", () => {
  it("count wrong passwords against one budget and share the lockout", async () => {
    const [a, b] = servers.map((s) => new GraphQLClient(s.url));
    const target = await signUp(a, "target");
    const codes: string[] = [];
    // Alternating between the processes: each alone would allow 4 per window.
    for (let i = 0; i < 5; i++) codes.push((await (i % 2 ? b : a).fails(LOG_IN, { e: target.email, p: `guess number ${i}` })).code);
    expect(codes).toEqual(["UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "RATE_LIMITED"]);
    // Locked in both, the right password included.
    for (const client of [a, b]) {
      const locked = await client.request(LOG_IN, { e: target.email, p: "correct horse battery" });
      expect(locked.status).toBe(429);
      expect(locked.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED" });
    }
  });

  it("share the per-person limit on creating workspaces", async () => {
    const [a, b] = servers.map((s) => new GraphQLClient(s.url));
    const person = await signUp(b, "creator");
    const slug = () => `sh-${randomBytes(4).toString("hex")}`;
    await a.as(person.token).ok(CREATE, { s: slug() });
    await b.as(person.token).ok(CREATE, { s: slug() });
    await a.as(person.token).ok(CREATE, { s: slug() });
    expect((await b.as(person.token).fails(CREATE, { s: slug() })).code).toBe("RATE_LIMITED");
    expect((await a.as(person.token).fails(CREATE, { s: slug() })).code).toBe("RATE_LIMITED");
  });
});
