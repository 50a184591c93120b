/**
 * The mysql adapter against a real MariaDB started for this file (with TLS, from a throwaway
 * certificate), and against fake servers for silence and foreign protocols.
 */
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mysqlAdapter, mysqlConnectionOptions, mysqlTarget, type MysqlTarget } from "../../src/adapters/mysql";
import type { ConnectionSettings, TestContext, TestOutcome } from "../../src/adapters/types";
import { serviceAvailable } from "../servers/availability";
import { startMariaDb, type MariaDbHandle } from "../servers/mariadb";
import { strictEgress, testContext } from "./support/context";
import { selfSignedCertificate, type SelfSignedCertificate } from "./support/certificate";
import { expectFailure } from "./support/outcome";

const available =
  serviceAvailable("mariadbd", "the mysql adapter is tested against a real MariaDB") &&
  serviceAvailable("openssl", "the MariaDB test server gets a throwaway TLS certificate");

const app = { user: "app", password: `pw ${randomBytes(9).toString("base64")}/&'%` };
const outsider = { user: "outsider", password: `pw-${randomBytes(9).toString("hex")}` };
const tlsOnly = { user: "tls_only", password: `pw-${randomBytes(9).toString("hex")}` };
const database = "app_main";

let server: MariaDbHandle;
let certificate: SelfSignedCertificate;

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return {
    host: "127.0.0.1",
    port: server.port,
    schema: database,
    login: app.user,
    password: app.password,
    extra: {},
    ...overrides,
  };
}

function context(timeoutMs = 10_000): TestContext {
  return testContext({ timeoutMs });
}

function testConnection(s: ConnectionSettings, ctx = context()): Promise<TestOutcome> {
  return mysqlAdapter.test!(s, ctx);
}

describe.skipIf(!available)("mysql adapter against a real MariaDB", () => {
  beforeAll(async () => {
    certificate = await selfSignedCertificate();
    server = await startMariaDb({ tls: certificate });
    await server.admin(`CREATE DATABASE ${database}`);
    await server.admin(`CREATE TABLE ${database}.lines (line TEXT)`);
    await server.admin("CREATE USER ?@'%' IDENTIFIED BY ?", [app.user, app.password]);
    // Rights on every database named app_*, so a missing one reads as missing, not forbidden.
    await server.admin("GRANT ALL PRIVILEGES ON `app\\_%`.* TO ?@'%'", [app.user]);
    await server.admin("CREATE USER ?@'%' IDENTIFIED BY ?", [outsider.user, outsider.password]);
    await server.admin("CREATE USER ?@'%' IDENTIFIED BY ? REQUIRE SSL", [tlsOnly.user, tlsOnly.password]);
    await server.admin(`GRANT ALL PRIVILEGES ON ${database}.* TO ?@'%'`, [tlsOnly.user]);
  });

  afterAll(async () => {
    await server?.stop();
    await certificate?.remove();
  });

  it("succeeds with the right password and reports the server version", async () => {
    const outcome = await testConnection(settings());
    expect(outcome).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^MariaDB \d+\.\d+\.\d+$/) });
    expect(outcome.message).toContain(database);
  });

  it("reports AUTH_FAILED for a wrong password, without the password in the message", async () => {
    const wrong = `wrong ${randomBytes(6).toString("hex")}/+&`;
    const message = expectFailure(await testConnection(settings({ password: wrong })), "AUTH_FAILED");
    expect(message).toContain("Access denied");
    for (const form of [wrong, encodeURIComponent(wrong), Buffer.from(wrong).toString("base64")]) {
      expect(message).not.toContain(form);
    }
  });

  it("reports NOT_FOUND for a database that does not exist", async () => {
    const message = expectFailure(await testConnection(settings({ schema: "app_missing" })), "NOT_FOUND");
    expect(message).toContain("app_missing");
  });

  it("reports PERMISSION_DENIED for a user without rights on the database", async () => {
    const outcome = await testConnection(settings({ login: outsider.user, password: outsider.password }));
    expect(expectFailure(outcome, "PERMISSION_DENIED")).toContain(database);
  });

  it("uses TLS with ssl_mode REQUIRED: a user that requires TLS gets in only then", async () => {
    const user = { login: tlsOnly.user, password: tlsOnly.password };
    expectFailure(await testConnection(settings(user)), "AUTH_FAILED");
    expect(await testConnection(settings({ ...user, extra: { ssl_mode: "REQUIRED" } }))).toMatchObject({ ok: true });
  });

  it("connects to the address the egress module checked, never looking the name up again", async () => {
    const egress = strictEgress({ allow: ["127.0.0.1/32"], lookup: async () => [{ address: "127.0.0.1", family: 4 }] });
    const outcome = await testConnection(settings({ host: "db.patchbay.invalid" }), testContext({ egress }));
    expect(outcome).toMatchObject({ ok: true });
  });

  it("reports TLS_ERROR with VERIFY_IDENTITY when the certificate is not trusted", async () => {
    const outcome = await testConnection(settings({ host: "localhost", extra: { ssl_mode: "VERIFY_IDENTITY" } }));
    expect(expectFailure(outcome, "TLS_ERROR")).toMatch(/self-signed/);
  });

  describe("LOCAL INFILE", () => {
    let dir: string;
    let file: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "patchbay-infile-"));
      file = join(dir, "local.txt");
      await writeFile(file, "a line from the client's disk\n");
    });

    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const load = (connection: mysql.Connection) =>
      connection.query(`LOAD DATA LOCAL INFILE ${connection.escape(file)} INTO TABLE ${database}.lines`);

    it("is refused on a connection made with the adapter's options", async () => {
      const target = mysqlTarget(settings()) as MysqlTarget;
      const socket = connect({ host: target.host, port: target.port });
      const connection = await mysql.createConnection(mysqlConnectionOptions(target, app.password, 5_000, socket));
      try {
        // MariaDB: ER_LOAD_INFILE_CAPABILITY_DISABLED; MySQL: ER_NOT_ALLOWED_COMMAND or ER_CLIENT_LOCAL_FILES_DISABLED.
        const refused = await load(connection).then(() => null, (error: { errno?: number }) => error);
        expect([4166, 1148, 3948]).toContain(refused?.errno);
      } finally {
        await connection.end();
      }
      expect(await server.admin(`SELECT COUNT(*) AS n FROM ${database}.lines`)).toEqual([{ n: 0 }]);
    });

    it("would be allowed by this server to a client that offers it (the control case)", async () => {
      const connection = await mysql.createConnection({
        host: "127.0.0.1",
        port: server.port,
        user: app.user,
        password: app.password,
        infileStreamFactory: () => createReadStream(file),
      });
      try {
        await load(connection);
      } finally {
        await connection.end();
      }
      expect(await server.admin(`SELECT COUNT(*) AS n FROM ${database}.lines`)).toEqual([{ n: 1 }]);
      await server.admin(`DELETE FROM ${database}.lines`);
    });
  });
});

describe("mysql adapter against unreachable or foreign servers", () => {
  const base = (port: number): ConnectionSettings => ({
    host: "127.0.0.1",
    port,
    schema: database,
    login: app.user,
    password: app.password,
    extra: {},
  });

  it("refuses a Unix socket path as host without connecting", async () => {
    const outcome = await testConnection({ ...base(3306), host: "/var/run/mysqld/mysqld.sock" });
    expect(expectFailure(outcome, "INVALID_CONFIG")).toMatch(/socket/i);
  });

});
