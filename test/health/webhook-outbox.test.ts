/**
 * Webhook deliveries are durable and made once per attempt across processes. Patchbay runs
 * here only as child processes on one test database, so the test decides which process is
 * up: the first makes attempt 1 (this test's receiver answers 500) and is killed with SIGKILL
 * while the retry waits; a second process, started afterwards, makes attempt 2 from the
 * outbox, with the same message id and body. Then two processes deliver many changes at once,
 * and the receiver sees each message exactly once. Pruning runs against the same database.
 * Everything stays on 127.0.0.1.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sql } from "../../src/db/sql";
import { createLogger } from "../../src/log";
import { WebhookDelivery } from "../../src/services/health/webhook-delivery";
import { GraphQLClient } from "../support/client";
import { createConnection, createWorkspace, signUp } from "../support/factories";
import { createTestDatabase } from "../support/database";
import { type RunningServer, startServerProcess } from "../support/patchbay-process";

const HOOK = `mutation($w: ID!, $u: String!) { createWebhook(workspaceId: $w, url: $u) { secret webhook { id } } }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { status } }`;

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: pg.Pool;
const dirs: string[] = [];
const servers: RunningServer[] = [];
const masterKey = randomBytes(32).toString("base64");
let receiver: Server;
const received: Received[] = [];
let answers: Array<number | "hang"> = []; // answers to the next requests (a status, or none at all); 204 when empty
const hanging = new Set<import("node:http").ServerResponse>();
let target: Server;
let targetStatus = 200;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}
const portOf = (server: Server) => (server.address() as { port: number }).port;

async function start(): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), "patchbay-outbox-"));
  dirs.push(dir);
  const server = await startServerProcess({
    DATABASE_URL: database.url,
    PATCHBAY_MASTER_KEY: masterKey,
    PATCHBAY_DATA_DIR: dir,
    PATCHBAY_WEBHOOK_TICK_MS: "100",
    PATCHBAY_WEBHOOK_ATTEMPTS: "4",
  });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const answer = answers.shift() ?? 204;
      if (answer === "hang") return void hanging.add(res);
      res.statusCode = answer;
      res.end();
    });
  });
  target = createServer((_req, res) => {
    res.statusCode = targetStatus;
    res.end("ok");
  });
  await Promise.all([listen(receiver), listen(target)]);
  database = await createTestDatabase("outbox");
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.stop();
  await pool?.end();
  await database?.drop();
  for (const res of hanging) res.destroy();
  receiver?.closeAllConnections();
  for (const server of [receiver, target]) await new Promise((r) => server?.close(r));
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, limitMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function attempts(webhookId: string): Promise<Array<{ messageId: string; attempt: number; outcome: string; statusCode: number | null }>> {
  const { rows } = await pool.query(`SELECT "messageId", "attempt", "outcome", "statusCode" FROM "WebhookDelivery" WHERE "webhookId" = $1 ORDER BY "at", "attempt"`, [webhookId]);
  return rows;
}

/** `n` attempts made and answered (none still SENDING). */
const settled = async (webhookId: string, n: number) => {
  const rows = await attempts(webhookId);
  return rows.length === n && rows.every((a) => a.outcome !== "SENDING");
};

const outboxSize = async () => Number((await pool.query(`SELECT count(*) AS n FROM "WebhookOutbox"`)).rows[0].n);

describe("the webhook outbox", () => {
  it("a crash between attempts loses nothing; two processes never make one attempt twice", async () => {
    const first = await start();
    const owner = await signUp(new GraphQLClient(first.url), "outbox-owner");
    const workspace = await createWorkspace(owner.client);
    const hook = (await owner.client.ok(HOOK, { w: workspace.id, u: `http://127.0.0.1:${portOf(receiver)}/hook` })).createWebhook;
    const conn = await createConnection(owner.client, workspace.id, { name: "api", type: "http", host: "127.0.0.1", schema: "http", port: portOf(target) });
    expect((await owner.client.ok(TEST, { id: conn.id })).testConnection.status).toBe("SUCCESS");

    // Attempt 1 fails; the process dies during the 1 s wait before attempt 2.
    answers = [500];
    targetStatus = 500;
    expect((await owner.client.ok(TEST, { id: conn.id })).testConnection.status).toBe("FAILURE");
    await until(() => settled(hook.webhook.id, 1));
    await first.kill();
    expect(await attempts(hook.webhook.id)).toMatchObject([{ attempt: 1, outcome: "FAILED", statusCode: 500 }]);
    expect(await outboxSize()).toBe(1);

    // Another process, started after the crash, makes attempt 2 of the same message.
    const second = await start();
    await until(() => settled(hook.webhook.id, 2));
    const made = await attempts(hook.webhook.id);
    expect(made.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, "FAILED", 500],
      [2, "DELIVERED", 204],
    ]);
    expect(made[0].messageId).toBe(made[1].messageId);
    expect(received).toHaveLength(2);
    expect(received.map((r) => r.headers["x-patchbay-attempt"])).toEqual(["1", "2"]);
    expect(received.map((r) => r.headers["x-patchbay-delivery"])).toEqual([made[0].messageId, made[0].messageId]);
    expect(received[1].body).toBe(received[0].body);
    for (const r of received) expect(r.headers["x-patchbay-signature"]).toBe(`sha256=${createHmac("sha256", hook.secret).update(r.body).digest("hex")}`);
    expect(JSON.parse(received[0].body)).toMatchObject({ id: made[0].messageId, connection: { id: conn.id }, oldStatus: "SUCCESS", newStatus: "FAILURE" });
    expect(await outboxSize()).toBe(0);

    // Two processes, many changes at once: each message reaches the receiver once, as attempt 1.
    const third = await start();
    received.length = 0;
    targetStatus = 200;
    const clients = [new GraphQLClient(second.url).as(owner.token), new GraphQLClient(third.url).as(owner.token)];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await createConnection(clients[0], workspace.id, { name: `c${i}`, type: "http", host: "127.0.0.1", schema: "http", port: portOf(target) })).id);
    await Promise.all(ids.map((id, i) => clients[i % 2].ok(TEST, { id })));
    targetStatus = 500;
    await Promise.all(ids.map((id, i) => clients[(i + 1) % 2].ok(TEST, { id })));
    await until(() => received.length >= ids.length);
    await new Promise((r) => setTimeout(r, 1_500)); // both keep polling ten times a second
    const messages = received.map((r) => r.headers["x-patchbay-delivery"]);
    expect(new Set(messages).size).toBe(ids.length);
    expect(messages).toHaveLength(ids.length);
    expect(received.every((r) => r.headers["x-patchbay-attempt"] === "1")).toBe(true);
    expect(new Set(received.map((r) => JSON.parse(r.body).connection.id))).toEqual(new Set(ids));
    expect(await outboxSize()).toBe(0);
    await second.stop();
    await third.stop();
  }, 180_000);

  it("an attempt cut short by a crash is on record as interrupted, and the next process makes the next attempt", async () => {
    const first = await start();
    const owner = await signUp(new GraphQLClient(first.url), "outbox-crash");
    const workspace = await createWorkspace(owner.client);
    const hook = (await owner.client.ok(HOOK, { w: workspace.id, u: `http://127.0.0.1:${portOf(receiver)}/hook` })).createWebhook;
    const conn = await createConnection(owner.client, workspace.id, { name: "api", type: "http", host: "127.0.0.1", schema: "http", port: portOf(target) });
    targetStatus = 200;
    await owner.client.ok(TEST, { id: conn.id });
    received.length = 0;
    answers = ["hang"];
    targetStatus = 500;
    await owner.client.ok(TEST, { id: conn.id });
    // The receiver holds the request: the process dies in the middle of attempt 1.
    await until(() => received.length === 1);
    const sending = await until(async () => {
      const rows = await attempts(hook.webhook.id);
      return rows.length === 1 && rows[0].outcome === "SENDING" ? rows : undefined;
    });
    await first.kill();
    // The lease (the attempt's deadline plus 30 s) ends, as time passing would end it.
    await pool.query(`UPDATE "WebhookOutbox" SET "nextAttemptAt" = now() - interval '1 second' WHERE "webhookId" = $1`, [hook.webhook.id]);
    const next = await start();
    await until(() => settled(hook.webhook.id, 2));
    const made = await attempts(hook.webhook.id);
    expect(made.map((a) => [a.attempt, a.outcome, a.statusCode])).toEqual([
      [1, "FAILED", null],
      [2, "DELIVERED", 204],
    ]);
    const { rows } = await pool.query(`SELECT "error" FROM "WebhookDelivery" WHERE "webhookId" = $1 AND "attempt" = 1`, [hook.webhook.id]);
    expect(rows[0].error).toMatch(/Interrupted/);
    expect(made.every((a) => a.messageId === sending[0].messageId)).toBe(true);
    expect(received.map((r) => [r.headers["x-patchbay-delivery"], r.headers["x-patchbay-attempt"]])).toEqual([
      [sending[0].messageId, "1"],
      [sending[0].messageId, "2"],
    ]);
    expect(received[1].body).toBe(received[0].body);
    expect(await outboxSize()).toBe(0);
    await next.stop();
  }, 120_000);

  it("prunes attempt rows to the newest N per webhook and an age limit", async () => {
    const webhookRows = (await pool.query(`SELECT "id", "workspaceId" FROM "Webhook" LIMIT 1`)).rows;
    expect(webhookRows).toHaveLength(1);
    const { id: webhookId, workspaceId } = webhookRows[0];
    await pool.query(`DELETE FROM "WebhookDelivery"`);
    const insert = (attempt: number, age: string) =>
      pool.query(
        `INSERT INTO "WebhookDelivery" ("id", "webhookId", "workspaceId", "connectionId", "oldStatus", "newStatus", "attempt", "outcome", "at")
         VALUES ($1, $2, $3, 'c', 'SUCCESS', 'FAILURE', $4, 'FAILED', now() - $5::interval)`,
        [randomBytes(8).toString("hex"), webhookId, workspaceId, attempt, age],
      );
    await insert(1, "40 days");
    for (let i = 2; i <= 6; i++) await insert(i, `${10 - i} minutes`);
    const sql = new Sql(pool);
    const delivery = new WebhookDelivery(null as never, sql, null as never, { egress: null as never, timeoutMs: 1_000, maxAttempts: 3, keptPerWebhook: 3, keptDays: 30 }, createLogger({ level: "error" }));
    expect(await delivery.prune()).toBe(3);
    const left = (await pool.query(`SELECT "attempt" FROM "WebhookDelivery" ORDER BY "attempt"`)).rows.map((r) => r.attempt);
    expect(left).toEqual([4, 5, 6]);
  });
});
