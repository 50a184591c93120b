/**
 * The smtp adapter against smtp-server in this process: plain text with AUTH allowed, STARTTLS
 * and implicit TLS with a throwaway certificate. Every server records what the client did, and
 * every test checks that no mail transaction was ever started.
 */
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { smtpAdapter } from "../../src/adapters/smtp";
import type { ConnectionSettings, TestContext, TestOutcome } from "../../src/adapters/types";
import { freePort } from "../../src/net/free-port";
import { createEgress } from "../../src/net/egress";
import { findProgram } from "../servers/availability";
import { selfSignedCertificate, type SelfSignedCertificate } from "./support/certificate";
import { testContext } from "./support/context";
import { expectFailure } from "./support/outcome";

const user = "mailer@example.com";
const password = `pw ${randomBytes(9).toString("base64")}/&'%`;
const GREETING_MARKER = "greeting-7c1e";
const REJECTION_MARKER = "rejection-9d2b";

interface Recorded {
  connections: number;
  logins: { username: string; secure: boolean }[];
  mailFrom: number;
  rcptTo: number;
  data: number;
}

interface RunningSmtp {
  port: number;
  recorded: Recorded;
  close(): Promise<void>;
}

/** An egress that resolves every name to 127.0.0.1 itself: no real DNS lookup could. */
const pinnedEgress = createEgress({ mode: "default", allow: [], deny: [], lookup: async () => [{ address: "127.0.0.1", family: 4 }] });

const running: RunningSmtp[] = [];

async function startSmtp(options: Partial<SMTPServerOptions>): Promise<RunningSmtp> {
  const recorded: Recorded = { connections: 0, logins: [], mailFrom: 0, rcptTo: 0, data: 0 };
  const server = new SMTPServer({
    logger: false,
    banner: GREETING_MARKER,
    authMethods: ["PLAIN", "LOGIN"],
    onConnect(_session, callback) {
      recorded.connections++;
      callback();
    },
    onAuth(auth, session, callback) {
      recorded.logins.push({ username: auth.username ?? "", secure: session.secure });
      if (auth.username === user && auth.password === password) callback(null, { user: auth.username });
      else callback(new Error(`${REJECTION_MARKER} no such user or wrong password`));
    },
    onMailFrom(_address, _session, callback) {
      recorded.mailFrom++;
      callback();
    },
    onRcptTo(_address, _session, callback) {
      recorded.rcptTo++;
      callback();
    },
    onData(stream, _session, callback) {
      recorded.data++;
      stream.resume();
      stream.on("end", () => callback());
    },
    ...options,
  });
  server.on("error", () => {});
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const handle = { port, recorded, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  running.push(handle);
  return handle;
}

function settings(port: number, overrides: Partial<ConnectionSettings> = {}, extra: Record<string, unknown> = {}): ConnectionSettings {
  return { host: "127.0.0.1", port, schema: null, login: user, password, extra: { tls_verify: false, ...extra }, ...overrides };
}

function testSmtp(s: ConnectionSettings, ctx: TestContext = testContext()): Promise<TestOutcome> {
  return smtpAdapter.test!(s, ctx);
}

function expectNoSecretsOrPeerText(message: string, secret = password): void {
  for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")]) {
    expect(message).not.toContain(form);
  }
  expect(message).not.toContain(GREETING_MARKER);
  expect(message).not.toContain(REJECTION_MARKER);
}

afterEach(() => {
  // No test may ever start a mail transaction.
  for (const server of running) expect(server.recorded).toMatchObject({ mailFrom: 0, rcptTo: 0, data: 0 });
});

afterAll(async () => {
  await Promise.all(running.map((server) => server.close()));
});

describe("smtp adapter field specs", () => {
  it("describes the New Connection form", () => {
    const byName = Object.fromEntries(smtpAdapter.fields.map((field) => [field.name, field]));
    expect(byName.port).toMatchObject({ kind: "INTEGER", default: 587 });
    expect(byName["extra.tls_mode"]).toMatchObject({ kind: "SELECT", options: ["none", "starttls", "tls"], default: "starttls" });
    expect(byName.password).toMatchObject({ kind: "PASSWORD", secret: true });
    expect(smtpAdapter.defaultPort).toBe(587);
  });
});

describe("smtp adapter without TLS", () => {
  let server: RunningSmtp;
  beforeAll(async () => {
    server = await startSmtp({ disabledCommands: ["STARTTLS"], allowInsecureAuth: true });
  });

  it("logs in with the right password and sends no mail", async () => {
    const outcome = await testSmtp(settings(server.port, {}, { tls_mode: "none" }));
    expect(outcome).toMatchObject({ ok: true, serverVersion: null });
    expect(outcome.message).toContain(user);
    expect(outcome.message).not.toContain(GREETING_MARKER);
    expect(server.recorded.logins.at(-1)).toEqual({ username: user, secure: false });
  });

  it("connects to the address the egress module checked, for a name and for an odd spelling of an IP", async () => {
    const byName = await testSmtp(settings(server.port, { host: "mail.example.invalid" }, { tls_mode: "none" }), testContext({ egress: pinnedEgress }));
    expect(byName).toMatchObject({ ok: true });
    expect(byName.message).toContain("mail.example.invalid");
    expect(await testSmtp(settings(server.port, { host: "127.1" }, { tls_mode: "none" }))).toMatchObject({ ok: true });
  });

  it("reports AUTH_FAILED for a wrong password, without the password or the server's text", async () => {
    const wrong = `wrong ${randomBytes(6).toString("hex")}/+&`;
    const message = expectFailure(await testSmtp(settings(server.port, { password: wrong }, { tls_mode: "none" })), "AUTH_FAILED");
    expect(message).toContain(user);
    expect(message).toContain("535");
    expectNoSecretsOrPeerText(message, wrong);
  });

  it("completes the handshake only when no user is set", async () => {
    const before = server.recorded.logins.length;
    const outcome = await testSmtp(settings(server.port, { login: null, password: null }, { tls_mode: "none" }));
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toMatch(/no login was tried/);
    expect(server.recorded.logins.length).toBe(before);
  });

  it("asks for the password before connecting when a user has none", async () => {
    const before = server.recorded.connections;
    expectFailure(await testSmtp(settings(server.port, { password: null }, { tls_mode: "none" })), "SECRET_REQUIRED");
    expect(server.recorded.connections).toBe(before);
  });

  it("reports TLS_ERROR when STARTTLS is required and the server does not offer it, before sending the password", async () => {
    const before = server.recorded.logins.length;
    const message = expectFailure(await testSmtp(settings(server.port, {}, { tls_mode: "starttls" })), "TLS_ERROR");
    expect(message).toMatch(/does not offer STARTTLS/);
    expectNoSecretsOrPeerText(message);
    expect(server.recorded.logins.length).toBe(before);
  });

  it("reports TLS_ERROR for implicit TLS against a plain-text server", async () => {
    const message = expectFailure(await testSmtp(settings(server.port, {}, { tls_mode: "tls" })), "TLS_ERROR");
    expectNoSecretsOrPeerText(message);
  });
});

describe.skipIf(!findProgram("openssl"))("smtp adapter with TLS", () => {
  let certificate: SelfSignedCertificate;
  let starttls: RunningSmtp;
  let implicit: RunningSmtp;
  let tlsOnlyAuth: RunningSmtp;

  beforeAll(async () => {
    certificate = await selfSignedCertificate();
    const tls = { key: certificate.key, cert: certificate.cert };
    starttls = await startSmtp({ ...tls });
    implicit = await startSmtp({ ...tls, secure: true });
    tlsOnlyAuth = await startSmtp({ ...tls, allowInsecureAuth: false });
  });
  afterAll(async () => {
    await certificate?.remove();
  });

  it("upgrades with STARTTLS, then logs in", async () => {
    const outcome = await testSmtp(settings(starttls.port, {}, { tls_mode: "starttls" }));
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toMatch(/with STARTTLS/);
    expect(starttls.recorded.logins.at(-1)).toEqual({ username: user, secure: true });
  });

  it("reports AUTH_FAILED over STARTTLS for a wrong password", async () => {
    const message = expectFailure(await testSmtp(settings(starttls.port, { password: "nope-nope" }, { tls_mode: "starttls" })), "AUTH_FAILED");
    expectNoSecretsOrPeerText(message, "nope-nope");
  });

  it("logs in over implicit TLS", async () => {
    const outcome = await testSmtp(settings(implicit.port, {}, { tls_mode: "tls" }));
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toMatch(/over TLS/);
    expect(implicit.recorded.logins.at(-1)).toEqual({ username: user, secure: true });
  });

  it("reports TLS_ERROR for a self-signed certificate when verifying, without logging in", async () => {
    const before = starttls.recorded.logins.length;
    const outcome = await testSmtp(settings(starttls.port, { host: "localhost" }, { tls_mode: "starttls", tls_verify: true }));
    expect(expectFailure(outcome, "TLS_ERROR")).toMatch(/self-signed/);
    expect(starttls.recorded.logins.length).toBe(before);
  });

  it("reports TLS_ERROR for a self-signed certificate over implicit TLS when verifying", async () => {
    const outcome = await testSmtp(settings(implicit.port, { host: "localhost" }, { tls_mode: "tls", tls_verify: true }));
    expect(expectFailure(outcome, "TLS_ERROR")).toMatch(/self-signed/);
  });

  it("reports TLS_ERROR when the server wants STARTTLS before a plain-text login", async () => {
    const outcome = await testSmtp(settings(tlsOnlyAuth.port, {}, { tls_mode: "none" }));
    const message = expectFailure(outcome, "TLS_ERROR");
    expect(message).toMatch(/encrypted connection before login/);
    expectNoSecretsOrPeerText(message);
    expect(tlsOnlyAuth.recorded.logins).toEqual([]);
  });
});

describe("smtp adapter against unreachable or foreign servers", () => {
  it("refuses a Unix socket path as host", async () => {
    expectFailure(await testSmtp(settings(25, { host: "/var/run/smtp.sock" })), "INVALID_CONFIG");
  });

});
