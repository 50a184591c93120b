/**
 * Microsoft SQL Server and Azure SQL, through `tedious`, with SQL Server authentication. The
 * driver's config is an object built field by field, never a connection string, and tedious
 * never resolves a name: its `connector` hands it a socket to the address the egress module
 * checked (a routing redirect from Azure is checked the same way), while `server` keeps the
 * name the user typed for the TLS certificate check.
 *
 * tedious would carry on without TLS when a server answers the pre-login that it does not
 * support encryption, sending the password in the login packet merely obfuscated. With
 * Encrypt set to true the test watches the pre-login answer and drops the connection before
 * the login is sent when the server will not encrypt.
 */
import type { Socket } from "node:net";
import type { Connection, ConnectionConfiguration } from "tedious";
import { DeadlineExceeded } from "./common/deadline";
import { checkEgress, connectChecked, identityHost, isFailure } from "./common/egress";
import { displayAddress, hostProblem } from "./common/host";
import { networkFailure, type Failure } from "./common/network-errors";
import { invalidConfig, type Probe, runProbe } from "./common/probe";
import { timeoutFailure, type Progress, formatDuration } from "./common/progress";
import { serverDatabaseUrl } from "./common/sqlalchemy-url";
import { browseInstancePort, InstanceNotFound, INSTANCE_NAME, SQL_BROWSER_PORT } from "./common/sql-server-browser";
import { lazyDriver } from "./common/driver";
import type { CheckedAddress, ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec, TestContext, TestErrorCode, TestOutcome } from "./types";

export const MSSQL_ENCRYPT_MODES = ["true", "false", "strict"] as const;
export type MssqlEncryptMode = (typeof MSSQL_ENCRYPT_MODES)[number];

const DEFAULT_PORT = 1433;

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "sql.example.com" },
  {
    name: "port",
    label: "Port",
    kind: "INTEGER",
    default: DEFAULT_PORT,
    description: "Leave empty when an instance name is set: its port is then asked of the SQL Server Browser (UDP 1434).",
  },
  {
    name: "schema",
    safeToChange: true,
    label: "Database",
    kind: "STRING",
    placeholder: "master",
    description: "The database to open; empty: the login's default database.",
  },
  { name: "login", label: "User", kind: "STRING", required: true, description: "A SQL Server authentication login (not a Windows account)." },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true },
  {
    name: "extra.encrypt",
    label: "Encrypt",
    kind: "SELECT",
    options: [...MSSQL_ENCRYPT_MODES],
    default: "true",
    description:
      "true: TLS after the pre-login (TDS 7.4); the test refuses a server that will not encrypt. strict: TLS from the first byte (TDS 8.0, SQL Server 2022 and Azure SQL). false: no TLS; the password crosses the network only obfuscated.",
  },
  {
    name: "extra.trust_server_certificate",
    label: "Trust server certificate",
    kind: "BOOLEAN",
    default: false,
    description: "Accept any certificate the server presents. Leave off unless the server has a self-signed certificate.",
  },
  {
    name: "extra.instance_name",
    label: "Instance name",
    kind: "STRING",
    placeholder: "SQLEXPRESS",
    description: "A named instance (host\\INSTANCE): its port is found through the SQL Server Browser on UDP 1434. Clear Port to use it.",
  },
];

export const mssqlAdapter: ConnectionAdapter = {
  id: "mssql",
  label: "Microsoft SQL Server",
  summary: "tedious: pre-login, login only over encryption unless configured otherwise, `SELECT @@VERSION`",
  defaultPort: DEFAULT_PORT,
  fields,
  validate: (settings) => {
    const target = mssqlTarget(settings);
    return Array.isArray(target) ? target : [];
  },
  // pymssql, Airflow's MsSqlHook default: pyodbc would need an installed ODBC driver named in
  // the URL, or it reads the host as a DSN name.
  sqlalchemy: (settings) => serverDatabaseUrl("mssql+pymssql", settings),
  test: testMssql,
};

export interface MssqlTarget {
  host: string;
  /** Null when the port is to be found from the instance name. */
  port: number | null;
  instanceName: string | null;
  database: string | null;
  user: string;
  encrypt: MssqlEncryptMode;
  trustServerCertificate: boolean;
}

/** The target with defaults applied, or every problem with the settings, by field. */
export function mssqlTarget(settings: ConnectionSettings): MssqlTarget | FieldProblem[] {
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const extra = settings.extra ?? {};

  if (!settings.host) problem("host", "Host is required.");
  else if (settings.host.includes("\\")) problem("host", "Put the instance name in the Instance name field, not after a '\\'.");
  else {
    const hostIssue = hostProblem(settings.host);
    if (hostIssue) problem("host", hostIssue);
  }
  if (!settings.login) problem("login", "User is required.");

  const instance = extra.instance_name === undefined || extra.instance_name === null || extra.instance_name === "" ? null : extra.instance_name;
  if (instance !== null && (typeof instance !== "string" || !INSTANCE_NAME.test(instance))) {
    problem("extra.instance_name", "An instance name is up to 16 letters, digits, '_', '$' or '#', e.g. SQLEXPRESS.");
  }
  const port = settings.port ?? (instance === null ? DEFAULT_PORT : null);
  if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535)) problem("port", "Port must be between 1 and 65535.");
  if (instance !== null && settings.port !== null && settings.port !== undefined) {
    problem("extra.instance_name", "Set either a port or an instance name, not both: clear Port to look the instance's port up.");
  }

  const encrypt = extra.encrypt ?? "true";
  if (!MSSQL_ENCRYPT_MODES.includes(encrypt as MssqlEncryptMode)) problem("extra.encrypt", `Encrypt must be one of: ${MSSQL_ENCRYPT_MODES.join(", ")}.`);
  const trust = extra.trust_server_certificate ?? false;
  if (typeof trust !== "boolean") problem("extra.trust_server_certificate", "Trust server certificate must be true or false.");

  if (problems.length > 0) return problems;
  return {
    host: settings.host!,
    port,
    instanceName: instance as string | null,
    database: settings.schema || null,
    user: settings.login!,
    encrypt: encrypt as MssqlEncryptMode,
    trustServerCertificate: trust as boolean,
  };
}

/** The tedious config for a target: an object, never a connection string, reaching the server only through `connector`. */
export function tediousConfig(
  target: MssqlTarget,
  serverName: string,
  port: number,
  password: string | null,
  timeoutMs: number,
  connector: () => Promise<Socket>,
): ConnectionConfiguration {
  // tedious's own timers are left longer than the deadline, which always ends the test first.
  const driverTimeout = timeoutMs + 1_000;
  return {
    server: serverName,
    authentication: { type: "default", options: { userName: target.user, password: password ?? "" } },
    options: {
      port,
      connector,
      database: target.database ?? undefined,
      encrypt: target.encrypt === "strict" ? "strict" : target.encrypt === "true",
      trustServerCertificate: target.trustServerCertificate,
      connectTimeout: driverTimeout,
      requestTimeout: driverTimeout,
      cancelTimeout: 1_000,
      // 4060 (cannot open database) counts as transient for tedious; a test reports it at once.
      maxRetriesOnTransientErrors: 0,
      appName: "patchbay connection test",
      // tedious would send this machine's host name in the login packet.
      workstationId: "patchbay",
    },
  };
}

/** What the pre-login answer said, as far as this test cares. */
interface PreloginWatch {
  /** The first bytes were not a TDS pre-login answer. */
  foreign: boolean;
  /** The server will not encrypt, while Encrypt asks for it; the login was not sent. */
  refusedTls: boolean;
}

/** What one test learned on the way, fresh for each test, for classify(). */
interface MssqlSeen {
  /** The port connected to: the configured one, or the one the SQL Server Browser named. */
  port: number | null;
  watch: PreloginWatch;
  errorNumbers: number[];
}

type MssqlProbeTarget = MssqlTarget & { seen: MssqlSeen };

type Tedious = typeof import("tedious");
const driver = lazyDriver<Tedious>(() => import("tedious"));

const probe: Probe<MssqlProbeTarget, string> = {
  fields,
  target(settings) {
    const target = invalidConfig(mssqlTarget(settings));
    if ("code" in target) return target;
    return { ...target, seen: { port: target.port, watch: { foreign: false, refusedTls: false }, errorNumbers: [] } };
  },
  host: (target) => target.host,
  async open(target, { ctx, settings, address, progress, sockets, closeWith }) {
    const tedious = await driver.load();
    const { seen } = target;
    const browse = new AbortController();
    let connection: Connection | undefined;
    closeWith({
      end: () =>
        new Promise<void>((resolve) => {
          if (!connection) return resolve();
          connection.once("end", () => resolve());
          connection.close();
        }),
      destroy: () => {
        browse.abort(new DeadlineExceeded(ctx.timeoutMs));
        connection?.close();
      },
    });
    const port = (seen.port ??= await browseInstancePort(address, target.instanceName!, browse.signal));
    let attempts = 0;
    // tedious passes where to connect (the server, or where Azure routed it) as the first argument.
    const connector = async (where?: { host?: string; port?: number }) => {
      attempts++;
      const routed = attempts > 1 && where?.host ? where : null;
      let checked: CheckedAddress = address;
      if (routed) {
        const hop = await checkEgress(ctx, routed.host!);
        if (isFailure(hop)) throw Object.assign(new Error(hop.message), { failure: hop });
        checked = hop;
      }
      const socket = await connectChecked(checked, routed?.port ?? port, sockets);
      progress.connected = true;
      if (target.encrypt !== "strict") watchPrelogin(socket, target.encrypt === "true", seen.watch);
      return socket;
    };
    const open = (connection = new tedious.Connection(tediousConfig(target, identityHost(target.host, address), port, settings.password, ctx.timeoutMs, connector)));
    // A late socket error has no one to go to once the test has its outcome.
    open.on("error", () => {});
    open.on("errorMessage", (token: { number?: unknown }) => {
      if (typeof token.number === "number") seen.errorNumbers.push(token.number);
    });
    await new Promise<void>((resolve, reject) => open.connect((error) => (error ? reject(error) : resolve())));
    progress.authenticated = true;
    return selectVersion(tedious, open);
  },
  describe(target, version) {
    const where = displayAddress(target.host, target.seen.port!);
    const database = target.database ? `, database ${target.database}` : "";
    const instance = target.instanceName ? ` (instance ${target.instanceName})` : "";
    return { ok: true, message: `Connected to ${where}${instance} as ${target.user}${database}.`, serverVersion: shortVersion(version) };
  },
  classify: (error, target, { progress, settings, ctx }) =>
    describeFailure(error, {
      target,
      port: target.seen.port,
      progress,
      watch: target.seen.watch,
      errorNumbers: target.seen.errorNumbers,
      hasPassword: Boolean(settings.password),
      timeoutMs: ctx.timeoutMs,
    }),
};

function testMssql(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

function selectVersion(tedious: Tedious, connection: Connection): Promise<string> {
  return new Promise((resolve, reject) => {
    let version = "";
    const request = new tedious.Request("SELECT @@VERSION AS version", (error) => (error ? reject(error) : resolve(version)));
    request.on("row", (columns: Array<{ value: unknown }>) => (version = String(columns[0]?.value ?? "")));
    // A plain batch: no parameters, so no sp_executesql round.
    connection.execSqlBatch(request);
  });
}

const PRELOGIN_RESPONSE = 0x04;
const ENCRYPTION_OPTION = 0x01;
const TERMINATOR = 0xff;
/** ENCRYPT_ON and ENCRYPT_REQ: the server will run TLS before the login. */
const WILL_ENCRYPT = new Set([0x01, 0x03]);

/**
 * Reads the server's first packet alongside tedious (which is still setting up its own reader
 * when a server that speaks first sends it). Not a TDS pre-login answer: the socket is dropped,
 * since nothing useful can follow. No encryption while `requireTls`: dropped before tedious can
 * send the login.
 */
function watchPrelogin(socket: Socket, requireTls: boolean, watch: PreloginWatch): void {
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length < 8) return;
    const length = buffered.readUInt16BE(2);
    if (buffered[0] !== PRELOGIN_RESPONSE || length < 9 || length > 4096) return stop("foreign");
    if (buffered.length < length) return;
    const encryption = preloginEncryption(buffered.subarray(8, length));
    if (encryption === undefined) return stop("foreign");
    if (requireTls && (encryption === null || !WILL_ENCRYPT.has(encryption))) return stop("refusedTls");
    socket.off("data", onData);
  };
  const stop = (why: keyof PreloginWatch) => {
    watch[why] = true;
    socket.off("data", onData);
    // With an error, so tedious stops at once instead of waiting for its own timer.
    socket.destroy(Object.assign(new Error(`pre-login answer refused (${why})`), { code: "EPRELOGIN" }));
  };
  socket.on("data", onData);
}

/** The ENCRYPTION option's value; null when absent, undefined when the payload is malformed. */
function preloginEncryption(payload: Buffer): number | null | undefined {
  for (let at = 0; at < payload.length; at += 5) {
    if (payload[at] === TERMINATOR) return null;
    if (at + 5 > payload.length) return undefined;
    const offset = payload.readUInt16BE(at + 1);
    const length = payload.readUInt16BE(at + 3);
    if (offset + length > payload.length) return undefined;
    if (payload[at] === ENCRYPTION_OPTION) return length >= 1 ? payload[offset] : undefined;
  }
  return undefined;
}

/** "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) \n\tOct  8 2022 ..." becomes its first part. */
function shortVersion(version: string): string | null {
  const first = version.split("\n")[0].replace(/\s*\((?:X64|X86|ARM64)\)\s*$/i, "").trim();
  return first.slice(0, 100) || null;
}

interface Attempt {
  target: MssqlTarget;
  port: number | null;
  progress: Progress;
  watch: PreloginWatch;
  errorNumbers: number[];
  hasPassword: boolean;
  timeoutMs: number;
}

/** Login error numbers with a code of their own; SQL Server's text (sent before login) is never shown. */
const LOGIN_ERRORS: Record<number, { code: TestErrorCode; hint: string }> = {
  18456: { code: "AUTH_FAILED", hint: "Login failed: check the user and password." },
  18452: { code: "AUTH_FAILED", hint: "The server does not accept SQL Server logins from here (Windows authentication only?)." },
  18470: { code: "AUTH_FAILED", hint: "The login is disabled." },
  18486: { code: "AUTH_FAILED", hint: "The login is locked out after too many failed attempts." },
  18487: { code: "AUTH_FAILED", hint: "The login's password has expired." },
  18488: { code: "AUTH_FAILED", hint: "The login's password must be changed before it can be used." },
  4060: { code: "NOT_FOUND", hint: "The database cannot be opened: it does not exist, or the login has no access to it." },
  4064: { code: "NOT_FOUND", hint: "The login's default database cannot be opened; set a database." },
  916: { code: "PERMISSION_DENIED", hint: "The login may not access this database." },
  40532: { code: "NOT_FOUND", hint: "Azure SQL cannot open this server; check the host name." },
  40615: { code: "PERMISSION_DENIED", hint: "The Azure SQL firewall does not allow connections from this address." },
};

/** A database problem explains a login failure better than the generic 18456 that follows it. */
const PRECEDENCE = [4060, 4064, 916, 40532, 40615, 18486, 18487, 18488, 18470, 18452, 18456];

function describeFailure(error: unknown, attempt: Attempt): Failure {
  const { target, port, progress, watch, errorNumbers, hasPassword, timeoutMs } = attempt;
  const address = port === null ? `${target.host}\\${target.instanceName}` : displayAddress(target.host, port);
  // A routing redirect the egress module refused (thrown by the connector, wrapped by tedious).
  const cause = (error as { cause?: unknown } | null)?.cause;
  const refused = (cause as { failure?: Failure } | null)?.failure ?? (error as { failure?: Failure } | null)?.failure;
  if (refused) return refused;

  if (watch.refusedTls) {
    return {
      code: "TLS_ERROR",
      message: `${address} does not encrypt connections, so the login was not sent. Enable TLS on the server, or set Encrypt to false to send the password unencrypted.`,
    };
  }
  if (watch.foreign) return { code: "PROTOCOL_ERROR", message: `${address} did not answer like SQL Server (TDS).` };

  if (error instanceof InstanceNotFound) {
    return { code: "NOT_FOUND", message: `The SQL Server Browser on ${target.host} does not list a TCP port for instance ${target.instanceName}.` };
  }
  if (error instanceof DeadlineExceeded && port === null) {
    return {
      code: "TIMEOUT",
      message: `The SQL Server Browser on ${target.host} (UDP ${SQL_BROWSER_PORT}) did not answer within ${formatDuration(timeoutMs)}. Is it running and reachable? Or set the port instead of the instance name.`,
    };
  }
  const driverCode = (error as { code?: unknown } | null)?.code;
  if (error instanceof DeadlineExceeded || driverCode === "ETIMEOUT") {
    if (progress.connected && !progress.authenticated) {
      return { code: "TIMEOUT", message: `${address} accepted the connection but did not complete the SQL Server login within ${formatDuration(timeoutMs)}. Is it a SQL Server?` };
    }
    return timeoutFailure(address, progress, timeoutMs, "SQL Server");
  }

  const network = networkFailure(cause ?? error, { host: target.host, port: port ?? DEFAULT_PORT });
  if (network) {
    if (network.code === "PROTOCOL_ERROR" && !progress.authenticated) {
      return { code: "PROTOCOL_ERROR", message: `${address} closed the connection before completing the SQL Server login. Is it a SQL Server?` };
    }
    return network;
  }
  if (driverCode === "EENCRYPT") {
    return { code: "TLS_ERROR", message: `${address} requires encryption; set Encrypt to true or strict.` };
  }

  const number = PRECEDENCE.find((n) => errorNumbers.includes(n));
  if (driverCode === "ELOGIN" || number !== undefined) {
    if (number === 18456 && !hasPassword) {
      return { code: "SECRET_REQUIRED", message: `${address} refused the login for ${target.user}, and this connection has no password.` };
    }
    if (number !== undefined) {
      const known = LOGIN_ERRORS[number];
      const database = known.code === "NOT_FOUND" && target.database ? ` (database ${target.database})` : "";
      return { code: known.code, message: `SQL Server at ${address} refused the login for ${target.user}${database}: ${known.hint}` };
    }
    const other = errorNumbers.find((n) => Number.isInteger(n));
    return { code: "UNKNOWN", message: `SQL Server at ${address} refused the login for ${target.user}${other ? ` (error ${other})` : ""}.` };
  }
  if (!progress.authenticated) return { code: "PROTOCOL_ERROR", message: `${address} did not complete the SQL Server login; is it a SQL Server?` };
  const message = error instanceof Error ? error.message : String(error);
  return { code: "UNKNOWN", message: `The test query failed: ${message}` };
}
