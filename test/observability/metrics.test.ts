/**
 * /metrics and the access log, on a real server: what a client does is counted under the
 * names operators alert on, the text parses as Prometheus' format (and passes promtool's lint
 * where Debian's prometheus package is installed), and every request leaves one JSON line
 * that names the operation and the actor but never a variable's value.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { freePort } from "../../src/net/free-port";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";
import { serviceAvailable } from "../servers/availability";
import { parsePrometheusText, promtoolCheckMetrics, type Sample, valueOf } from "./prometheus-text";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";
const VARIABLE_MARKER = "variable-value-never-logged-7f3a";

let app: TestApp;
const hasPromtool = serviceAvailable("promtool", "checks /metrics and the example alert rules (Debian's prometheus package)");

async function scrape(base: string, token: string | null = METRICS_TOKEN): Promise<{ status: number; text: string; contentType: string | null }> {
  const response = await fetch(`${base}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, text: await response.text(), contentType: response.headers.get("content-type") };
}

async function samples(): Promise<Sample[]> {
  const { status, text } = await scrape(app.url);
  expect(status).toBe(200);
  return parsePrometheusText(text);
}

beforeAll(async () => {
  app = await startTestApp({ PATCHBAY_METRICS_TOKEN: METRICS_TOKEN, PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: "2" });
});
afterAll(async () => app?.stop());

describe("/metrics", () => {
  it("needs the metrics token when one is set", async () => {
    expect((await scrape(app.url, null)).status).toBe(401);
    expect((await scrape(app.url, "wrong-token-0123456789abcdef")).status).toBe(401);
    const ok = await scrape(app.url);
    expect(ok.status).toBe(200);
    expect(ok.contentType).toContain("text/plain");
  });

  it("parses as Prometheus text, passes promtool, and counts requests, resolves, tests and refusals", async () => {
    const before = await samples();
    const anonymous = new GraphQLClient(app.url);
    const owner = await signUp(anonymous, "metrics");
    const workspace = await createWorkspace(owner.client);
    const connection = await createConnection(owner.client, workspace.id, { description: VARIABLE_MARKER, host: "127.0.0.1", port: 1 });
    const tested = await owner.client.ok(`mutation Probe($id: ID!) { testConnection(id: $id) { status errorCode } }`, { id: connection.id });
    expect(tested.testConnection.status).toBe("FAILURE");
    const resolver = await createApiToken(owner.client, workspace.id, ["RESOLVE"]);
    const rest = await fetch(`${app.url}/api/v1/connections/${connection.name}`, { headers: { authorization: `Bearer ${resolver.token}` } });
    expect(rest.status).toBe(200);
    await anonymous.as(resolver.token).ok(`query Resolve($n: String!) { resolveConnection(name: $n) { name } }`, { n: connection.name });
    expect((await anonymous.as(resolver.token).fails(`query { resolveConnection(name: "missing") { name } }`)).code).toBe("NOT_FOUND");
    // Two wrong passwords use up the per-account-and-address budget; the third is refused.
    const logIn = `mutation($e: String!) { logIn(email: $e, password: "${VARIABLE_MARKER}") { token } }`;
    for (let i = 0; i < 2; i++) expect((await anonymous.fails(logIn, { e: owner.email })).code).toBe("UNAUTHENTICATED");
    expect((await anonymous.fails(logIn, { e: owner.email })).code).toBe("RATE_LIMITED");

    const { text } = await scrape(app.url);
    const after = parsePrometheusText(text);
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    if (hasPromtool) {
      // promtool's lint passes every Patchbay metric; it only objects to three of prom-client's
      // default process gauges, whose names end in _total (nodejs_active_handles_total, …).
      const problems = promtoolCheckMetrics(text)!.output.split("\n").filter(Boolean);
      expect(problems.filter((p) => !/^nodejs_active_(handles|requests|resources)_total non-counter/.test(p))).toEqual([]);
    }

    expect(delta("patchbay_graphql_operations_total", { operation: "testConnection", type: "mutation", outcome: "ok" })).toBe(1);
    expect(delta("patchbay_graphql_operations_total", { operation: "resolveConnection", outcome: "ok" })).toBe(1);
    expect(delta("patchbay_graphql_operations_total", { operation: "resolveConnection", outcome: "NOT_FOUND" })).toBe(1);
    expect(delta("patchbay_graphql_operations_total", { operation: "logIn", outcome: "RATE_LIMITED" })).toBe(1);
    expect(delta("patchbay_graphql_operation_duration_seconds_count", { operation: "testConnection" })).toBe(1);
    expect(delta("patchbay_http_requests_total", { route: "rest_resolve", method: "GET", status: "200" })).toBe(1);
    expect(delta("patchbay_http_requests_total", { route: "graphql", status: "429" })).toBe(1);
    expect(delta("patchbay_resolves_total", { outcome: "ok" })).toBe(2);
    expect(delta("patchbay_resolves_total", { outcome: "NOT_FOUND" })).toBe(1);
    expect(delta("patchbay_connection_tests_total", { type: "postgres", status: "FAILURE", code: "CONNECTION_REFUSED" })).toBe(1);
    expect(delta("patchbay_connection_test_duration_seconds_count", { type: "postgres" })).toBe(1);
    expect(delta("patchbay_rate_limited_total", { limit: "login-account-address" })).toBe(1);
    // The pool, the cache listener, key rotation and the process are there too.
    expect(valueOf(after, "patchbay_db_pool_max_connections")).toBeGreaterThan(0);
    expect(valueOf(after, "patchbay_db_pool_connections", { state: "total" })).toBeGreaterThan(0);
    expect(valueOf(after, "patchbay_cache_listener_up")).toBe(1);
    expect(after.some((s) => s.name === "patchbay_key_rotation_pending_rows")).toBe(true);
    expect(valueOf(after, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(after.some((s) => s.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    // No label carries what a client typed.
    expect(text).not.toContain(VARIABLE_MARKER);
    expect(text).not.toContain(connection.name);
  });

  it("counts rows still sealed with an older workspace key as rotation pending", async () => {
    const owner = await signUp(new GraphQLClient(app.url), "rotation");
    const workspace = await createWorkspace(owner.client);
    await createConnection(owner.client, workspace.id);
    await createConnection(owner.client, workspace.id);
    // An older key version under the current one: what a rotation leaves until re-encryption catches up.
    // One transaction: sealed rows name version 1 (a deferred foreign key), which must exist at commit.
    await app.prisma.$transaction([
      app.prisma.$executeRawUnsafe(`UPDATE "WorkspaceKey" SET version = 2 WHERE "workspaceId" = $1`, workspace.id),
      app.prisma.$executeRawUnsafe(
        `INSERT INTO "WorkspaceKey" ("workspaceId", version, "wrappedKey") SELECT "workspaceId", 1, "wrappedKey" FROM "WorkspaceKey" WHERE "workspaceId" = $1`,
        workspace.id,
      ),
    ]);
    // Both connections and their first versions (ConnectionVersion) were sealed with key 1.
    await app.prisma.$executeRawUnsafe(`UPDATE "Connection" SET "keyVersion" = 1 WHERE "workspaceId" = $1`, workspace.id);
    // The gauge is cached for 10 s; poll until the next read shows it.
    const deadline = Date.now() + 15_000;
    let pending = 0;
    while (Date.now() < deadline) {
      pending = valueOf(await samples(), "patchbay_key_rotation_pending_rows");
      if (pending >= 4) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(pending).toBe(4);
    expect(valueOf(await samples(), "patchbay_key_rotation_pending_workspaces")).toBe(1);
  }, 30_000);
});

describe("the access log", () => {
  it("writes one JSON line per request: operation, status, duration, actor, never a variable value", async () => {
    const anonymous = new GraphQLClient(app.url);
    const owner = await signUp(anonymous, "access");
    const workspace = await createWorkspace(owner.client);
    const from = app.logs.length;
    await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}`, "x-request-id": "req-4f1c9a" },
      body: JSON.stringify({ query: `query Page($slug: String!) { workspace(slug: $slug) { connections(first: 5) { nodes { name } } } }`, variables: { slug: workspace.slug } }),
    });
    await fetch(`${app.url}/api/v1/connections/${VARIABLE_MARKER}?workspace=${workspace.slug}`, { headers: { authorization: `Bearer ${owner.token}` } });
    await new Promise((r) => setTimeout(r, 50));
    const lines = app.logs.slice(from).map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    expect(lines).toHaveLength(2);
    const [graphql, rest] = lines;
    expect(graphql).toMatchObject({
      level: "info",
      method: "POST",
      route: "graphql",
      status: 200,
      operation: "Page",
      operationType: "query",
      fields: ["workspace"],
      actor: { kind: "USER", id: owner.userId },
      client: "127.0.0.1",
      requestId: "req-4f1c9a",
    });
    expect(graphql.durationMs).toBeGreaterThan(0);
    // Debug logging counts the statements a request ran.
    expect(graphql.db.statements).toBeGreaterThan(0);
    expect(rest).toMatchObject({ route: "rest_resolve", status: 404, errors: ["NOT_FOUND"], actor: { kind: "USER", id: owner.userId } });
    const all = app.logs.join("\n");
    expect(all).not.toContain(workspace.slug);
    expect(all).not.toContain(VARIABLE_MARKER);
    expect(all).not.toContain(owner.token);
  });
});

describe("metrics access", () => {
  it("is off on the API's port in production unless a token or a listener of its own is set", () => {
    const base = { NODE_ENV: "production" };
    expect(loadConfig(base).metrics).toMatchObject({ onMainPort: false, listen: null, token: null });
    expect(loadConfig({ ...base, PATCHBAY_METRICS_TOKEN: METRICS_TOKEN }).metrics.onMainPort).toBe(true);
    expect(loadConfig({ ...base, PATCHBAY_METRICS_LISTEN: "[::1]:9464" }).metrics).toMatchObject({ onMainPort: false, listen: { host: "::1", port: 9464 } });
    expect(loadConfig({}).metrics.onMainPort).toBe(true);
    expect(() => loadConfig({ PATCHBAY_METRICS_TOKEN: "short" })).toThrow(/at least 16/);
    expect(() => loadConfig({ PATCHBAY_METRICS_LISTEN: "9464" })).toThrow(/host:port/);
  });

  it("serves /metrics only on PATCHBAY_METRICS_LISTEN when that is set", async () => {
    const port = await freePort();
    const separate = await startTestApp({ PATCHBAY_METRICS_LISTEN: `127.0.0.1:${port}` });
    try {
      expect((await scrape(separate.url, null)).status).toBe(404);
      const own = await scrape(`http://127.0.0.1:${port}`, null);
      expect(own.status).toBe(200);
      expect(parsePrometheusText(own.text).length).toBeGreaterThan(10);
      expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
    } finally {
      await separate.stop();
    }
  });
});
