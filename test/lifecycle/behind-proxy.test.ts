/**
 * The production shape, small: two Patchbay processes behind Debian's HAProxy, which
 * round-robins every request between them, on one PostgreSQL reached through Debian's
 * PgBouncer in transaction mode (LISTEN and the migration lock on a direct connection, as the
 * README says). A session, an API token and the rate limits must behave as one service
 * whichever process answers; log-out and revocation reach both at once.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { freePort } from "../../src/net/free-port";
import { serviceAvailable } from "../servers/availability";
import { GraphQLClient } from "../support/client";
import { createTestDatabase } from "../support/database";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";
import { type RunningServer, startServerProcess } from "../support/patchbay-process";

const hasHaproxy = serviceAvailable("haproxy", "the two-process tests run behind a real load balancer");
const hasPgbouncer = serviceAvailable("pgbouncer", "the two-process tests reach PostgreSQL through PgBouncer in transaction mode");
// Long caches: only LISTEN/NOTIFY can make a change visible in the other process in time.
const LONG_CACHE = { PATCHBAY_CACHE_SECONDS: "600", PATCHBAY_KEY_CACHE_SECONDS: "600" };

let dir: string;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
const children: ChildProcess[] = [];
const servers: RunningServer[] = [];
let proxyUrl: string;

function start(program: string, args: string[], name: string): ChildProcess {
  const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  child.once("exit", (code) => {
    if (code !== null && code !== 0) console.error(`${name} exited ${code}:\n${output}`);
  });
  children.push(child);
  return child;
}

async function listening(port: number, what: string, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} is not listening on ${port}`);
}

async function startPgbouncer(directUrl: URL): Promise<string> {
  const port = await freePort();
  const ini = join(dir, "pgbouncer.ini");
  await writeFile(
    ini,
    [
      "[databases]",
      `patchbay = host=${directUrl.hostname} port=${directUrl.port} dbname=${directUrl.pathname.slice(1)} user=${decodeURIComponent(directUrl.username)} password=${decodeURIComponent(directUrl.password)} connect_query='SET statement_timeout = 5000'`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = any",
      "pool_mode = transaction",
      "default_pool_size = 8",
      "max_client_conn = 200",
      // pg sends these as start-up parameters, which PgBouncer refuses unless told to ignore them;
      // the server-side deadline then comes from the database's connect_query (README, PgBouncer).
      "ignore_startup_parameters = extra_float_digits,statement_timeout,idle_in_transaction_session_timeout",
      "",
    ].join("\n"),
  );
  await chmod(dir, 0o755);
  await chmod(ini, 0o644);
  // PgBouncer will not run as root; it drops to nobody when asked.
  start("pgbouncer", [...(process.getuid?.() === 0 ? ["-u", "nobody"] : []), ini], "pgbouncer");
  await listening(port, "pgbouncer");
  return `postgresql://patchbay@127.0.0.1:${port}/patchbay`;
}

async function startHaproxy(backends: string[]): Promise<string> {
  const port = await freePort();
  const cfg = join(dir, "haproxy.cfg");
  await writeFile(
    cfg,
    [
      "global",
      "  maxconn 256",
      "defaults",
      "  mode http",
      "  timeout connect 2s",
      "  timeout client 30s",
      "  timeout server 30s",
      "frontend api",
      `  bind 127.0.0.1:${port}`,
      "  default_backend patchbay",
      "backend patchbay",
      "  balance roundrobin",
      "  option forwardfor",
      "  http-response set-header x-backend %[srv_name]",
      ...backends.map((url, i) => `  server p${i + 1} ${new URL(url).host}`),
      "",
    ].join("\n"),
  );
  start("haproxy", ["-db", "-f", cfg], "haproxy");
  await listening(port, "haproxy");
  return `http://127.0.0.1:${port}`;
}

/** Sends `send` until both processes have answered it; returns each one's response. */
async function fromBoth(send: () => Promise<Response>): Promise<Map<string, { status: number; body: any }>> {
  const seen = new Map<string, { status: number; body: any }>();
  for (let i = 0; i < 8 && seen.size < 2; i++) {
    const response = await send();
    const text = await response.text();
    seen.set(response.headers.get("x-backend") ?? "?", { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : text });
  }
  expect([...seen.keys()].sort()).toEqual(["p1", "p2"]);
  return seen;
}

/** Retries `check` for up to a second: what one process does is in force in the other by then. */
async function withinASecond(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 1_000;
  for (;;) {
    if (await check()) return;
    expect(Date.now(), "in force in both processes within a second").toBeLessThan(deadline);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function graphql(token: string | null, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return () =>
    fetch(`${proxyUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: JSON.stringify({ query, variables }),
    });
}

describe.skipIf(!hasHaproxy || !hasPgbouncer)("two processes behind HAProxy, through PgBouncer in transaction mode", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "patchbay-proxy-"));
    database = await createTestDatabase("proxy");
    const direct = new URL(database.url);
    const pooled = await startPgbouncer(direct);
    const masterKey = randomBytes(32).toString("base64");
    const env = (n: number) => ({
      DATABASE_URL: pooled,
      PATCHBAY_LISTEN_DATABASE_URL: database.url,
      PATCHBAY_DB_PREPARED_STATEMENTS: "0",
      PATCHBAY_MASTER_KEY: masterKey,
      PATCHBAY_DATA_DIR: join(dir, `data-${n}`),
      PATCHBAY_TRUST_PROXY: "1",
      PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS: "3",
      ...LONG_CACHE,
    });
    servers.push(...(await Promise.all([startServerProcess(env(1)), startServerProcess(env(2))])));
    proxyUrl = await startHaproxy(servers.map((s) => s.url));
    void inject;
  }, 120_000);

  afterAll(async () => {
    // A failure above is easier to read with what the servers logged as errors.
    for (const server of servers) for (const line of server.logLines().filter((l) => l.level === "error")) console.error(JSON.stringify(line));
    await Promise.all(servers.map((s) => s.stop()));
    for (const child of children) child.kill("SIGTERM");
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : null)));
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("round-robins requests between the two processes", async () => {
    const answered: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${proxyUrl}/readyz`);
      expect(response.status).toBe(200);
      answered.push(response.headers.get("x-backend")!);
    }
    expect(new Set(answered)).toEqual(new Set(["p1", "p2"]));
  });

  it("a session signed up through one works on both, and log-out ends it on both", async () => {
    const owner = await signUp(new GraphQLClient(proxyUrl), "proxy-session");
    for (const [, answer] of await fromBoth(graphql(owner.token, `{ viewer { user { email } } }`))) {
      expect(answer.status).toBe(200);
      expect(answer.body.data.viewer.user.email).toBe(owner.email);
    }
    expect((await (await graphql(owner.token, `mutation { logOut }`)()).json() as any).data.logOut).toBe(true);
    for (const [, answer] of await fromBoth(graphql(owner.token, `{ viewer { user { email } } }`))) {
      expect(answer.status).toBe(401);
      expect(answer.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    }
  });

  it("an API token resolves on both, and revocation reaches both at once", async () => {
    const owner = await signUp(new GraphQLClient(proxyUrl), "proxy-token");
    const workspace = await createWorkspace(owner.client);
    await createConnection(owner.client, workspace.id, { name: "warehouse", password: "proxy-Pa55word" });
    const { token, id } = await createApiToken(owner.client, workspace.id, ["RESOLVE"]);
    const resolve = () => fetch(`${proxyUrl}/api/v1/connections/warehouse`, { headers: { authorization: `Bearer ${token}` } });
    for (const [, answer] of await fromBoth(resolve)) {
      expect(answer.status).toBe(200);
      expect(answer.body.password).toBe("proxy-Pa55word");
    }
    await owner.client.ok(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id });
    // In force everywhere within a second: the other process hears of it through LISTEN/NOTIFY.
    await withinASecond(async () => [...(await fromBoth(resolve)).values()].every((answer) => answer.status === 401));
  });

  it("a key rotated through one: both seal with the new version and open every secret, old and new", async () => {
    const owner = await signUp(new GraphQLClient(proxyUrl), "proxy-rotate");
    const workspace = await createWorkspace(owner.client);
    await createConnection(owner.client, workspace.id, { name: "before", password: "sealed-with-v1" });
    const { token } = await createApiToken(owner.client, workspace.id, ["RESOLVE"]);
    const rotated = await owner.client.ok(`mutation($w: ID!) { rotateWorkspaceKey(workspaceId: $w) { currentVersion } }`, { w: workspace.id });
    expect(rotated.rotateWorkspaceKey.currentVersion).toBe(2);

    const keyStatus = graphql(owner.token, `query($s: String!) { workspace(slug: $s) { keyStatus { currentVersion } } }`, { s: workspace.slug });
    await withinASecond(async () =>
      [...(await fromBoth(keyStatus)).values()].every((answer) => answer.body.data.workspace.keyStatus.currentVersion === 2),
    );
    // Whichever process seals it, a connection created now uses version 2 and opens on both.
    for (let i = 0; i < 2; i++) await createConnection(owner.client, workspace.id, { name: `after-${i}`, password: `sealed-with-v2-${i}` });
    const sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
    try {
      const { rows } = await sql.query<{ keyVersion: number }>(
        `SELECT "keyVersion" FROM "Connection" WHERE "workspaceId" = $1 AND name LIKE 'after-%'`,
        [workspace.id],
      );
      expect(rows.map((row) => row.keyVersion)).toEqual([2, 2]);
    } finally {
      await sql.end();
    }
    for (const [name, password] of [["before", "sealed-with-v1"], ["after-0", "sealed-with-v2-0"], ["after-1", "sealed-with-v2-1"]]) {
      const resolve = () => fetch(`${proxyUrl}/api/v1/connections/${name}`, { headers: { authorization: `Bearer ${token}` } });
      for (const [, answer] of await fromBoth(resolve)) {
        expect(answer.status).toBe(200);
        expect(answer.body.password).toBe(password);
      }
    }
  });

  it("counts wrong passwords across both processes, and a forged X-Forwarded-For buys no new budget", async () => {
    const owner = await signUp(new GraphQLClient(proxyUrl), "proxy-limit");
    const logIn = (forged?: string) =>
      graphql(null, `mutation($e: String!) { logIn(email: $e, password: "wrong password here") { token } }`, { e: owner.email }, forged ? { "x-forwarded-for": forged } : {});
    const backends = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const response = await logIn()();
      backends.add(response.headers.get("x-backend")!);
      expect(((await response.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    }
    expect(backends.size).toBe(2);
    // The budget (3 per account and address) is spent, in PostgreSQL, for both processes.
    for (const [, answer] of await fromBoth(logIn("198.51.100.7"))) {
      expect(answer.status).toBe(429);
      expect(answer.body.errors[0].extensions.code).toBe("RATE_LIMITED");
    }
  });
});
