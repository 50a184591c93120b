/**
 * The imap adapter against real Dovecot servers (one without TLS, one with STARTTLS and
 * implicit TLS), and against fake servers for what Dovecot on 127.0.0.1 cannot show: silence,
 * trickling, another protocol, and a refusal of plain-text logins (Dovecot counts connections
 * from its own host as secured, so it never refuses them there).
 */
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imapAdapter } from "../../src/adapters/imap";
import type { ConnectionSettings, TestContext, TestOutcome } from "../../src/adapters/types";
import { freePort } from "../../src/net/free-port";
import { createEgress } from "../../src/net/egress";
import { findProgram } from "../servers/availability";
import { dovecotAvailable, startDovecot, type DovecotHandle } from "../servers/dovecot";
import { selfSignedCertificate, type SelfSignedCertificate } from "./support/certificate";
import { testContext } from "./support/context";
import { silentServer } from "./support/fake-servers";
import { expectFailure } from "./support/outcome";

const user = "alice";
const password = `pw-${randomBytes(9).toString("hex")}`;

/** An egress that resolves every name to 127.0.0.1 itself: no real DNS lookup could. */
const pinnedEgress = createEgress({ mode: "default", allow: [], deny: [], lookup: async () => [{ address: "127.0.0.1", family: 4 }] });

function settings(port: number, overrides: Partial<ConnectionSettings> = {}, extra: Record<string, unknown> = {}): ConnectionSettings {
  return { host: "127.0.0.1", port, schema: null, login: user, password, extra: { tls_verify: false, ...extra }, ...overrides };
}

function testImap(s: ConnectionSettings, ctx: TestContext = testContext()): Promise<TestOutcome> {
  return imapAdapter.test!(s, ctx);
}

describe("imap adapter field specs", () => {
  it("describes the New Connection form", () => {
    const byName = Object.fromEntries(imapAdapter.fields.map((field) => [field.name, field]));
    expect(byName["extra.tls_mode"]).toMatchObject({ kind: "SELECT", options: ["none", "starttls", "tls"], default: "tls" });
    expect(byName["extra.mailbox"]).toMatchObject({ kind: "STRING", default: "INBOX" });
    expect(byName.login).toMatchObject({ required: true });
    expect(byName.password).toMatchObject({ kind: "PASSWORD", secret: true });
    expect(imapAdapter.defaultPort).toBe(993);
  });

  it("asks for the password before connecting when there is none", async () => {
    expectFailure(await testImap(settings(143, { password: null }, { tls_mode: "none" })), "SECRET_REQUIRED");
  });
});

describe.skipIf(!dovecotAvailable("the imap adapter tests need a real IMAP server"))("imap adapter against Dovecot", () => {
  let plain: DovecotHandle;
  let secure: DovecotHandle;
  let certificate: SelfSignedCertificate;

  beforeAll(async () => {
    certificate = await selfSignedCertificate();
    // One after the other: if the second fails to start, afterAll still stops the first.
    plain = await startDovecot({ users: { [user]: password } });
    secure = await startDovecot({ users: { [user]: password }, tls: certificate });
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), secure?.stop()]);
    await certificate?.remove();
  });

  describe("without TLS", () => {
    it("logs in, opens INBOX read-only and reports the server version", async () => {
      const outcome = await testImap(settings(plain.port, {}, { tls_mode: "none" }));
      expect(outcome).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^Dovecot/) });
      expect(outcome.message).toMatch(/opened INBOX read-only/);
    });

    it("connects to the address the egress module checked, for a name and for an odd spelling of an IP", async () => {
      const byName = await testImap(settings(plain.port, { host: "imap.example.invalid" }, { tls_mode: "none" }), testContext({ egress: pinnedEgress }));
      expect(byName).toMatchObject({ ok: true });
      expect(await testImap(settings(plain.port, { host: "0x7f.1" }, { tls_mode: "none" }))).toMatchObject({ ok: true });
    });

    it("reports AUTH_FAILED for a wrong password, without the password in the message", async () => {
      const wrong = `wrong-${randomBytes(6).toString("hex")}`;
      const message = expectFailure(await testImap(settings(plain.port, { password: wrong }, { tls_mode: "none" })), "AUTH_FAILED");
      expect(message).toContain(user);
      expect(message).toContain("AUTHENTICATIONFAILED");
      expect(message).not.toContain(wrong);
    });

    it("reports AUTH_FAILED for an unknown user", async () => {
      expectFailure(await testImap(settings(plain.port, { login: "mallory" }, { tls_mode: "none" })), "AUTH_FAILED");
    });

    it("reports NOT_FOUND for a mailbox that does not exist", async () => {
      const outcome = await testImap(settings(plain.port, {}, { tls_mode: "none", mailbox: "Nowhere/Else" }));
      expect(expectFailure(outcome, "NOT_FOUND")).toContain("Nowhere/Else");
    });

    it("reports TLS_ERROR when STARTTLS is required and the server does not offer it, without logging in", async () => {
      const logins = async () => (await plain.log()).match(/user=<alice>/g)?.length ?? 0;
      const before = await logins();
      const message = expectFailure(await testImap(settings(plain.port, {}, { tls_mode: "starttls" })), "TLS_ERROR");
      expect(message).toMatch(/does not offer STARTTLS/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await logins()).toBe(before);
    });

    it("reports TLS_ERROR for implicit TLS against a plain-text server", async () => {
      expectFailure(await testImap(settings(plain.port, {}, { tls_mode: "tls" })), "TLS_ERROR");
    });
  });

  describe("with TLS", () => {
    it("upgrades with STARTTLS, then logs in", async () => {
      const outcome = await testImap(settings(secure.port, {}, { tls_mode: "starttls" }));
      expect(outcome).toMatchObject({ ok: true });
    });

    it("logs in over implicit TLS, the default mode", async () => {
      const outcome = await testImap(settings(secure.tlsPort!));
      expect(outcome).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^Dovecot/) });
    });

    it("reports AUTH_FAILED over TLS for a wrong password", async () => {
      expectFailure(await testImap(settings(secure.tlsPort!, { password: "not-it" })), "AUTH_FAILED");
    });

    it.skipIf(!findProgram("openssl"))("reports TLS_ERROR for a self-signed certificate when verifying", async () => {
      const outcome = await testImap(settings(secure.tlsPort!, { host: "localhost" }, { tls_verify: true }));
      expect(expectFailure(outcome, "TLS_ERROR")).toMatch(/self-signed/);
    });
  });
});

/** An IMAP server that refuses every login over plain text (LOGINDISABLED) and answers OK to anything else. */
async function loginDisabledServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.write("* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] greeting-7c1e ready\r\n");
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      for (let end = buffered.indexOf("\r\n"); end >= 0; end = buffered.indexOf("\r\n")) {
        const tag = buffered.slice(0, end).split(" ")[0];
        buffered = buffered.slice(end + 2);
        socket.write(`${tag} OK done\r\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("imap adapter against unreachable or foreign servers", () => {
  it("reports CONNECTION_REFUSED for a port nothing listens on", async () => {
    const closedPort = await freePort();
    for (const tls_mode of ["none", "tls"]) {
      const message = expectFailure(await testImap(settings(closedPort, {}, { tls_mode })), "CONNECTION_REFUSED");
      expect(message).toContain(`127.0.0.1:${closedPort}`);
    }
  });

  it("stops when the caller's signal aborts during a TLS handshake", async () => {
    const server = await silentServer();
    try {
      const started = Date.now();
      const ctx = testContext({ signal: AbortSignal.timeout(200), timeoutMs: 20_000 });
      expectFailure(await testImap(settings(server.port), ctx), "TIMEOUT");
      expect(Date.now() - started).toBeLessThan(2_000);
      await server.allClosed();
    } finally {
      await server.close();
    }
  });

  it("reports TLS_ERROR when the server refuses a plain-text login, without echoing its greeting", async () => {
    const server = await loginDisabledServer();
    try {
      const message = expectFailure(await testImap(settings(server.port, {}, { tls_mode: "none" })), "TLS_ERROR");
      expect(message).toMatch(/unencrypted/);
      expect(message).not.toContain("greeting-7c1e");
    } finally {
      await server.close();
    }
  });

});
