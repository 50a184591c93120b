/**
 * The floor: the least a server can do for Patchbay's hot paths on this machine, to measure
 * Patchbay against. Bare node:http and a pg pool on the same PostgreSQL, no framework, no
 * authentication, prepared statements, data keys cached after the first unwrap:
 *
 *   GET /resolve/<workspaceId>/<name>  one row by (workspace, name), AES-256-GCM open of its
 *                                      secrets, Airflow's JSON form out (P1, resolveConnection)
 *   GET /page/<workspaceId>?first=50   one statement for a page with each row's newest test
 *                                      result and the total count, JSON out (P2)
 *   GET /readyz                        SELECT 1
 *
 * Plain JavaScript on purpose: nothing between node and the request but this file.
 * Environment: PORT, FLOOR_DATABASE_URL, FLOOR_MASTER_KEY (base64 of 32 bytes).
 */
import { createServer } from "node:http";
import pg from "pg";
import { openSecrets, unwrapKey } from "./crypto.mjs";

const master = Buffer.from(process.env.FLOOR_MASTER_KEY ?? "", "base64");
if (master.length !== 32) throw new Error("FLOOR_MASTER_KEY must be base64 of 32 bytes.");

// The same pool size and deadlines Patchbay's pool has.
const pool = new pg.Pool({
  connectionString: process.env.FLOOR_DATABASE_URL,
  max: 10,
  connectionTimeoutMillis: 10_000,
  statement_timeout: 5_000,
});

const RESOLVE = {
  name: "floor-resolve",
  text: `SELECT id, type, description, host, port, schema, login, extra, sealed
           FROM bench_floor.connection WHERE workspace_id = $1 AND name = $2`,
};
const KEY = { name: "floor-key", text: "SELECT wrapped FROM bench_floor.workspace_key WHERE workspace_id = $1" };
const PAGE = {
  name: "floor-page",
  text: `SELECT c.id, c.name, c.type, c.description, c.host, c.port, c.schema, c.login, c.extra,
                c.secret_fields, c.version, c.updated_at,
                t.id AS test_id, t.status, t.error_code, t.message, t.latency_ms, t.server_version, t.tested_at,
                (SELECT count(*) FROM bench_floor.connection WHERE workspace_id = $1)::int AS total
           FROM bench_floor.connection c
           LEFT JOIN LATERAL (
             SELECT id, status, error_code, message, latency_ms, server_version, tested_at
               FROM bench_floor.test_result r
              WHERE r.connection_id = c.id
              ORDER BY r.tested_at DESC LIMIT 1) t ON true
          WHERE c.workspace_id = $1
          ORDER BY c.name
          LIMIT $2`,
};

const keys = new Map();
function workspaceKey(workspaceId) {
  let key = keys.get(workspaceId);
  if (!key) {
    key = pool.query({ ...KEY, values: [workspaceId] }).then(({ rows }) => {
      if (!rows.length) throw new Error("no key");
      return unwrapKey(master, workspaceId, rows[0].wrapped);
    });
    key.catch(() => keys.delete(workspaceId));
    keys.set(workspaceId, key);
  }
  return key;
}

async function resolve(workspaceId, name) {
  const { rows } = await pool.query({ ...RESOLVE, values: [workspaceId, name] });
  if (!rows.length) return null;
  const row = rows[0];
  const secrets = openSecrets(await workspaceKey(workspaceId), workspaceId, row.id, row.sealed);
  return {
    conn_type: row.type,
    description: row.description,
    host: row.host,
    login: row.login,
    password: secrets.password ?? null,
    schema: row.schema,
    port: row.port,
    extra: row.extra,
  };
}

async function page(workspaceId, first) {
  const { rows } = await pool.query({ ...PAGE, values: [workspaceId, first + 1] });
  const nodes = rows.slice(0, first).map((r) => ({
    id: r.id,
    name: r.name,
    type: r.type,
    description: r.description,
    host: r.host,
    port: r.port,
    schema: r.schema,
    login: r.login,
    extra: r.extra,
    secretFields: r.secret_fields,
    version: r.version,
    updatedAt: r.updated_at.toISOString(),
    lastTest: r.test_id
      ? {
          id: r.test_id,
          status: r.status,
          errorCode: r.error_code,
          message: r.message,
          latencyMs: r.latency_ms,
          serverVersion: r.server_version,
          testedAt: r.tested_at.toISOString(),
        }
      : null,
  }));
  return {
    data: {
      connections: {
        totalCount: rows.length ? rows[0].total : 0,
        pageInfo: { hasNextPage: rows.length > first, endCursor: nodes.length ? nodes[nodes.length - 1].name : null },
        nodes,
      },
    },
  };
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req, res) {
  const url = new URL(req.url ?? "/", "http://localhost");
  const parts = url.pathname.split("/");
  if (parts[1] === "resolve" && parts.length === 4) {
    const body = await resolve(decodeURIComponent(parts[2]), decodeURIComponent(parts[3]));
    return body ? send(res, 200, body) : send(res, 404, { error: "not found" });
  }
  if (parts[1] === "page" && parts.length === 3) {
    const first = Math.min(200, Math.max(1, Number(url.searchParams.get("first")) || 50));
    return send(res, 200, await page(decodeURIComponent(parts[2]), first));
  }
  if (url.pathname === "/readyz") {
    await pool.query("SELECT 1");
    return send(res, 200, { status: "ready" });
  }
  send(res, 404, { error: "not found" });
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    process.stderr.write(`floor: ${error instanceof Error ? error.message : String(error)}\n`);
    if (!res.headersSent) send(res, 500, { error: "internal" });
  });
});
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1");

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    server.closeIdleConnections();
    pool.end().finally(() => process.exit(0));
  });
}
