/**
 * The failure cases every networked connection type shares, run as one table over all of
 * them: a closed port, a name that does not resolve (through an injected resolver, not real
 * DNS), an address the egress policy denies, a peer that accepts and stays silent, one that
 * trickles bytes forever, a certificate nobody trusts, a peer speaking another protocol, the
 * caller going away, and secrets in what a failure would say. Each row holds what is
 * particular to its type: how its settings point at a test server, and the words its messages
 * use. A new networked type gets all of these by adding a row; `NETWORKED` must list every
 * registered type that has a test(), or the first test here fails.
 */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { listAdapters, type AdapterId } from "../../src/adapters/registry";
import type { ConnectionSettings, TestContext, TestOutcome } from "../../src/adapters/types";
import { freePort } from "../../src/net/free-port";
import { findProgram } from "../servers/availability";
import { selfSignedCertificate } from "./support/certificate";
import { strictEgress, testContext } from "./support/context";
import { bannerServer, type FakeServer, postgresTlsServer, silentServer, tlsServer } from "./support/fake-servers";
import { expectFailure } from "./support/outcome";
import { trickleServer } from "./support/slow-servers";

const SECRET = "s3cret-Pw/+&:%";
const HTTP_BANNER = "HTTP/1.1 400 Bad Request\r\nServer: banner-7f3a\r\n\r\n";
const SMTP_BANNER = "220 mail.internal ESMTP banner-7f3a\r\n";
const SSH_BANNER = "SSH-2.0-OpenSSH_9.2p1 banner-7f3a\r\n";

interface Banner {
  text: string;
  when: "at-once" | "after-request";
  /** What the message must say (the protocol it expected). */
  says?: RegExp;
  /** What it must not repeat of the peer's bytes. */
  never: RegExp;
}

interface NetworkedType {
  /** Settings that reach `host:port` with a password (SECRET unless given). */
  settings(host: string, port: number, password?: string): ConnectionSettings;
  /** The message for a peer that accepts and never answers, at a 500 ms deadline. */
  silent: RegExp;
  /** Upper bound for the silent and trickling cases, in ms. */
  maxMs: number;
  /** The silent peer sees exactly one connection (types whose driver never retries). */
  connectsOnce?: boolean;
  /** What a trickling peer sends: a prefix once, then the text byte by byte. */
  trickle?: { prefix?: string; text: string };
  banners: Banner[];
  /** Settings that speak TLS to `localhost:port` and verify the certificate; the peer is a plain TLS server or PostgreSQL's SSLRequest dance. */
  tls?: { settings(port: number): ConnectionSettings; server?: "tls" | "postgres"; alpn?: string[] };
  /** Upper bound for the caller's abort (at 200 ms), in ms. */
  abortMs: number;
  /**
   * The secret is a whole document (gcs: a service-account key file) that no message could
   * contain, so the password-as-address scrub case does not apply; `settings` ignores `password`.
   */
  secretIsDocument?: true;
}

const none = { schema: null, login: null, password: null };

const GCS_KEY = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" });
/** A service-account key file whose token_uri is `tokenUri`. */
function keyFileFor(tokenUri: string): string {
  return JSON.stringify({ type: "service_account", client_email: "conformance@example.iam.gserviceaccount.com", private_key: GCS_KEY, token_uri: tokenUri });
}
// `\b400\b`: a status code, not the digits of a random port such as 40035.

const NETWORKED: Partial<Record<AdapterId, NetworkedType>> = {
  postgres: {
    settings: (host, port, password = SECRET) => ({ host, port, schema: "appdb", login: "app", password, extra: {} }),
    silent: /accepted the connection but did not complete the PostgreSQL handshake within 500 ms/,
    maxMs: 3_000,
    connectsOnce: true,
    banners: [{ text: HTTP_BANNER, when: "after-request", says: /PostgreSQL/, never: /HTTP|Bad Request|banner-7f3a/ }],
    tls: { settings: (port) => ({ host: "localhost", port, schema: "appdb", login: "app", password: SECRET, extra: { sslmode: "verify-full" } }), server: "postgres" },
    abortMs: 2_000,
  },
  mysql: {
    settings: (host, port, password = SECRET) => ({ host, port, schema: "app_main", login: "app", password, extra: {} }),
    silent: /accepted the connection but did not complete the MySQL handshake within 500 ms/,
    maxMs: 3_000,
    connectsOnce: true,
    banners: [{ text: SMTP_BANNER, when: "at-once", says: /MySQL/, never: /220|ESMTP|banner-7f3a|mail\.internal/ }],
    abortMs: 2_000,
  },
  http: {
    settings: (host, port, password = SECRET) => ({ host, port, schema: "http", login: "reporter", password, extra: {} }),
    silent: /accepted the connection but sent no complete HTTP response within 500 ms/,
    maxMs: 1_500,
    trickle: { prefix: "HTTP/1.1 200 OK\r\n", text: "X-Slow: a\r\n" },
    banners: [{ text: SMTP_BANNER, when: "at-once", never: /220|ESMTP|banner-7f3a|mail\.internal/ }],
    tls: { settings: (port) => ({ host: "127.0.0.1", port, schema: "https", login: null, password: null, extra: {} }) },
    abortMs: 1_200,
  },
  package_index: {
    settings: (host, port, password = SECRET) => ({ host, port, schema: "http", login: "reader", password, extra: { path: "/simple/" } }),
    silent: /accepted the connection but sent no complete HTTP response within 500 ms/,
    maxMs: 1_500,
    banners: [{ text: SSH_BANNER, when: "at-once", never: /SSH|banner-7f3a/ }],
    tls: { settings: (port) => ({ ...none, host: "localhost", port, schema: "https", extra: {} }) },
    abortMs: 1_200,
  },
  s3: {
    settings: (host, port, password = SECRET) => ({
      host: null,
      port: null,
      schema: null,
      login: "AKIAEXAMPLEKEY",
      password,
      extra: { endpoint_url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, region_name: "us-east-1", bucket: "conformance" },
    }),
    silent: /accepted the connection but did not answer the signed S3 request within 500 ms/,
    maxMs: 2_000,
    banners: [{ text: SSH_BANNER, when: "at-once", never: /SSH|banner-7f3a/ }],
    tls: {
      settings: (port) => ({ ...none, host: null, port: null, login: "AKIAEXAMPLEKEY", password: SECRET, extra: { endpoint_url: `https://localhost:${port}`, region_name: "us-east-1" } }),
    },
    abortMs: 2_000,
  },
  mssql: {
    settings: (host, port, password = SECRET) => ({ host, port, schema: "appdb", login: "sa", password, extra: { encrypt: "false" } }),
    silent: /accepted the connection but did not complete the SQL Server login within 500 ms/,
    maxMs: 2_000,
    banners: [
      { text: HTTP_BANNER, when: "after-request", says: /SQL Server/, never: /HTTP|SSH|banner-7f3a|\b400\b/ },
      { text: SSH_BANNER, when: "at-once", says: /SQL Server/, never: /HTTP|SSH|banner-7f3a|\b400\b/ },
    ],
    tls: {
      settings: (port) => ({ host: "localhost", port, schema: "appdb", login: "sa", password: SECRET, extra: { encrypt: "strict" } }),
      alpn: ["tds/8.0"],
    },
    abortMs: 2_000,
  },
  mongodb: {
    settings: (host, port, password = SECRET) => ({ host, port, schema: "appdb", login: "app", password, extra: { auth_source: "admin" } }),
    silent: /within 500 ms/,
    maxMs: 2_000,
    banners: [
      { text: HTTP_BANNER, when: "after-request", never: /HTTP|SSH|banner-7f3a|\b400\b/ },
      { text: SSH_BANNER, when: "at-once", never: /HTTP|SSH|banner-7f3a|\b400\b/ },
    ],
    tls: { settings: (port) => ({ host: "localhost", port, schema: "appdb", login: "app", password: SECRET, extra: { tls: true } }) },
    abortMs: 2_000,
  },
  smtp: {
    settings: (host, port, password = SECRET) => ({ host, port, ...none, login: "mailer@example.com", password, extra: { tls_mode: "none" } }),
    silent: /did not complete the SMTP handshake within 500 ms/,
    maxMs: 3_000,
    trickle: { text: "220-still greeting " },
    banners: [{ text: HTTP_BANNER, when: "at-once", says: /SMTP/, never: /HTTP|Bad Request|banner-7f3a/ }],
    tls: { settings: (port) => ({ host: "localhost", port, ...none, login: "mailer@example.com", password: SECRET, extra: { tls_mode: "tls" } }) },
    abortMs: 2_000,
  },
  imap: {
    settings: (host, port, password = SECRET) => ({ host, port, ...none, login: "someone@example.com", password, extra: { tls_mode: "none" } }),
    silent: /did not complete the IMAP handshake within 500 ms/,
    maxMs: 3_000,
    trickle: { text: "* OK still greeting " },
    banners: [{ text: HTTP_BANNER, when: "at-once", says: /IMAP/, never: /HTTP|Bad Request|banner-7f3a/ }],
    tls: { settings: (port) => ({ host: "localhost", port, ...none, login: "someone@example.com", password: SECRET, extra: { tls_mode: "tls" } }) },
    abortMs: 2_000,
  },
  redis: {
    settings: (host, port, password = SECRET) => ({ host, port, ...none, login: null, password, extra: {} }),
    silent: /within 500 ms/,
    maxMs: 3_000,
    trickle: { text: "+OK still answering" },
    banners: [{ text: HTTP_BANNER, when: "after-request", says: /Redis/, never: /HTTP|Bad Request|banner-7f3a/ }],
    tls: { settings: (port) => ({ host: "localhost", port, ...none, password: SECRET, extra: { tls: true } }) },
    abortMs: 2_000,
  },
  oauth2: {
    settings: (host, port, password = SECRET) => ({
      host: null,
      port: null,
      schema: null,
      login: "conformance-client",
      password,
      extra: { token_url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/token`, grant_type: "client_credentials" },
    }),
    silent: /accepted the connection but sent no complete HTTP response within 500 ms/,
    maxMs: 1_500,
    trickle: { prefix: "HTTP/1.1 200 OK\r\n", text: "X-Slow: a\r\n" },
    banners: [{ text: SSH_BANNER, when: "at-once", never: /SSH|banner-7f3a/ }],
    tls: { settings: (port) => ({ ...none, host: null, port: null, login: "conformance-client", password: SECRET, extra: { token_url: `https://localhost:${port}/token` } }) },
    abortMs: 1_200,
  },
  azure_blob: {
    settings: (host, port, password = SECRET) => ({
      host: null,
      port: null,
      schema: null,
      login: "conformance",
      password,
      extra: { endpoint: `http://${host.includes(":") ? `[${host}]` : host}:${port}/conformance` },
    }),
    silent: /accepted the connection but sent no complete HTTP response within 500 ms/,
    maxMs: 1_500,
    banners: [{ text: SSH_BANNER, when: "at-once", never: /SSH|banner-7f3a/ }],
    tls: {
      settings: (port) => ({ ...none, host: null, port: null, login: "conformance", password: SECRET, extra: { endpoint: `https://localhost:${port}` } }),
    },
    abortMs: 1_200,
  },
  gcs: {
    settings: (host, port) => ({
      host: null,
      port: null,
      schema: null,
      login: null,
      password: null,
      extra: { keyfile_dict: keyFileFor(`http://${host.includes(":") ? `[${host}]` : host}:${port}/token`), bucket: "conformance" },
    }),
    silent: /accepted the connection but sent no complete HTTP response within 500 ms/,
    maxMs: 1_500,
    banners: [{ text: SSH_BANNER, when: "at-once", never: /SSH|banner-7f3a/ }],
    tls: { settings: (port) => ({ ...none, host: null, port: null, extra: { keyfile_dict: keyFileFor(`https://localhost:${port}/token`) } }) },
    abortMs: 1_200,
    secretIsDocument: true,
  },
};

const rows = Object.entries(NETWORKED) as Array<[AdapterId, NetworkedType]>;
const adapterOf = (id: string) => listAdapters().find((adapter) => adapter.id === id)!;

function run(id: string, settings: ConnectionSettings, ctx: TestContext = testContext()): Promise<TestOutcome> {
  return adapterOf(id).test!(settings, ctx);
}

async function withServer<T>(server: FakeServer, use: (server: FakeServer) => Promise<T>): Promise<T> {
  try {
    return await use(server);
  } finally {
    await server.close();
  }
}

describe("the conformance table", () => {
  it("has a row for every registered type with a network test", () => {
    const networked = listAdapters().filter((adapter) => adapter.test && adapter.id !== "sqlite").map((adapter) => adapter.id);
    expect(rows.map(([id]) => id).sort()).toEqual(networked.sort());
  });
});

describe.each(rows)("%s", (id, type) => {
  it("reports CONNECTION_REFUSED for a port nothing listens on, naming the address", async () => {
    const port = await freePort();
    expect(expectFailure(await run(id, type.settings("127.0.0.1", port)), "CONNECTION_REFUSED", SECRET)).toContain(`127.0.0.1:${port}`);
  });

  it.skipIf(type.secretIsDocument)("scrubs a secret out of what the failure would say", async () => {
    const port = await freePort();
    // A password that is also the address the message names.
    const message = expectFailure(await run(id, type.settings("127.0.0.1", port, `127.0.0.1:${port}`)), "CONNECTION_REFUSED", `127.0.0.1:${port}`);
    expect(message).toContain("[redacted]");
  });

  it("reports DNS_ERROR for a host that does not resolve (injected resolver, no real DNS)", async () => {
    expect(expectFailure(await run(id, type.settings("no-such-host.invalid", 1234)), "DNS_ERROR", SECRET)).toContain("no-such-host.invalid");
  });

  it("reports EGRESS_DENIED for the metadata address and, in strict mode, for loopback, connecting to nothing", async () => {
    expect(expectFailure(await run(id, type.settings("169.254.169.254", 80)), "EGRESS_DENIED")).toMatch(/metadata/);
    await withServer(await silentServer(), async (server) => {
      const outcome = await run(id, type.settings("127.0.0.1", server.port), testContext({ egress: strictEgress() }));
      expect(expectFailure(outcome, "EGRESS_DENIED")).toMatch(/127\.0\.0\.1 is a loopback address.*egress policy/);
      expect(server.accepted()).toBe(0);
    });
  });

  it("reports TIMEOUT within the deadline for a peer that never answers, and closes its socket", async () => {
    await withServer(await silentServer(), async (server) => {
      const started = Date.now();
      const outcome = await run(id, type.settings("127.0.0.1", server.port), testContext({ timeoutMs: 500 }));
      const elapsed = Date.now() - started;
      expect(expectFailure(outcome, "TIMEOUT", SECRET)).toMatch(type.silent);
      expect(elapsed).toBeGreaterThanOrEqual(450);
      expect(elapsed).toBeLessThan(type.maxMs);
      if (type.connectsOnce) expect(server.accepted()).toBe(1);
      else expect(server.accepted()).toBeGreaterThan(0);
      await server.allClosed();
    });
  });

  it.skipIf(!type.trickle)("ends on time against a peer that trickles bytes forever, and closes its socket", async () => {
    await withServer(await trickleServer(type.trickle!.text, 50, type.trickle!.prefix), async (server) => {
      const started = Date.now();
      expectFailure(await run(id, type.settings("127.0.0.1", server.port), testContext({ timeoutMs: 600 })), "TIMEOUT", SECRET);
      expect(Date.now() - started).toBeLessThan(type.maxMs);
      await server.allClosed();
    });
  });

  it("stops as soon as the caller's signal aborts", async () => {
    await withServer(await silentServer(), async (server) => {
      const started = Date.now();
      const ctx = testContext({ signal: AbortSignal.timeout(200), timeoutMs: 20_000 });
      expectFailure(await run(id, type.settings("127.0.0.1", server.port), ctx), "TIMEOUT", SECRET);
      expect(Date.now() - started).toBeLessThan(type.abortMs);
      await server.allClosed();
    });
  });

  it.each(type.banners)("reports PROTOCOL_ERROR for a peer speaking another protocol ($when), never echoing it", async (banner) => {
    await withServer(await bannerServer(banner.text, banner.when), async (server) => {
      const message = expectFailure(await run(id, type.settings("127.0.0.1", server.port), testContext({ timeoutMs: 3_000 })), "PROTOCOL_ERROR", SECRET);
      if (banner.says) expect(message).toMatch(banner.says);
      expect(message).not.toMatch(banner.never);
    });
  });

  it.skipIf(!type.tls || !findProgram("openssl"))("reports TLS_ERROR for a certificate nobody here trusts", async () => {
    const certificate = await selfSignedCertificate();
    const { server = "tls", alpn, settings } = type.tls!;
    const peer = server === "postgres" ? await postgresTlsServer(certificate) : await tlsServer({ ...certificate, ALPNProtocols: alpn });
    try {
      const outcome = await run(id, settings(peer.port), testContext({ timeoutMs: 3_000 }));
      expect(expectFailure(outcome, "TLS_ERROR", SECRET)).toMatch(/self-signed/);
    } finally {
      await peer.close();
      await certificate.remove();
    }
  });
});
