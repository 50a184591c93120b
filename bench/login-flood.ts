/**
 * Log-in under a flood (issue 7): 100 concurrent wrong log-ins, from one address or from 100
 * (behind one trusted proxy), while a legitimate person logs in from their own address. Reports
 * how long the person waits for their first answer, and until they are logged in when they
 * honour RATE_LIMITED's retry-after. Run: `node --import tsx bench/login-flood.ts`.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp } from "../src/app";
import { loadConfig } from "../src/config";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres";
import { createLogger } from "../src/log";

const PASSWORD = "correct horse battery";
const LOG_IN = `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }`;

async function post(url: string, query: string, variables: Record<string, unknown>, from: string) {
  const started = performance.now();
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": from },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: Array<{ extensions?: { code?: string; retryAfterSeconds?: number } }> };
  return { ms: performance.now() - started, code: body.errors?.[0]?.extensions?.code ?? "OK", retry: body.errors?.[0]?.extensions?.retryAfterSeconds ?? 1 };
}

async function scenario(url: string, email: string, label: string, floodAddress: (i: number) => string) {
  const flood = Array.from({ length: 100 }, (_, i) =>
    post(url, LOG_IN, { e: `ghost-${randomBytes(4).toString("hex")}@example.com`, p: "wrong password!!" }, floodAddress(i)),
  );
  // Let the flood reach the server first: the person arrives in the middle of it.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = performance.now();
  let first: number | null = null;
  let attempts = 0;
  for (;;) {
    attempts++;
    const answer = await post(url, LOG_IN, { e: email, p: PASSWORD }, "192.0.2.200");
    first ??= answer.ms;
    if (answer.code === "OK") break;
    if (answer.code !== "RATE_LIMITED") throw new Error(`unexpected ${answer.code}`);
    await new Promise((resolve) => setTimeout(resolve, answer.retry * 1000));
  }
  const loggedInMs = performance.now() - started;
  const codes = (await Promise.all(flood)).map((a) => a.code);
  const count = (code: string) => codes.filter((c) => c === code).length;
  console.log(
    `${label.padEnd(34)} first answer ${first!.toFixed(0)} ms, logged in after ${loggedInMs.toFixed(0)} ms (${attempts} attempt(s)); ` +
      `flood: ${count("UNAUTHENTICATED")} hashed, ${count("RATE_LIMITED")} shed`,
  );
}

const dir = await mkdtemp(join(tmpdir(), "patchbay-bench-login-"));
const postgres = await startEmbeddedPostgres({ dir });
const app = await startApp(
  loadConfig({
    PORT: "0",
    DATABASE_URL: postgres.adminUrl,
    PATCHBAY_DATA_DIR: dir,
    PATCHBAY_MASTER_KEY: randomBytes(32).toString("base64"),
    PATCHBAY_TRUST_PROXY: "1",
  }),
  { logger: createLogger({ level: "error", sink: () => {} }) },
);
try {
  const email = `legit-${randomBytes(4).toString("hex")}@example.com`;
  await post(app.url, `mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token } }`, { e: email, p: PASSWORD }, "192.0.2.200");
  const quiet = await post(app.url, LOG_IN, { e: email, p: PASSWORD }, "192.0.2.200");
  console.log(`${"no flood".padEnd(34)} logged in after ${quiet.ms.toFixed(0)} ms`);
  for (let round = 1; round <= 3; round++) {
    // Fresh addresses each round, so one round's windows do not decide the next.
    await scenario(app.url, email, `flood from one address (${round})`, () => `198.51.${round}.66`);
    await scenario(app.url, email, `flood from 100 addresses (${round})`, (i) => `100.${64 + round}.0.${i + 1}`);
  }
} finally {
  await app.close();
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
}
