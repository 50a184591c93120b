/**
 * The mongodb adapter short of a real MongoDB, which cannot run on these machines: against a
 * fake that speaks enough of the wire protocol and SCRAM-SHA-256 for the official driver to
 * log in and run the adapter's commands (support/fake-mongo.ts), and against servers that are
 * silent, closed, denied or foreign.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mongoClientOptions, mongodbAdapter, mongoTarget, mongoUri, type MongoTarget } from "../../src/adapters/mongodb";
import { validateSettings } from "../../src/adapters/registry";
import type { ConnectionSettings, TestOutcome } from "../../src/adapters/types";
import { createEgress } from "../../src/net/egress";
import { testContext } from "./support/context";
import { fakeMongo, type FakeMongo } from "./support/fake-mongo";
import { expectFailure as expectFailureWithout } from "./support/outcome";

const user = "app_user";
const password = "pw 'Quote\"/&%+ 5ecret";
let secured: FakeMongo;
let open: FakeMongo;

beforeAll(async () => {
  secured = await fakeMongo({ user, password, authSource: "admin", requireAuth: true });
  open = await fakeMongo({ user, password, authSource: "admin", setName: "rs0" });
});

afterAll(async () => {
  await secured?.close();
  await open?.close();
});

function settings(overrides: Partial<ConnectionSettings> = {}, extra: Record<string, unknown> = {}): ConnectionSettings {
  return { host: "127.0.0.1", port: secured.port, schema: "appdb", login: user, password, extra: { auth_source: "admin", ...extra }, ...overrides };
}

function testConnection(s: ConnectionSettings, ctx = testContext()): Promise<TestOutcome> {
  return mongodbAdapter.test!(s, ctx);
}

const expectFailure = (outcome: TestOutcome, code: string) => expectFailureWithout(outcome, code, password, "5ecret");

describe("mongodb adapter against a fake MongoDB", () => {
  it("logs in with SCRAM-SHA-256, pings, and reports the version from buildInfo", async () => {
    const outcome = await testConnection(settings());
    expect(outcome).toMatchObject({ ok: true, serverVersion: "MongoDB 7.0.14" });
    expect(outcome.message).toBe(`Connected to 127.0.0.1:${secured.port} as ${user}, database appdb.`);
    expect(secured.commands).toEqual(expect.arrayContaining(["saslStart", "saslContinue", "ping", "buildInfo", "listCollections"]));
  });

  it("reports AUTH_FAILED (code 18) for a wrong password, without echoing the server's text", async () => {
    const message = expectFailure(await testConnection(settings({ password: "wrong-password" })), "AUTH_FAILED");
    expect(message).toContain(user);
    expect(message).not.toMatch(/fake-7f3a|wrong-password/);
  });

  it("reports AUTH_FAILED naming the auth source when the user is looked up in the wrong database", async () => {
    const message = expectFailure(await testConnection(settings({}, { auth_source: "appdb" })), "AUTH_FAILED");
    expect(message).toContain("auth source appdb");
  });

  it("defaults the auth source to the database, as MongoDB URIs do", async () => {
    expect(mongoTarget(settings({ schema: "appdb" }, { auth_source: null }))).toMatchObject({ authSource: "appdb" });
    expect(mongoTarget(settings({ schema: null }, { auth_source: null }))).toMatchObject({ database: "admin", authSource: "admin" });
  });

  it("reports SECRET_REQUIRED without a login on a server with access control, and succeeds on one without", async () => {
    expectFailure(await testConnection(settings({ login: null, password: null })), "SECRET_REQUIRED");
    const outcome = await testConnection(settings({ port: open.port, login: null, password: null }));
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toContain("without authentication");
  });

  it("reports SECRET_REQUIRED for a user without a password, before connecting", async () => {
    const before = secured.commands.length;
    expectFailure(await testConnection(settings({ password: null })), "SECRET_REQUIRED");
    expect(secured.commands.length).toBe(before);
  });

  it("checks the replica set name the server reports, and stops at once when it differs", async () => {
    expect(await testConnection(settings({ port: open.port }, { replica_set: "rs0" }))).toMatchObject({ ok: true });
    const started = Date.now();
    const message = expectFailure(await testConnection(settings({ port: open.port }, { replica_set: "rs-other" })), "INVALID_CONFIG");
    expect(message).toMatch(/not as a member of replica set rs-other/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("connects a host name to the address the egress module checked, never resolving it itself", async () => {
    const egress = createEgress({
      mode: "default",
      allow: [],
      deny: [],
      lookup: async (host) => (host === "mongo.patchbay.test" ? [{ address: "127.0.0.1", family: 4 }] : []),
    });
    const outcome = await testConnection(settings({ host: "mongo.patchbay.test" }), testContext({ egress }));
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toContain(`mongo.patchbay.test:${secured.port}`);
  });
});


describe("mongodb settings", () => {
  const problems = (overrides: Partial<ConnectionSettings>, extra: Record<string, unknown> = {}) =>
    validateSettings(mongodbAdapter, { host: "mongo.example.com", port: 27017, schema: "app", login: "u", password: "p", extra, ...overrides }).map(
      (problem) => problem.field,
    );

  it("builds the URI from the host and port alone, never mongodb+srv", () => {
    const target = mongoTarget(settings({ host: "[::1]", port: 27018 })) as MongoTarget;
    expect(mongoUri(target)).toBe("mongodb://[::1]:27018/");
    expect(mongoUri(mongoTarget(settings({ host: "db.example.com", port: null })) as MongoTarget)).toBe("mongodb://db.example.com:27017/");
  });

  it("passes credentials and options as an options object, and always connects directly", () => {
    const target = mongoTarget(settings({}, { tls: true, allow_insecure: true, replica_set: "rs0", direct_connection: false })) as MongoTarget;
    const options = mongoClientOptions(target, password, 5_000, undefined);
    expect(options).toMatchObject({
      auth: { username: user, password },
      authSource: "admin",
      tls: true,
      tlsAllowInvalidCertificates: true,
      replicaSet: "rs0",
      directConnection: true,
      serverSelectionTimeoutMS: 5_000,
      connectTimeoutMS: 5_000,
    });
    expect(target.directConnection).toBe(false);
  });

  it.each([
    [{ schema: "bad/db" }, {}, "schema"],
    [{}, { auth_source: "a b" }, "extra.auth_source"],
    [{}, { replica_set: "rs 0" }, "extra.replica_set"],
    [{}, { srv: true }, "extra.srv"],
    [{}, { tls: "yes" }, "extra.tls"],
    [{ login: null }, {}, "login"],
  ] as const)("refuses %j %j", (overrides, extra, field) => {
    expect(problems(overrides, extra)).toEqual([field]);
  });

  it("accepts a connection without a user (no authentication)", () => {
    expect(problems({ login: null, password: null })).toEqual([]);
  });

  it("describes the form: secret password, TLS switches, direct connection on by default", () => {
    const byName = Object.fromEntries(mongodbAdapter.fields.map((field) => [field.name, field]));
    expect(byName.password).toMatchObject({ kind: "PASSWORD", secret: true });
    expect(byName["extra.tls"]).toMatchObject({ kind: "BOOLEAN", default: false });
    expect(byName["extra.direct_connection"]).toMatchObject({ kind: "BOOLEAN", default: true });
    expect(byName.port).toMatchObject({ default: 27017 });
  });
});
