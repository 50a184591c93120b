/**
 * MySQL and MariaDB, through the `mysql2` driver. Besides building the config field by field
 * (never from a URI), the client must not offer LOCAL INFILE: with it, a server the user
 * points us at can ask for any file on this machine in answer to any query.
 */
import type { Socket } from "node:net";
import type { Connection, ConnectionOptions, PoolOptions, QueryError, RowDataPacket } from "mysql2";
import { DeadlineExceeded } from "./common/deadline";
import { identityHost, openChecked } from "./common/egress";
import { endpointOf, type Endpoint } from "./common/endpoint";
import { displayAddress, socketHost } from "./common/host";
import { errorCode, networkFailure, type Failure } from "./common/network-errors";
import { lazyDriver } from "./common/driver";
import { invalidConfig, type Probe, runProbe } from "./common/probe";
import { timeoutFailure, type Progress } from "./common/progress";
import { mysqlPoolOptions, mysqlSsl, withoutLocalInfile } from "./common/driver-config";
import { allowedDriverParams, serverDatabaseUrl } from "./common/sqlalchemy-url";
import type { ConnectionAdapter, ConnectionSettings, FieldSpec, TestContext, TestErrorCode, TestOutcome } from "./types";

/** MySQL's own `--ssl-mode` names, so they read as users know them from the mysql client. */
export const MYSQL_SSL_MODES = ["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"] as const;

/** PyMySQL connect() parameters a SQLAlchemy URL may carry from extra. */
const DRIVER_PARAMS = ["ssl_ca", "ssl_cert", "ssl_key", "charset", "connect_timeout", "read_timeout", "write_timeout", "init_command"] as const;
export type MysqlSslMode = (typeof MYSQL_SSL_MODES)[number];

const DEFAULT_PORT = 3306;

// Dependency-free, so the published TypeScript client can carry them: common/driver-config.ts.
export { mysqlPoolOptions, mysqlSsl, withoutLocalInfile };

/** Whom the test connects as without a login (the mysql client would use the OS user: Patchbay's here). */
const DEFAULT_USER = "root";

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "db.example.com" },
  { name: "port", label: "Port", kind: "INTEGER", default: DEFAULT_PORT },
  {
    name: "schema",
    safeToChange: true,
    label: "Database",
    kind: "STRING",
    description: "The default database; leave empty to connect without one.",
  },
  {
    name: "login",
    label: "User",
    kind: "STRING",
    description: "Optional, as for the mysql client: without one the test connects as root.",
  },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true },
  {
    name: "extra.ssl_mode",
    label: "SSL mode",
    kind: "SELECT",
    options: [...MYSQL_SSL_MODES],
    default: "DISABLED",
    description:
      "DISABLED: plain TCP. PREFERRED: TLS when the server offers it (the test here connects without TLS and says so). REQUIRED: TLS without checking the certificate. VERIFY_CA: TLS with a certificate trusted here. VERIFY_IDENTITY: that, and the certificate names the host.",
  },
];

export const mysqlAdapter: ConnectionAdapter = {
  id: "mysql",
  label: "MySQL / MariaDB",
  summary: "connects (LOCAL INFILE off), authenticates, `SELECT VERSION()`",
  defaultPort: DEFAULT_PORT,
  fields,
  knownExtras: DRIVER_PARAMS,
  // pymysql: pure Python, so the URL works from a plain pip install (mysqlclient needs C headers).
  sqlalchemy: (settings) => serverDatabaseUrl("mysql+pymysql", settings, { ...allowedDriverParams(settings.extra, DRIVER_PARAMS), ...pymysqlSsl(settings.extra.ssl_mode) }),
  clientConfig: mysqlPoolOptions,
  test: testMysql,
};

/**
 * ssl_mode as PyMySQL's connect() parameters in a SQLAlchemy URL. SQLAlchemy's MySQL dialects
 * turn ssl_check_hostname into PyMySQL's ssl dict (so TLS is on); ssl_verify_cert and
 * ssl_verify_identity pass through to connect(). PyMySQL has no PREFERRED (it is plain TCP
 * here, as mysql2's is), and it checks the host name only when a CA file is given (extra
 * ssl_ca): without one, VERIFY_IDENTITY verifies the chain against the system's CAs only.
 */
export function pymysqlSsl(mode: unknown): Record<string, string> {
  switch (typeof mode === "string" ? mode.toUpperCase() : "") {
    case "REQUIRED":
      return { ssl_check_hostname: "false" };
    case "VERIFY_CA":
      return { ssl_verify_cert: "true", ssl_check_hostname: "false" };
    case "VERIFY_IDENTITY":
      return { ssl_verify_cert: "true", ssl_verify_identity: "true" };
    default:
      return {};
  }
}

export interface MysqlTarget extends Endpoint {
  user: string;
  database: string | null;
  sslMode: MysqlSslMode;
}

/** What the adapter connects to, defaults applied, or why the settings cannot be used. */
export function mysqlTarget(settings: ConnectionSettings): MysqlTarget | string {
  const endpoint = endpointOf(settings, DEFAULT_PORT);
  if (typeof endpoint === "string") return endpoint;
  const sslMode = typeof settings.extra.ssl_mode === "string" && settings.extra.ssl_mode ? settings.extra.ssl_mode.toUpperCase() : "DISABLED";
  if (!MYSQL_SSL_MODES.includes(sslMode as MysqlSslMode)) return `Unknown SSL mode: ${String(settings.extra.ssl_mode)}.`;
  return {
    ...endpoint,
    user: settings.login || DEFAULT_USER,
    database: settings.schema || null,
    sslMode: sslMode as MysqlSslMode,
  };
}

/**
 * The mysql2 options for a target, over a socket the caller opened (so it can destroy it:
 * mysql2's own destroy() only half-closes). LOCAL_FILES is taken out of the capabilities
 * mysql2 announces, and no infile stream factory is given, so a LOAD DATA LOCAL request is
 * refused both by an honest server and by this client.
 */
export function mysqlConnectionOptions(
  target: MysqlTarget,
  password: string | null,
  timeoutMs: number,
  socket: Socket,
): ConnectionOptions {
  return {
    stream: socket,
    host: socketHost(target.host),
    port: target.port,
    user: target.user,
    password: password ?? undefined,
    database: target.database ?? undefined,
    ssl: mysqlSsl(target.sslMode) as ConnectionOptions["ssl"],
    connectTimeout: timeoutMs,
    flags: ["-LOCAL_FILES", "-MULTI_STATEMENTS"],
    multipleStatements: false,
    infileStreamFactory: undefined,
    enableCleartextPlugin: false,
    enableKeepAlive: false,
    connectAttributes: { program_name: "patchbay connection test" },
  };
}

const mysql2 = lazyDriver(async () => (await import("mysql2")).default);

const probe: Probe<MysqlTarget, string> = {
  fields,
  target: (settings) => invalidConfig(mysqlTarget(settings)),
  host: (target) => target.host,
  async open(target, { ctx, settings, address, progress, sockets, closeWith }) {
    const mysql = await mysql2.load();
    // To the checked address only; the name stays with mysql2 for TLS verification.
    const socket = openChecked(address, target.port, sockets);
    socket.once("connect", () => (progress.connected = true));
    const verifiedAs = { ...target, host: identityHost(target.host, address) };
    const connection = mysql.createConnection(mysqlConnectionOptions(verifiedAs, settings.password, ctx.timeoutMs, socket));
    // A late error has no one to go to once the test has its outcome.
    connection.on("error", () => {});
    closeWith({ end: () => new Promise<void>((resolve) => connection.end(() => resolve())) });
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    progress.authenticated = true;
    return selectVersion(connection, ctx.timeoutMs);
  },
  describe: (target, version, { settings }) => ({
    ok: true,
    message:
      `Connected to ${displayAddress(target.host, target.port)} as ${target.user}${target.database ? `, database ${target.database}` : ""}.` +
      testedAs(target, settings),
    serverVersion: shortVersion(version),
  }),
  classify: (error, target, { progress, ctx }) => describeFailure(error, target, progress, ctx.timeoutMs),
};

/** What the test did differently from the settings (PREFERRED without TLS, no login as root), said in the result. */
export function testedAs(target: MysqlTarget, settings: ConnectionSettings): string {
  const notes: string[] = [];
  if (target.sslMode === "PREFERRED") notes.push("ssl_mode PREFERRED was tested without TLS; the mysql client would use TLS when the server offers it, which this test cannot");
  if (!settings.login) notes.push(`no user is set, so the test connected as ${DEFAULT_USER}`);
  return notes.length ? ` Note: ${notes.join("; ")}.` : "";
}

function testMysql(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

function selectVersion(connection: Connection, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    connection.query<RowDataPacket[]>({ sql: "SELECT VERSION() AS version", timeout: timeoutMs }, (error, rows) =>
      error ? reject(error) : resolve(String(rows[0]?.version ?? "")),
    ),
  );
}

/** "10.11.19-MariaDB-0+deb12u1" becomes "MariaDB 10.11.19"; "8.4.2" becomes "MySQL 8.4.2". */
function shortVersion(version: string): string | null {
  const number = /^\d+(?:\.\d+)*/.exec(version)?.[0];
  if (!number) return version.slice(0, 100) || null;
  return /mariadb/i.test(version) ? `MariaDB ${number}` : `MySQL ${number}`;
}

/** Server error numbers (shared by MySQL and MariaDB) that have a code of their own. */
const SERVER_ERRORS: Record<number, { code: TestErrorCode; hint: string }> = {
  1044: { code: "PERMISSION_DENIED", hint: "The user has no access to this database (or it does not exist)." },
  1045: { code: "AUTH_FAILED", hint: "Check the user and password." },
  1049: { code: "NOT_FOUND", hint: "Check the database name." },
  1130: { code: "PERMISSION_DENIED", hint: "The server does not accept this user from this address." },
  1698: { code: "AUTH_FAILED", hint: "Check the user and password." },
  1862: { code: "AUTH_FAILED", hint: "The password has expired; set a new one on the server." },
  3118: { code: "AUTH_FAILED", hint: "The account is locked." },
  3159: { code: "TLS_ERROR", hint: "The server requires TLS; set SSL mode to REQUIRED or VERIFY_IDENTITY." },
};

function describeFailure(error: unknown, target: MysqlTarget, progress: Progress, timeoutMs: number): Failure {
  const address = displayAddress(target.host, target.port);
  const code = errorCode(error);

  // mysql2's own connect timer, set to the same deadline, reports ETIMEDOUT.
  if (error instanceof DeadlineExceeded || code === "ETIMEDOUT" || code === "PROTOCOL_SEQUENCE_TIMEOUT") {
    return timeoutFailure(address, progress, timeoutMs, "MySQL");
  }
  const network = networkFailure(error, target);
  if (network) return network;

  // An ERR packet from the server: mysql2 puts its number in `errno` and its text in `sqlMessage`.
  const serverError = error as Partial<QueryError> & { sqlMessage?: unknown };
  if (typeof serverError.errno === "number" && serverError.errno >= 1000 && typeof serverError.sqlMessage === "string") {
    const known = SERVER_ERRORS[serverError.errno];
    const said = `The server said: ${serverError.sqlMessage}`;
    return known
      ? { code: known.code, message: `${said}. ${known.hint}` }
      : { code: "UNKNOWN", message: `${said} (error ${serverError.errno}).` };
  }

  switch (code) {
    case "HANDSHAKE_NO_SSL_SUPPORT":
      return {
        code: "TLS_ERROR",
        message: `${address} does not accept TLS connections. Set SSL mode to DISABLED, or enable TLS on the server.`,
      };
    case "HANDSHAKE_SSL_ERROR":
      // The peer has already greeted us as a MySQL server; Node's TLS message is local text.
      return { code: "TLS_ERROR", message: `TLS with ${address} failed: ${(error as Error).message}.` };
    case "MYSQL_CLEAR_PASSWORD_NOT_ENABLED":
      return {
        code: "AUTH_FAILED",
        message: `${address} asks for the password in clear text (mysql_clear_password), which is never sent.`,
      };
    case "AUTH_SWITCH_PLUGIN_ERROR":
      return { code: "AUTH_FAILED", message: `${address} asks for an authentication method that is not supported.` };
    case "PROTOCOL_CONNECTION_LOST":
      return progress.authenticated
        ? { code: "PROTOCOL_ERROR", message: `${address} closed the connection unexpectedly.` }
        : { code: "PROTOCOL_ERROR", message: `${address} closed the connection before answering like MySQL.` };
  }
  // Anything else before logging in may carry the peer's bytes; it is never echoed.
  if (!progress.authenticated) return { code: "PROTOCOL_ERROR", message: `${address} did not answer like MySQL.` };
  return { code: "UNKNOWN", message: `The test query failed: ${error instanceof Error ? error.message : String(error)}` };
}
