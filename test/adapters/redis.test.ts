/**
 * The redis adapter against real redis-server processes: one with a password and ACL users,
 * one without any password, one that speaks TLS only; and against fake servers for silence,
 * trickling, another protocol, and a peer that drops the connection (to show the client
 * never reconnects).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisAdapter } from "../../src/adapters/redis";
import { validateSettings } from "../../src/adapters/registry";
import type { ConnectionSettings, TestContext, TestOutcome } from "../../src/adapters/types";
import { createEgress } from "../../src/net/egress";
import { serviceAvailable } from "../servers/availability";
import { startRedis, type RedisHandle } from "../servers/redis";
import { selfSignedCertificate, type SelfSignedCertificate } from "./support/certificate";
import { testContext } from "./support/context";
import { bannerServer} from "./support/fake-servers";
import { expectFailure } from "./support/outcome";

const password = `pw-${randomBytes(9).toString("hex")}`;
const appPassword = `app-${randomBytes(9).toString("hex")}`;
const limitedPassword = `lim-${randomBytes(9).toString("hex")}`;

/** An egress that resolves every name to 127.0.0.1 itself: no real DNS lookup could. */
const pinnedEgress = createEgress({ mode: "default", allow: [], deny: [], lookup: async () => [{ address: "127.0.0.1", family: 4 }] });

function settings(port: number, overrides: Partial<ConnectionSettings> = {}, extra: Record<string, unknown> = {}): ConnectionSettings {
  return { host: "127.0.0.1", port, schema: null, login: null, password, extra, ...overrides };
}

function testRedis(s: ConnectionSettings, ctx: TestContext = testContext()): Promise<TestOutcome> {
  return redisAdapter.test!(s, ctx);
}

describe("redis adapter field specs and validation", () => {
  it("describes the New Connection form", () => {
    const byName = Object.fromEntries(redisAdapter.fields.map((field) => [field.name, field]));
    expect(byName.port).toMatchObject({ kind: "INTEGER", default: 6379 });
    expect(byName["extra.db"]).toMatchObject({ kind: "INTEGER", default: 0 });
    expect(byName["extra.tls"]).toMatchObject({ kind: "BOOLEAN", default: false });
    expect(byName.password).toMatchObject({ kind: "PASSWORD", secret: true });
    expect(byName.login.required).toBeFalsy();
  });

  it("refuses a negative or fractional database number", async () => {
    for (const db of [-1, 1.5, "3"]) {
      expect(validateSettings(redisAdapter, settings(6379, {}, { db }))).toEqual([expect.objectContaining({ field: "extra.db" })]);
    }
    expectFailure(await testRedis(settings(6379, {}, { db: -1 })), "INVALID_CONFIG");
  });

  it("asks for the password before connecting when a user has none", async () => {
    expectFailure(await testRedis(settings(6379, { login: "app", password: null })), "SECRET_REQUIRED");
  });
});

describe.skipIf(!serviceAvailable("redis-server", "the redis adapter tests need a real Redis server"))("redis adapter against redis-server", () => {
  let secured: RedisHandle;
  let open: RedisHandle;

  beforeAll(async () => {
    // One after the other: if the second fails to start, afterAll still stops the first.
    secured = await startRedis({
      requirepass: password,
      users: { app: `on >${appPassword} ~* &* +@all`, limited: `on >${limitedPassword} ~* +ping` },
    });
    open = await startRedis({ requirepass: null });
  });
  afterAll(async () => {
    await Promise.all([secured?.stop(), open?.stop()]);
  });

  it("authenticates with the password, selects the database and reports the server version", async () => {
    const outcome = await testRedis(settings(secured.port, {}, { db: 3 }));
    expect(outcome).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^Redis \d+\.\d+\.\d+$/) });
    expect(outcome.message).toContain("database 3");
  });

  it("connects to the address the egress module checked, for a name and for an odd spelling of an IP", async () => {
    const byName = await testRedis(settings(secured.port, { host: "cache.example.invalid" }), testContext({ egress: pinnedEgress }));
    expect(byName).toMatchObject({ ok: true });
    expect(await testRedis(settings(secured.port, { host: "127.1" }))).toMatchObject({ ok: true });
  });

  it("authenticates an ACL user", async () => {
    const outcome = await testRedis(settings(secured.port, { login: "app", password: appPassword }));
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toContain("as app");
  });

  it("reports AUTH_FAILED for a wrong password, without the password in the message", async () => {
    const wrong = `wrong-${randomBytes(6).toString("hex")}`;
    const message = expectFailure(await testRedis(settings(secured.port, { password: wrong })), "AUTH_FAILED");
    expect(message).not.toContain(wrong);
    expect(message).not.toMatch(/WRONGPASS|invalid username/);
  });

  it("reports AUTH_FAILED for an ACL user with a wrong password", async () => {
    const message = expectFailure(await testRedis(settings(secured.port, { login: "app", password: "not-it" })), "AUTH_FAILED");
    expect(message).toContain("app");
  });

  it("reports AUTH_FAILED when the server needs a password and the connection has none", async () => {
    const message = expectFailure(await testRedis(settings(secured.port, { password: null })), "AUTH_FAILED");
    expect(message).toMatch(/requires a password/);
  });

  it("reports NOT_FOUND for a database number the server does not have", async () => {
    expect(await testRedis(settings(secured.port, {}, { db: 15 }))).toMatchObject({ ok: true });
    const message = expectFailure(await testRedis(settings(secured.port, {}, { db: 16 })), "NOT_FOUND");
    expect(message).toContain("16");
  });

  it("reports PERMISSION_DENIED for a user that may not select the database", async () => {
    expectFailure(await testRedis(settings(secured.port, { login: "limited", password: limitedPassword })), "PERMISSION_DENIED");
  });

  it("connects without authentication to a server that has no password", async () => {
    const outcome = await testRedis(settings(open.port, { password: null }));
    expect(outcome).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^Redis /) });
    expect(outcome.message).toMatch(/without authentication/);
  });

  it("reports AUTH_FAILED when a password is given to a server that has none", async () => {
    const message = expectFailure(await testRedis(settings(open.port)), "AUTH_FAILED");
    expect(message).toMatch(/has no password set/);
    expect(message).not.toContain(password);
  });
});

describe.skipIf(!serviceAvailable("redis-server", "the redis adapter tests need a real Redis server"))("redis adapter over TLS", () => {
  let certificate: SelfSignedCertificate;
  let tlsServer: RedisHandle;
  let plainServer: RedisHandle;

  beforeAll(async () => {
    certificate = await selfSignedCertificate();
    tlsServer = await startRedis({ requirepass: password, tls: certificate });
    plainServer = await startRedis({ requirepass: password });
  });
  afterAll(async () => {
    await Promise.all([tlsServer?.stop(), plainServer?.stop()]);
    await certificate?.remove();
  });

  it("authenticates over TLS", async () => {
    const outcome = await testRedis(settings(tlsServer.port, {}, { tls: true, tls_verify: false }));
    expect(outcome).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^Redis /) });
    expect(outcome.message).toMatch(/over TLS/);
  });

  it("reports TLS_ERROR for a self-signed certificate when verifying", async () => {
    const outcome = await testRedis(settings(tlsServer.port, { host: "localhost" }, { tls: true }));
    expect(expectFailure(outcome, "TLS_ERROR")).toMatch(/self-signed/);
  });

  it("reports TIMEOUT with a TLS hint for TLS against a plain-text server, which never answers a ClientHello", async () => {
    const outcome = await testRedis(settings(plainServer.port, {}, { tls: true, tls_verify: false }), testContext({ timeoutMs: 500 }));
    expect(expectFailure(outcome, "TIMEOUT")).toMatch(/TLS handshake/);
  });

  it("fails, without hanging, in plain text against a TLS-only server", async () => {
    const started = Date.now();
    const outcome = await testRedis(settings(tlsServer.port), testContext({ timeoutMs: 2_000 }));
    expect(outcome.ok).toBe(false);
    expect(["PROTOCOL_ERROR", "TIMEOUT"]).toContain((outcome as { code: string }).code);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe("redis adapter against unreachable or foreign servers", () => {
  it("never reconnects after the server drops the connection", async () => {
    const server = await bannerServer("", "at-once");
    try {
      expectFailure(await testRedis(settings(server.port)), "PROTOCOL_ERROR");
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(server.accepted()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("does not echo an error reply sent before authentication", async () => {
    const server = await bannerServer("-ERR greeting-7c1e go away\r\n");
    try {
      const outcome = await testRedis(settings(server.port));
      expect(outcome.ok).toBe(false);
      expect(outcome.message).not.toContain("greeting-7c1e");
      expect(outcome.message).not.toContain(password);
    } finally {
      await server.close();
    }
  });
});
