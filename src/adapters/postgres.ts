/**
 * PostgreSQL, through the `pg` driver. The driver's config is built field by field: pg reads
 * certificate files named in a connection string from this server's disk, and falls back to
 * PG* environment variables and ~/.pgpass for anything left unset, so neither a user-typed
 * URI nor an empty field may reach it.
 */
import { isIP, type Socket } from "node:net";
import pg from "pg";
import { DeadlineExceeded } from "./common/deadline";
import { identityHost, pinnedSocket } from "./common/egress";
import { endpointOf, type Endpoint } from "./common/endpoint";
import { displayAddress, socketHost } from "./common/host";
import { networkFailure, type Failure } from "./common/network-errors";
import { invalidConfig, type Probe, runProbe } from "./common/probe";
import { timeoutFailure, type Progress } from "./common/progress";
import { libpqSsl, postgresPoolConfig } from "./common/driver-config";
import { allowedDriverParams, serverDatabaseUrl } from "./common/sqlalchemy-url";
import type { ConnectionAdapter, ConnectionSettings, FieldSpec, TestContext, TestOutcome } from "./types";

/** Every sslmode libpq accepts; the test honours allow and prefer as disable and says so. */
export const POSTGRES_SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;

/** libpq parameters a SQLAlchemy URL may carry from extra (psycopg2 and psycopg 3 take them all). */
const DRIVER_PARAMS = [
  "sslmode",
  "sslrootcert",
  "sslcert",
  "sslkey",
  "connect_timeout",
  "application_name",
  "options",
  "target_session_attrs",
  "keepalives",
  "keepalives_idle",
  "keepalives_interval",
  "keepalives_count",
] as const;
export type PostgresSslMode = (typeof POSTGRES_SSL_MODES)[number];

const DEFAULT_PORT = 5432;

// Dependency-free, so the published TypeScript client can carry them: common/driver-config.ts.
export { libpqSsl, postgresPoolConfig };

/**
 * Who the test connects as without a login. libpq would use the operating-system user of the
 * process, which here is Patchbay's, not the user's: the test says whom it used instead.
 */
const DEFAULT_USER = "postgres";

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "db.example.com" },
  { name: "port", label: "Port", kind: "INTEGER", default: DEFAULT_PORT },
  {
    name: "schema",
    safeToChange: true,
    label: "Database",
    kind: "STRING",
    placeholder: "postgres",
    description: "The database to connect to; PostgreSQL uses the user name when empty.",
  },
  {
    name: "login",
    label: "User",
    kind: "STRING",
    description: "Optional, as in libpq: without one the test connects as the database name's user, or postgres.",
  },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true },
  {
    name: "extra.sslmode",
    label: "SSL mode",
    kind: "SELECT",
    options: [...POSTGRES_SSL_MODES],
    default: "disable",
    description:
      "disable: plain TCP. allow, prefer: libpq tries plain TCP or TLS (the test here connects without TLS and says so). require: TLS without checking the certificate. verify-ca: TLS with a certificate trusted here. verify-full: that, and the certificate names the host.",
  },
];

export const postgresAdapter: ConnectionAdapter = {
  id: "postgres",
  label: "PostgreSQL",
  summary: "connects, authenticates, `SELECT version()`",
  defaultPort: DEFAULT_PORT,
  fields,
  knownExtras: DRIVER_PARAMS,
  // The driver named (psycopg2 unless asked for psycopg 3): SQLAlchemy 2.1 changed what a bare
  // postgresql:// means. A socket directory in host, which the URL's authority cannot carry,
  // goes to ?host=; the libpq parameters of DRIVER_PARAMS in extra to the query.
  sqlalchemy(settings, options) {
    const socketDirectory = settings.host?.startsWith("/") ? settings.host : null;
    const query: Record<string, string> = allowedDriverParams(settings.extra, DRIVER_PARAMS);
    if (socketDirectory) query.host = socketDirectory;
    const drivername = options.postgresDriver === "PSYCOPG" ? "postgresql+psycopg" : "postgresql+psycopg2";
    return { ...serverDatabaseUrl(drivername, settings, query), host: socketDirectory ? null : settings.host || null };
  },
  clientConfig: postgresPoolConfig,
  test: testPostgres,
};

export interface PostgresTarget extends Endpoint {
  user: string;
  database: string;
  sslMode: PostgresSslMode;
}

/** What the adapter connects to, defaults applied, or why the settings cannot be used. */
export function postgresTarget(settings: ConnectionSettings): PostgresTarget | string {
  const endpoint = endpointOf(settings, DEFAULT_PORT);
  if (typeof endpoint === "string") return endpoint;
  const sslMode = settings.extra.sslmode || "disable";
  if (!POSTGRES_SSL_MODES.includes(sslMode as PostgresSslMode)) return `Unknown SSL mode: ${String(sslMode)}.`;
  return {
    ...endpoint,
    user: settings.login || DEFAULT_USER,
    database: settings.schema || settings.login || DEFAULT_USER,
    sslMode: sslMode as PostgresSslMode,
  };
}

/**
 * The pg client config for a target. Every field that decides where and as whom pg connects
 * is set, since pg fills unset ones from PG* variables; the password is a function, so pg
 * never looks in ~/.pgpass. `host` is only what TLS verifies: the socket is already pinned
 * to the address the egress policy checked.
 */
export function postgresClientConfig(
  target: PostgresTarget,
  password: string | null,
  timeoutMs: number,
  socket: Socket,
): pg.ClientConfig {
  return {
    host: socketHost(target.host),
    port: target.port,
    user: target.user,
    database: target.database,
    password: async () => password ?? "",
    ssl: libpqSsl(target.sslMode, socketHost(target.host)) as pg.ClientConfig["ssl"],
    stream: () => socket,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    application_name: "patchbay connection test",
    keepAlive: false,
  };
}

const probe: Probe<PostgresTarget, string> = {
  fields,
  target: (settings) => invalidConfig(postgresTarget(settings)),
  host: (target) => target.host,
  async open(target, { ctx, settings, address, progress, sockets, closeWith }) {
    // Our own socket, so the deadline can destroy it whatever state the driver is in, and
    // pinned to the checked address whatever host pg asks it to connect to.
    const socket = sockets.add(pinnedSocket(address));
    socket.once("connect", () => (progress.connected = true));
    const verifiedAs = { ...target, host: identityHost(target.host, address) };
    const client = new pg.Client(postgresClientConfig(verifiedAs, settings.password, ctx.timeoutMs, socket));
    // A late socket error has no one to go to once the test has its outcome.
    client.on("error", () => {});
    closeWith({ end: () => client.end() });
    await client.connect();
    progress.authenticated = true;
    const result = await client.query<{ version: string }>("SELECT version()");
    return String(result.rows[0]?.version ?? "");
  },
  describe: (target, version, { settings }) => ({
    ok: true,
    message:
      `Connected to ${displayAddress(target.host, target.port)} as ${target.user}, database ${target.database}.` +
      testedAs(target, settings),
    serverVersion: shortVersion(version),
  }),
  classify: (error, target, { progress, settings, ctx }) =>
    describeFailure(error, { target, progress, password: settings.password, timeoutMs: ctx.timeoutMs }),
};

/**
 * What this test did differently from what the settings ask of libpq, said in the result
 * rather than refusing the connection: allow and prefer (node-postgres cannot fall back
 * between plain TCP and TLS) are tested without TLS, and no login is tested as postgres.
 */
export function testedAs(target: PostgresTarget, settings: ConnectionSettings): string {
  const notes: string[] = [];
  if (target.sslMode === "allow" || target.sslMode === "prefer") {
    notes.push(`sslmode ${target.sslMode} was tested without TLS; libpq ${target.sslMode === "prefer" ? "tries TLS first" : "falls back to TLS"}, which this test cannot`);
  }
  if (!settings.login) notes.push(`no user is set, so the test connected as ${DEFAULT_USER}; libpq would use the operating-system user of the program connecting`);
  return notes.length ? ` Note: ${notes.join("; ")}.` : "";
}

function testPostgres(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

/** "PostgreSQL 18.4 on x86_64-pc-linux-gnu, compiled by ..." becomes "PostgreSQL 18.4". */
function shortVersion(version: string): string | null {
  const postgres = /^PostgreSQL [^\s,]+/.exec(version);
  if (postgres) return postgres[0];
  return version.split(" on ")[0].slice(0, 100) || null;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** pg's own timers (connect, query), set to the same deadline, may fire before ours. */
const DRIVER_TIMEOUTS = new Set(["timeout expired", "Query read timeout"]);

interface Attempt {
  target: PostgresTarget;
  progress: Progress;
  password: string | null;
  timeoutMs: number;
}

function describeFailure(error: unknown, { target, progress, password, timeoutMs }: Attempt): Failure {
  const address = displayAddress(target.host, target.port);
  const message = error instanceof Error ? error.message : String(error);

  if (error instanceof DeadlineExceeded || DRIVER_TIMEOUTS.has(message)) {
    return timeoutFailure(address, progress, timeoutMs, "PostgreSQL");
  }
  const network = networkFailure(error, target);
  if (network) return network;

  // Only an ErrorResponse with a well-formed SQLSTATE comes from a PostgreSQL server; its
  // text may be shown. Anything else a peer sent before logging in is never echoed.
  if (error instanceof pg.DatabaseError && error.code && SQLSTATE.test(error.code)) {
    return serverFailure(error.code, message);
  }
  if (message === "The server does not support SSL connections") {
    return {
      code: "TLS_ERROR",
      message: `${address} does not accept TLS connections. Set SSL mode to disable, or enable TLS on the server.`,
    };
  }
  if (message.startsWith("SASL:")) {
    if (!password) {
      return { code: "SECRET_REQUIRED", message: `${address} asks for a password, and this connection has none.` };
    }
    return { code: "PROTOCOL_ERROR", message: `The SCRAM authentication exchange with ${address} failed.` };
  }
  if (!progress.authenticated) {
    return /terminated/.test(message)
      ? { code: "PROTOCOL_ERROR", message: `${address} closed the connection before answering like PostgreSQL.` }
      : { code: "PROTOCOL_ERROR", message: `${address} did not answer like PostgreSQL.` };
  }
  return { code: "UNKNOWN", message: `The test query failed: ${message}` };
}

function serverFailure(sqlState: string, serverMessage: string): Failure {
  const said = `PostgreSQL said: ${serverMessage}`;
  switch (sqlState) {
    case "28P01":
    case "28000":
      return { code: "AUTH_FAILED", message: `${said}. Check the user and password.` };
    case "3D000":
      return { code: "NOT_FOUND", message: `${said}. Check the database name.` };
    case "42501":
      return { code: "PERMISSION_DENIED", message: `${said}. The user needs the CONNECT privilege on the database.` };
    case "57014": // query_canceled, by the statement_timeout we set
      return { code: "TIMEOUT", message: `${said}.` };
    default:
      return { code: "UNKNOWN", message: `${said} (SQLSTATE ${sqlState}).` };
  }
}
