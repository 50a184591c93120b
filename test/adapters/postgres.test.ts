/**
 * The postgres adapter against the run's real PostgreSQL (scram over TCP), and against fake
 * servers for the cases a real server cannot show: silence, another protocol, a bad
 * certificate.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postgresAdapter } from "../../src/adapters/postgres";
import type { ConnectionSettings, TestContext, TestOutcome } from "../../src/adapters/types";
import { strictEgress, testContext } from "./support/context";
import { expectFailure } from "./support/outcome";

const suffix = randomBytes(4).toString("hex");
const app = { user: `app_${suffix}`, password: `pw ${randomBytes(9).toString("base64")}/&'%` };
const outsider = { user: `outsider_${suffix}`, password: `pw-${randomBytes(9).toString("hex")}` };
const database = `db_${suffix}`;

const adminUrl = new URL(inject("pgAdminUrl"));
const port = Number(adminUrl.port);

async function asAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return { host: "127.0.0.1", port, schema: database, login: app.user, password: app.password, extra: {}, ...overrides };
}

function context(timeoutMs = 10_000): TestContext {
  return testContext({ timeoutMs });
}

function testConnection(s: ConnectionSettings, ctx = context()): Promise<TestOutcome> {
  return postgresAdapter.test!(s, ctx);
}

beforeAll(async () => {
  const literal = (value: string) => pg.Client.prototype.escapeLiteral(value);
  await asAdmin(`CREATE ROLE "${app.user}" LOGIN PASSWORD ${literal(app.password)}`);
  await asAdmin(`CREATE ROLE "${outsider.user}" LOGIN PASSWORD ${literal(outsider.password)}`);
  await asAdmin(`CREATE DATABASE "${database}" OWNER "${app.user}"`);
  await asAdmin(`REVOKE CONNECT ON DATABASE "${database}" FROM PUBLIC`);
});

afterAll(async () => {
  await asAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await asAdmin(`DROP ROLE IF EXISTS "${app.user}"`);
  await asAdmin(`DROP ROLE IF EXISTS "${outsider.user}"`);
});

describe("postgres adapter against a real server", () => {
  it("succeeds with the right password and reports the server version", async () => {
    const outcome = await testConnection(settings());
    expect(outcome).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^PostgreSQL 18\.\d+$/) });
    expect(outcome.message).toContain(database);
  });

  it("reports AUTH_FAILED for a wrong password, without the password in the message", async () => {
    const wrong = `wrong ${randomBytes(6).toString("hex")}/+&`;
    const message = expectFailure(await testConnection(settings({ password: wrong })), "AUTH_FAILED");
    expect(message).toContain(app.user);
    for (const form of [wrong, encodeURIComponent(wrong), Buffer.from(wrong).toString("base64")]) {
      expect(message).not.toContain(form);
    }
  });

  it("reports NOT_FOUND for a database that does not exist", async () => {
    const message = expectFailure(await testConnection(settings({ schema: `${database}_missing` })), "NOT_FOUND");
    expect(message).toContain(`${database}_missing`);
  });

  it("reports PERMISSION_DENIED for a user without CONNECT on the database", async () => {
    const outcome = await testConnection(settings({ login: outsider.user, password: outsider.password }));
    expect(expectFailure(outcome, "PERMISSION_DENIED")).toContain(database);
  });

  it("reports TLS_ERROR when TLS is required and the server has none", async () => {
    const outcome = await testConnection(settings({ extra: { sslmode: "require" } }));
    expect(expectFailure(outcome, "TLS_ERROR")).toMatch(/does not accept TLS/);
  });

  it("connects to the address the egress module checked, never looking the name up again", async () => {
    const lookups: string[] = [];
    const egress = strictEgress({
      allow: ["127.0.0.1/32"],
      lookup: async (host) => (lookups.push(host), [{ address: "127.0.0.1", family: 4 }]),
    });
    // The name does not resolve anywhere else: success means pg went to the checked address.
    const outcome = await testConnection(settings({ host: "db.patchbay.invalid" }), testContext({ egress }));
    expect(outcome).toMatchObject({ ok: true });
    expect(lookups).toEqual(["db.patchbay.invalid"]);
  });

  it("never takes a password from PGPASSWORD or ~/.pgpass", async () => {
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = app.password;
    try {
      expectFailure(await testConnection(settings({ password: null })), "SECRET_REQUIRED");
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
  });
});

describe("postgres adapter against unreachable or foreign servers", () => {
  it("refuses a Unix socket path as host without connecting", async () => {
    const message = expectFailure(await testConnection(settings({ host: "/var/run/postgresql" })), "INVALID_CONFIG");
    expect(message).toMatch(/socket/i);
  });

});
