/**
 * Patchbay's benchmarks: start-up on an existing database, API token checks, a page of
 * connections with their last tests, connection writes, and the sealing primitives.
 * Everything runs on 127.0.0.1 against an embedded PostgreSQL in a temp directory, bounded
 * in count. Run: `npm run bench`. Numbers from a 2-core machine are in bench/README.md.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startApp } from "../src/app";
import { loadConfig } from "../src/config";
import { openSecrets, sealSecrets } from "../src/crypto/sealed-secrets";
import { removeDataDir, startEmbeddedPostgres } from "../src/db/embedded-postgres";
import { createLogger } from "../src/log";

const quiet = createLogger({ level: "error", sink: () => {} });

async function gql(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** Runs `total` calls with `concurrency` in flight; returns per-call latencies in ms. */
async function load(total: number, concurrency: number, call: () => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const started = performance.now();
        await call();
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

function summary(label: string, latencies: number[], wallMs: number): void {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  const rate = ((latencies.length / wallMs) * 1000).toFixed(0);
  console.log(`${label.padEnd(44)} n=${latencies.length}  ${rate}/s  p50 ${at(0.5)} ms  p95 ${at(0.95)} ms  p99 ${at(0.99)} ms`);
}

async function timed(label: string, total: number, concurrency: number, call: () => Promise<unknown>): Promise<void> {
  await load(Math.min(20, total), concurrency, call); // warm-up
  const started = performance.now();
  const latencies = await load(total, concurrency, call);
  summary(label, latencies, performance.now() - started);
}

function microbench(): void {
  const dek = randomBytes(32);
  const ctx = { workspaceId: "ws", connectionId: "conn" };
  const secrets = { password: "s3cret-Pa55word!", "extra.token": "x".repeat(64) };
  const n = 20_000;
  let blob = sealSecrets(dek, 1, ctx, secrets);
  let started = performance.now();
  for (let i = 0; i < n; i++) blob = sealSecrets(dek, 1, ctx, secrets);
  const seal = ((performance.now() - started) * 1000) / n;
  started = performance.now();
  for (let i = 0; i < n; i++) openSecrets(dek, blob, ctx);
  const open = ((performance.now() - started) * 1000) / n;
  console.log(`${"seal / open one connection's secrets".padEnd(44)} ${seal.toFixed(1)} µs / ${open.toFixed(1)} µs`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "patchbay-bench-"));
  const embedded = await startEmbeddedPostgres({ dir });
  const admin = new pg.Client({ connectionString: embedded.adminUrl });
  await admin.connect();
  await admin.query("CREATE DATABASE bench");
  await admin.end();
  const databaseUrl = embedded.adminUrl.replace(/\/postgres$/, "/bench");
  const env = { PORT: "0", DATABASE_URL: databaseUrl, PATCHBAY_DATA_DIR: dir, PATCHBAY_MASTER_KEY: randomBytes(32).toString("base64") };

  try {
    let started = performance.now();
    let app = await startApp(loadConfig(env), { logger: quiet });
    console.log(`${"start-up, fresh database (migrations)".padEnd(44)} ${(performance.now() - started).toFixed(0)} ms`);
    await app.close();
    started = performance.now();
    app = await startApp(loadConfig(env), { logger: quiet });
    console.log(`${"start-up, existing database".padEnd(44)} ${(performance.now() - started).toFixed(0)} ms`);

    const { signUp } = await gql(app.url, null, `mutation { signUp(email: "bench@example.com", password: "benchmark password") { token } }`);
    const session = signUp.token as string;
    const { createWorkspace } = await gql(app.url, session, `mutation { createWorkspace(slug: "bench", name: "Bench") { id } }`);
    const workspaceId = createWorkspace.id as string;
    const { createApiToken } = await gql(app.url, session, `mutation($w: ID!) { createApiToken(workspaceId: $w, name: "bench", scopes: [READ]) { token } }`, {
      w: workspaceId,
    });
    const apiToken = createApiToken.token as string;

    let i = 0;
    const create = `mutation($w: ID!, $i: ConnectionInput!) { createConnection(workspaceId: $w, input: $i) { id } }`;
    await timed("createConnection (sealed password)", 500, 4, () =>
      gql(app.url, session, create, { w: workspaceId, i: { name: `c${String(i++).padStart(4, "0")}`, type: "postgres", host: "db.example.com", login: "u", password: "pw-" + i } }),
    );

    // { __typename } touches no resolver: the difference is what authenticating costs.
    await timed("{ __typename }, anonymous", 2000, 8, () => gql(app.url, null, `{ __typename }`));
    await timed("{ __typename } with an API token", 2000, 8, () => gql(app.url, apiToken, `{ __typename }`));
    await timed("{ __typename } with a session token", 2000, 8, () => gql(app.url, session, `{ __typename }`));
    await timed("viewer with an API token", 2000, 8, () => gql(app.url, apiToken, `{ viewer { workspace { slug } } }`));

    const page = `query($first: Int) { workspace(slug: "bench") { connections(first: $first) { totalCount nodes { name host secretFields lastTest { status } } } } }`;
    await timed("connections page of 50 with lastTest", 500, 4, () => gql(app.url, apiToken, page, { first: 50 }));
    await timed("connections page of 200 with lastTest", 200, 4, () => gql(app.url, apiToken, page, { first: 200 }));

    microbench();
    await app.close();
  } finally {
    await embedded.stop();
    await removeDataDir(dir);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
