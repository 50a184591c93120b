/**
 * Environments in health: two Patchbay processes on one database (this test's server and a
 * child process), both ticking every 100 ms. A schedule for all connections tests each
 * connection and each environment that has an override of it, each exactly once; a status
 * flip of an environment's own test (testConnectionIn, or a schedule of that environment)
 * reaches the webhook with `environment` set, signed (this test's receiver on 127.0.0.1
 * checks the HMAC). The connection is an http one; each environment points it at its own
 * local server, whose answer the test flips between 200 and 500.
 */
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createConnection, createWorkspace, signUp } from "../support/factories";
import { type RunningServer, startServerProcess } from "../support/patchbay-process";

const FAST = { PATCHBAY_SCHEDULER_TICK_MS: "100" };
// Variables named as the arguments: the input guard names a hostile value by its variable.
const SET = `mutation($w: ID!, $m: Int!, $c: ID, $environment: String) { setTestSchedule(workspaceId: $w, everyMinutes: $m, connectionId: $c, environment: $environment) { id connectionId environment everyMinutes } }`;
const REMOVE = `mutation($w: ID!, $c: ID, $environment: String) { removeTestSchedule(workspaceId: $w, connectionId: $c, environment: $environment) }`;
const OVERRIDE = `mutation($id: ID!, $e: String!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: $e, patch: $p) { id } }`;
const TEST_IN = `mutation($id: ID!, $e: String!) { testConnectionIn(id: $id, environment: $e) { status } }`;
const HOOK = `mutation($w: ID!, $u: String!) { createWebhook(workspaceId: $w, url: $u) { secret webhook { id } } }`;
const DELIVERIES = `query($s: String!) { workspace(slug: $s) { webhooks { deliveries(first: 20) { environment oldStatus newStatus outcome connectionId } } } }`;

interface Received {
  body: string;
  signature: string | undefined;
}

let app: TestApp;
let second: RunningServer;
let secondDir: string;
const targets: Record<string, { server: Server; status: number; hits: number }> = {};
let receiver: Server;
const received: Received[] = [];

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

function target(name: string): Server {
  const entry = { server: createServer((_req, res) => {
    entry.hits++;
    res.statusCode = entry.status;
    res.end("ok");
  }), status: 200, hits: 0 };
  targets[name] = entry;
  return entry.server;
}

const portOf = (name: string) => (targets[name].server.address() as { port: number }).port;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ body: Buffer.concat(chunks).toString("utf8"), signature: req.headers["x-patchbay-signature"] as string | undefined });
      res.statusCode = 204;
      res.end();
    });
  });
  await Promise.all([listen(receiver), listen(target("base")), listen(target("prod")), listen(target("staging"))]);
  app = await startTestApp(FAST);
  secondDir = await mkdtemp(join(tmpdir(), "patchbay-envhealth-"));
  second = await startServerProcess({ DATABASE_URL: app.databaseUrl, PATCHBAY_MASTER_KEY: app.masterKey, PATCHBAY_DATA_DIR: secondDir, ...FAST });
}, 120_000);

afterAll(async () => {
  await second?.stop();
  await app?.stop();
  for (const server of [receiver, ...Object.values(targets).map((t) => t.server)]) await new Promise((r) => server?.close(r));
  if (secondDir) await rm(secondDir, { recursive: true, force: true });
});

async function until<T>(check: () => Promise<T | undefined | false>, limitMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("environments in health", () => {
  it("a schedule for all tests every connection and every environment once; an environment's flip reaches the webhook with its name", async () => {
    const owner = await signUp(new GraphQLClient(app.url), "envhealth-owner");
    const workspace = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, workspace.id, { name: "api", type: "http", host: "127.0.0.1", schema: "http", port: portOf("base") });
    const plain = await createConnection(owner.client, workspace.id, { name: "plain", type: "http", host: "127.0.0.1", schema: "http", port: portOf("base") });
    await owner.client.ok(OVERRIDE, { id: conn.id, e: "prod", p: { port: portOf("prod") } });
    await owner.client.ok(OVERRIDE, { id: conn.id, e: "staging", p: { port: portOf("staging") } });
    const overrides = await app.prisma.connectionOverride.findMany({ where: { connectionId: conn.id } });
    const overrideId = (env: string) => overrides.find((o) => o.environment === env)!.id;
    const hook = (await owner.client.ok(HOOK, { w: workspace.id, u: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook` })).createWebhook;

    // All connections, every environment with an override as well as each connection's own values: once each.
    const all = (await owner.client.ok(SET, { w: workspace.id, m: 60 })).setTestSchedule;
    expect(all).toMatchObject({ connectionId: null, environment: null });
    const counts = async () => ({
      api: await app.prisma.testResult.count({ where: { connectionId: conn.id } }),
      plain: await app.prisma.testResult.count({ where: { connectionId: plain.id } }),
      prod: await app.prisma.overrideTestResult.count({ where: { overrideId: overrideId("prod") } }),
      staging: await app.prisma.overrideTestResult.count({ where: { overrideId: overrideId("staging") } }),
    });
    await until(async () => Object.values(await counts()).every((n) => n >= 1));
    await new Promise((r) => setTimeout(r, 1_500)); // both processes keep ticking: nothing runs twice
    expect(await counts()).toEqual({ api: 1, plain: 1, prod: 1, staging: 1 });
    expect(targets.prod.hits).toBe(1);
    expect(targets.staging.hits).toBe(1);
    const prodResult = await app.prisma.overrideTestResult.findFirstOrThrow({ where: { overrideId: overrideId("prod") } });
    expect(prodResult).toMatchObject({ status: "SUCCESS", actorKind: "USER", actorId: owner.userId });
    await owner.client.ok(REMOVE, { w: workspace.id });

    // prod fails in testConnectionIn: the webhook hears of prod, and only prod.
    targets.prod.status = 500;
    expect((await owner.client.ok(TEST_IN, { id: conn.id, e: "prod" })).testConnectionIn.status).toBe("FAILURE");
    const down = await until(async () => received[0]);
    expect(down.signature).toBe(`sha256=${createHmac("sha256", hook.secret).update(down.body).digest("hex")}`);
    expect(JSON.parse(down.body)).toMatchObject({ connection: { id: conn.id, name: "api" }, environment: "prod", oldStatus: "SUCCESS", newStatus: "FAILURE" });
    // The connection's own status did not change: its lastTest is still the scheduled SUCCESS.
    expect(await app.prisma.testResult.count({ where: { connectionId: conn.id } })).toBe(1);

    // A schedule of prod alone flips it back, once, and says prod.
    targets.prod.status = 200;
    const prodOnly = (await owner.client.ok(SET, { w: workspace.id, m: 60, c: conn.id, environment: "prod" })).setTestSchedule;
    expect(prodOnly).toMatchObject({ connectionId: conn.id, environment: "prod" });
    const up = await until(async () => received[1]);
    expect(JSON.parse(up.body)).toMatchObject({ environment: "prod", oldStatus: "FAILURE", newStatus: "SUCCESS" });
    expect(up.signature).toBe(`sha256=${createHmac("sha256", hook.secret).update(up.body).digest("hex")}`);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(received).toHaveLength(2);
    expect(await app.prisma.overrideTestResult.count({ where: { overrideId: overrideId("prod") } })).toBe(3);
    expect(targets.staging.hits).toBe(1); // the prod schedule tests prod only

    const listed = (await owner.client.ok(DELIVERIES, { s: workspace.slug })).workspace.webhooks[0].deliveries;
    expect(listed.map((d: any) => [d.environment, d.oldStatus, d.newStatus, d.outcome])).toEqual([
      ["prod", "FAILURE", "SUCCESS", "DELIVERED"],
      ["prod", "SUCCESS", "FAILURE", "DELIVERED"],
    ]);
    expect((await owner.client.ok(REMOVE, { w: workspace.id, c: conn.id, environment: "prod" })).removeTestSchedule).toBe(true);
  }, 90_000);

  it("refuses an environment without a connection, without an override, or with a hostile name", async () => {
    const owner = await signUp(new GraphQLClient(app.url), "envhealth-hostile");
    const workspace = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, workspace.id, { name: "api", type: "http", host: "127.0.0.1", schema: "http", port: portOf("base") });
    expect(await owner.client.fails(SET, { w: workspace.id, m: 5, environment: "prod" })).toMatchObject({ code: "BAD_USER_INPUT", field: "environment" });
    expect(await owner.client.fails(SET, { w: workspace.id, m: 5, c: conn.id, environment: "prod" })).toMatchObject({ code: "BAD_USER_INPUT", field: "environment" });
    for (const e of ["", "__proto__", "a\u0000b", "x".repeat(65), "\ud800"]) {
      expect(await owner.client.fails(SET, { w: workspace.id, m: 5, c: conn.id, environment: e })).toMatchObject({ code: "BAD_USER_INPUT", field: "environment" });
    }
    expect(await app.prisma.testSchedule.count({ where: { workspaceId: workspace.id } })).toBe(0);
    // One schedule per connection and environment: the connection's own and prod's are two.
    await owner.client.ok(OVERRIDE, { id: conn.id, e: "prod", p: { port: portOf("prod") } });
    await owner.client.ok(SET, { w: workspace.id, m: 30, c: conn.id });
    await owner.client.ok(SET, { w: workspace.id, m: 30, c: conn.id, environment: "prod" });
    await owner.client.ok(SET, { w: workspace.id, m: 45, c: conn.id, environment: "prod" });
    const rows = await app.prisma.testSchedule.findMany({ where: { workspaceId: workspace.id }, orderBy: { environment: "asc" } });
    expect(rows.map((r) => [r.environment, r.everyMinutes])).toEqual([["prod", 45], [null, 30]]);
  });
});
