/**
 * PATCHBAY_WORKERS: several server processes on one port, started as `npm start` runs them
 * (the compiled server), behaving as that many processes on one database.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { GraphQLClient } from "../support/client";
import { buildServer, type CompiledServer } from "../support/compiled-server";
import { createTestDatabase } from "../support/database";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";
import { type ServerProcess, spawnServer, waitFor, waitUntilReady, within } from "../support/server-process";
import { parsePrometheusText, valueOf } from "../observability/prometheus-text";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

let compiled: CompiledServer;
let server: ServerProcess;
let url: string;
let metricsPort: number;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  compiled = await buildServer();
  cleanups.push(() => compiled.remove());
  const database = await createTestDatabase("workers");
  cleanups.push(() => database.drop());
  const dataDir = await mkdtemp(join(tmpdir(), "patchbay-workers-"));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  metricsPort = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawnServer({
    cwd: ROOT,
    entry: [compiled.mainJs],
    env: {
      PORT: String(port),
      DATABASE_URL: database.url,
      PATCHBAY_MASTER_KEY: randomBytes(32).toString("base64"),
      PATCHBAY_DATA_DIR: dataDir,
      PATCHBAY_WORKERS: "2",
      PATCHBAY_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
    },
  });
  cleanups.push(() => server.kill());
  await waitUntilReady(url, server, 60_000);
  // /readyz answers as soon as one worker serves; wait for the primary's word on both.
  await waitFor(server, "both workers to serve", 30_000, () => (server.stderr().includes("all workers serving") ? true : undefined));
}, 180_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** GET on a new TCP connection, so the primary hands each one to the next worker. */
function getFresh(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { agent: false, headers: { connection: "close", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function workersAnswering(times: number): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < times; i++) seen.add((await getFresh("/healthz")).body.worker);
  return seen;
}

describe("PATCHBAY_WORKERS=2", () => {
  it("serves from two processes on one port", async () => {
    expect(await workersAnswering(8)).toEqual(new Set([1, 2]));
  });

  it("behaves as one service: what one worker writes, the other reads and resolves", async () => {
    const anonymous = new GraphQLClient(url);
    const owner = await signUp(anonymous, "workers");
    const workspace = await createWorkspace(owner.client);
    await createConnection(owner.client, workspace.id, { name: "shared" });
    const { token } = await createApiToken(owner.client, workspace.id, ["RESOLVE"], "workers");
    // Fresh connections go to the workers in turn (the test above), so both resolve.
    for (let i = 0; i < 8; i++) {
      const resolved = await getFresh("/api/v1/connections/shared", { authorization: `Bearer ${token}` });
      expect(resolved.status).toBe(200);
      expect(resolved.body.password).toBe("s3cret-Pa55word!");
    }
  });

  it("serves every worker's counts, added up, on PATCHBAY_METRICS_LISTEN", async () => {
    const scrape = async () => {
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      return parsePrometheusText(text);
    };
    const before = valueOf(await scrape(), "patchbay_http_requests_total", { route: "healthz" });
    expect(await workersAnswering(6)).toEqual(new Set([1, 2]));
    const after = await scrape();
    expect(valueOf(after, "patchbay_http_requests_total", { route: "healthz" }) - before).toBe(6);
    // Both workers' pools, summed.
    expect(valueOf(after, "patchbay_db_pool_max_connections")).toBe(20);
    // The API's port leaves /metrics to that listener.
    expect((await getFresh("/metrics").catch(() => ({ status: 0 }))).status).toBe(404);
  });

  it("stops every worker, then itself, on SIGTERM, with exit code 0", async () => {
    server.child.kill("SIGTERM");
    const exit = await within(server.exited, 20_000, () => `the primary to exit; its stderr:\n${server.stderr()}`);
    expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
    const stops = server.logLines().filter((line) => line.msg === "shutting down");
    // The primary and both workers.
    expect(stops).toHaveLength(3);
    await expect(getFresh("/healthz")).rejects.toThrow();
  });
});
