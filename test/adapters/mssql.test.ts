/**
 * The mssql adapter short of a real SQL Server, which cannot run on these machines: against
 * a fake that speaks enough TDS 7.4 for tedious to log in and run one query
 * (support/fake-tds.ts), and against servers that are silent, closed, denied or foreign.
 */
import { createSocket } from "node:dgram";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browseInstancePort, InstanceNotFound, parseInstancePort } from "../../src/adapters/common/sql-server-browser";
import { mssqlAdapter } from "../../src/adapters/mssql";
import { validateSettings } from "../../src/adapters/registry";
import type { ConnectionSettings, TestOutcome } from "../../src/adapters/types";
import { createEgress } from "../../src/net/egress";
import { testContext } from "./support/context";
import { fakeTds, type FakeTds } from "./support/fake-tds";
import { expectFailure as expectFailureWithout } from "./support/outcome";

const user = "app_user";
const password = "pw 'Quote\"/&%+ 5ecret";
let tds: FakeTds;

beforeAll(async () => {
  tds = await fakeTds({ user, password, databases: ["appdb"] });
});

afterAll(async () => {
  await tds?.close();
});

function settings(overrides: Partial<ConnectionSettings> = {}, extra: Record<string, unknown> = {}): ConnectionSettings {
  return {
    host: "127.0.0.1",
    port: tds.port,
    schema: "appdb",
    login: user,
    password,
    extra: { encrypt: "false", ...extra },
    ...overrides,
  };
}

function testConnection(s: ConnectionSettings, ctx = testContext()): Promise<TestOutcome> {
  return mssqlAdapter.test!(s, ctx);
}

const expectFailure = (outcome: TestOutcome, code: string) => expectFailureWithout(outcome, code, password, "5ecret");

describe("mssql adapter against a fake TDS server", () => {
  it("logs in, runs SELECT @@VERSION and reports the version", async () => {
    const outcome = await testConnection(settings());
    expect(outcome).toMatchObject({ ok: true, serverVersion: "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6" });
    expect(outcome.message).toBe(`Connected to 127.0.0.1:${tds.port} as ${user}, database appdb.`);
  });

  it("sends the login it was given, and neither this machine's name nor a connection string", async () => {
    await testConnection(settings());
    const login = tds.logins.at(-1)!;
    expect(login).toMatchObject({ user, password, database: "appdb", appName: "patchbay connection test", hostName: "patchbay" });
    expect(login.hostName).not.toBe(hostname());
  });

  it("reports AUTH_FAILED for a wrong password without echoing the server's text", async () => {
    const message = expectFailure(await testConnection(settings({ password: "wrong-password" })), "AUTH_FAILED");
    expect(message).toContain(user);
    expect(message).not.toMatch(/fake-7f3a|wrong-password/);
  });

  it("reports SECRET_REQUIRED when the login fails and the connection has no password", async () => {
    expectFailure(await testConnection(settings({ password: null })), "SECRET_REQUIRED");
  });

  it("reports NOT_FOUND for a database that does not exist (4060 before the 18456 that follows it)", async () => {
    const message = expectFailure(await testConnection(settings({ schema: "missing_db" })), "NOT_FOUND");
    expect(message).toContain("missing_db");
    expect(message).not.toMatch(/fake-7f3a/);
  });

  it("refuses to send the login when Encrypt is true and the server does not encrypt", async () => {
    const before = tds.logins.length;
    const message = expectFailure(await testConnection(settings({}, { encrypt: "true" })), "TLS_ERROR");
    expect(message).toMatch(/does not encrypt connections, so the login was not sent/);
    expect(tds.logins.length).toBe(before);
  });

  it("connects a host name to the address the egress module checked, never resolving it itself", async () => {
    const egress = createEgress({
      mode: "default",
      allow: [],
      deny: [],
      lookup: async (host) => (host === "sql.patchbay.test" ? [{ address: "127.0.0.1", family: 4 }] : []),
    });
    const outcome = await testConnection(settings({ host: "sql.patchbay.test" }), testContext({ egress }));
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toContain(`sql.patchbay.test:${tds.port}`);
  });
});

describe("mssql adapter against unreachable, denied or foreign servers", () => {
  it("reports TIMEOUT naming the SQL Server Browser when an instance's port cannot be looked up", async () => {
    const outcome = await testConnection(settings({ port: null }, { instance_name: "SQLEXPRESS" }), testContext({ timeoutMs: 300 }));
    expect(expectFailure(outcome, "TIMEOUT")).toMatch(/SQL Server Browser on 127\.0\.0\.1 \(UDP 1434\) did not answer within 300 ms/);
  });
});

describe("the SQL Server Browser lookup", () => {
  const answer = (text: string) => {
    const size = Buffer.alloc(2);
    size.writeUInt16LE(text.length);
    return Buffer.concat([Buffer.from([0x05]), size, Buffer.from(text, "latin1")]);
  };

  it("reads the TCP port of the named instance only", () => {
    const reply = answer("ServerName;DB1;InstanceName;OTHER;IsClustered;No;Version;16.0;tcp;50001;;ServerName;DB1;InstanceName;SQLEXPRESS;IsClustered;No;Version;16.0;tcp;49172;;");
    expect(parseInstancePort(reply, "sqlexpress")).toBe(49172);
    expect(parseInstancePort(answer("ServerName;DB1;InstanceName;SQLEXPRESS;np;\\\\DB1\\pipe;;"), "SQLEXPRESS")).toBeNull();
    expect(parseInstancePort(Buffer.from("garbage"), "SQLEXPRESS")).toBeUndefined();
  });

  it("asks a Browser over UDP and gets the port, or InstanceNotFound", async () => {
    const browser = createSocket("udp4");
    const requests: string[] = [];
    browser.on("message", (message, from) => {
      requests.push(message.subarray(1, -1).toString("latin1"));
      browser.send(answer("ServerName;DB1;InstanceName;SQLEXPRESS;IsClustered;No;Version;16.0;tcp;49172;;"), from.port, from.address);
    });
    await new Promise<void>((resolve) => browser.bind(0, "127.0.0.1", resolve));
    try {
      const port = browser.address().port;
      const address = { address: "127.0.0.1", family: 4 as const };
      expect(await browseInstancePort(address, "SQLEXPRESS", AbortSignal.timeout(2_000), port)).toBe(49172);
      await expect(browseInstancePort(address, "OTHER", AbortSignal.timeout(2_000), port)).rejects.toBeInstanceOf(InstanceNotFound);
      expect(requests).toEqual(["SQLEXPRESS", "OTHER"]);
    } finally {
      browser.close();
    }
  });
});

describe("mssql settings", () => {
  const problems = (overrides: Partial<ConnectionSettings>, extra: Record<string, unknown> = {}) =>
    validateSettings(mssqlAdapter, { host: "sql.example.com", port: 1433, schema: null, login: "sa", password: "x", extra, ...overrides }).map(
      (problem) => problem.field,
    );

  it("accepts a port, or an instance name without one, but not both", () => {
    expect(problems({})).toEqual([]);
    expect(problems({ port: null }, { instance_name: "SQLEXPRESS" })).toEqual([]);
    expect(problems({}, { instance_name: "SQLEXPRESS" })).toEqual(["extra.instance_name"]);
    expect(problems({ port: null }, { instance_name: "bad name" })).toEqual(["extra.instance_name"]);
  });

  it("checks the encrypt mode, the certificate switch and the login", () => {
    expect(problems({}, { encrypt: "maybe" })).toEqual(["extra.encrypt"]);
    expect(problems({}, { trust_server_certificate: "yes" })).toEqual(["extra.trust_server_certificate"]);
    expect(problems({ login: null })).toEqual(["login"]);
  });

  it("describes the form: secret password, encrypt options with a default, no secret in plain fields", () => {
    const byName = Object.fromEntries(mssqlAdapter.fields.map((field) => [field.name, field]));
    expect(byName.password).toMatchObject({ kind: "PASSWORD", secret: true });
    expect(byName["extra.encrypt"]).toMatchObject({ kind: "SELECT", options: ["true", "false", "strict"], default: "true" });
    expect(byName["extra.trust_server_certificate"]).toMatchObject({ kind: "BOOLEAN", default: false });
    expect(byName.port).toMatchObject({ default: 1433 });
  });
});
