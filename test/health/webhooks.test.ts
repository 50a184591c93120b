/**
 * Webhooks on a status change: this test's receiver on 127.0.0.1 checks the HMAC signature
 * with the secret createWebhook showed once; a receiver answering 500 gets the retries; a
 * webhook to 127.0.0.2, deny-listed by PATCHBAY_EGRESS_DENY, is refused before any socket is
 * opened (a listener there counts connections: none). Everything stays on 127.0.0.0/8, even if
 * the egress check regressed. The connection is an http one to a local server whose answer the
 * test flips between 200 and 500; a scheduled test flips it back.
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createConnection, createWorkspace, signUp } from "../support/factories";

const CREATE = `mutation($w: ID!, $u: String!) { createWebhook(workspaceId: $w, url: $u) { secret webhook { id url } } }`;
const DELETE = `mutation($id: ID!) { deleteWebhook(id: $id) }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { status } }`;
const HOOKS = `query($s: String!) { workspace(slug: $s) { webhooks { id url deliveries(first: 10) { attempt outcome statusCode error oldStatus newStatus connectionId } } } }`;

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let app: TestApp;
let target: Server;
let targetStatus = 200;
let receiver: Server;
const received: Received[] = [];
let denied: TcpServer;
let deniedHits = 0;

function listen(server: Server | TcpServer, host: string): Promise<number> {
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as { port: number }).port)));
}

beforeAll(async () => {
  target = createServer((_req, res) => {
    res.statusCode = targetStatus;
    res.end("ok");
  });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = req.url === "/fail" ? 500 : 204;
      res.end();
    });
  });
  denied = createTcpServer((socket) => {
    deniedHits++;
    socket.destroy();
  });
  await Promise.all([listen(target, "127.0.0.1"), listen(receiver, "127.0.0.1"), listen(denied, "127.0.0.2")]);
  app = await startTestApp({ PATCHBAY_EGRESS_DENY: "127.0.0.2/32", PATCHBAY_SCHEDULER_TICK_MS: "100", PATCHBAY_WEBHOOK_ATTEMPTS: "3" });
}, 120_000);

afterAll(async () => {
  await app?.stop();
  for (const server of [target, receiver, denied]) await new Promise((r) => server?.close(r));
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

const port = (server: Server | TcpServer) => (server.address() as { port: number }).port;

describe("webhooks on a status change", () => {
  it("signs each delivery, retries a failing receiver, refuses a denied address, and never sends a secret", async () => {
    const owner = await signUp(new GraphQLClient(app.url), "hook-owner");
    const workspace = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, workspace.id, {
      name: "api",
      type: "http",
      host: "127.0.0.1",
      schema: "http",
      port: port(target),
      login: "svc",
      password: "hunter2-Secret!",
    });
    const ok = (await owner.client.ok(CREATE, { w: workspace.id, u: `http://127.0.0.1:${port(receiver)}/hook?key=abc` })).createWebhook;
    expect(ok.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    const failing = (await owner.client.ok(CREATE, { w: workspace.id, u: `http://127.0.0.1:${port(receiver)}/fail` })).createWebhook;
    const refused = (await owner.client.ok(CREATE, { w: workspace.id, u: `http://127.0.0.2:${port(denied)}/hook` })).createWebhook;
    // Sealed at rest: the stored row does not hold the secret.
    const row = await app.prisma.webhook.findUniqueOrThrow({ where: { id: ok.webhook.id } });
    expect(Buffer.from(row.secretCiphertext).includes(Buffer.from(ok.secret))).toBe(false);

    targetStatus = 200;
    expect((await owner.client.ok(TEST, { id: conn.id })).testConnection.status).toBe("SUCCESS"); // the first result: no change
    targetStatus = 500;
    expect((await owner.client.ok(TEST, { id: conn.id })).testConnection.status).toBe("FAILURE");

    const delivery = await until(async () => received.find((r) => r.path.startsWith("/hook")));
    const expected = `sha256=${createHmac("sha256", ok.secret).update(delivery.body).digest("hex")}`;
    expect(delivery.headers["x-patchbay-signature"]).toBe(expected);
    expect(delivery.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(delivery.body);
    expect(body).toMatchObject({ connection: { id: conn.id, name: "api" }, oldStatus: "SUCCESS", newStatus: "FAILURE", environment: null });
    expect(typeof body.message).toBe("string");
    expect(Number(delivery.headers["x-patchbay-timestamp"])).toBe(Math.floor(Date.parse(body.time) / 1000));
    for (const secret of ["hunter2-Secret!", ok.secret, failing.secret, refused.secret]) expect(delivery.body).not.toContain(secret);
    // A wrong secret does not verify.
    expect(createHmac("sha256", failing.secret).update(delivery.body).digest("hex")).not.toBe(expected.slice(7));

    // The failing receiver: three attempts (1 s and 4 s apart), each recorded.
    const hooks = await until(async () => {
      const list = (await owner.client.ok(HOOKS, { s: workspace.slug })).workspace.webhooks;
      const byId = new Map(list.map((h: any) => [h.id, h.deliveries]));
      const attempts = byId.get(failing.webhook.id) as any[];
      return attempts.length === 3 && attempts.every((d) => d.outcome !== "SENDING") ? byId : undefined;
    });
    expect(hooks.get(ok.webhook.id)).toEqual([
      { attempt: 1, outcome: "DELIVERED", statusCode: 204, error: null, oldStatus: "SUCCESS", newStatus: "FAILURE", connectionId: conn.id },
    ]);
    expect((hooks.get(failing.webhook.id) as any[]).map((d) => [d.attempt, d.outcome, d.statusCode])).toEqual([
      [3, "FAILED", 500],
      [2, "FAILED", 500],
      [1, "FAILED", 500],
    ]);
    expect(received.filter((r) => r.path === "/fail")).toHaveLength(3);
    // The denied address: refused once, not retried, and nothing reached it.
    const refusals = hooks.get(refused.webhook.id) as any[];
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ attempt: 1, outcome: "REFUSED", statusCode: null });
    expect(refusals[0].error).toMatch(/EGRESS_DENIED/);
    expect(deniedHits).toBe(0);

    // A scheduled test flips it back: FAILURE → SUCCESS is delivered too.
    await owner.client.ok(DELETE, { id: failing.webhook.id });
    targetStatus = 200;
    await owner.client.ok(`mutation($w: ID!, $c: ID) { setTestSchedule(workspaceId: $w, everyMinutes: 60, connectionId: $c) { id } }`, { w: workspace.id, c: conn.id });
    const back = await until(async () => received.filter((r) => r.path.startsWith("/hook"))[1]);
    expect(JSON.parse(back.body)).toMatchObject({ oldStatus: "FAILURE", newStatus: "SUCCESS" });
    expect(back.headers["x-patchbay-signature"]).toBe(`sha256=${createHmac("sha256", ok.secret).update(back.body).digest("hex")}`);
    expect(deniedHits).toBe(0);
  }, 60_000);

  it("refuses hostile URLs, members below ADMIN and other workspaces' webhooks", async () => {
    const anonymous = new GraphQLClient(app.url);
    const owner = await signUp(anonymous, "hook-hostile");
    const member = await signUp(anonymous, "hook-member");
    const stranger = await signUp(anonymous, "hook-stranger");
    const workspace = await createWorkspace(owner.client);
    await addMember(owner.client, workspace.id, member.email, "MEMBER");
    for (const u of ["", "ftp://example.com/", "javascript:alert(1)", "not a url", "http://user:pw@example.com/", `https://example.com/${"a".repeat(2100)}`, "file:///etc/passwd"]) {
      expect(await owner.client.fails(CREATE, { w: workspace.id, u })).toMatchObject({ code: "BAD_USER_INPUT", field: "url" });
    }
    expect((await member.client.fails(CREATE, { w: workspace.id, u: "https://example.com/" })).code).toBe("FORBIDDEN");
    expect((await stranger.client.fails(CREATE, { w: workspace.id, u: "https://example.com/" })).code).toBe("NOT_FOUND");
    expect(await app.prisma.webhook.count({ where: { workspaceId: workspace.id } })).toBe(0);

    const hook = (await owner.client.ok(CREATE, { w: workspace.id, u: "https://example.com/hook" })).createWebhook;
    expect((await stranger.client.fails(DELETE, { id: hook.webhook.id })).code).toBe("NOT_FOUND");
    expect((await member.client.fails(DELETE, { id: hook.webhook.id })).code).toBe("FORBIDDEN");
    expect((await owner.client.fails(DELETE, { id: "x".repeat(5000) })).code).toBe("NOT_FOUND");
    // Listed without the secret; the audit log names only the origin.
    const listed = await owner.client.request(`query($s: String!) { workspace(slug: $s) { webhooks { id url secret } } }`, { s: workspace.slug });
    expect(listed.errors?.[0]?.message).toMatch(/secret/);
    const audit = await app.prisma.auditEvent.findMany({ where: { workspaceId: workspace.id, action: "webhook.create" } });
    expect(audit.map((a) => a.details)).toEqual([{ origin: "https://example.com" }]);
    expect((await owner.client.ok(DELETE, { id: hook.webhook.id })).deleteWebhook).toBe(true);
    expect(await app.prisma.webhook.count({ where: { workspaceId: workspace.id } })).toBe(0);
  });
});
