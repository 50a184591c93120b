/**
 * Redis (and servers speaking its protocol, such as Valkey), through ioredis. The client is
 * pinned to the checked address, never retries, reconnects or queues, and sends nothing on
 * its own (no HELLO, CLIENT SETINFO or ready check): the test itself sends AUTH, SELECT, PING
 * and INFO server, in that order, and reads the version from INFO. Error replies before AUTH
 * succeeds come from whoever listens on the port, so only their leading code word is read.
 */
import type { Redis, RedisOptions } from "ioredis";
import { resolveChecked, tlsIdentity } from "./common/egress";
import { DeadlineExceeded } from "./common/deadline";
import { endpointOf, type Endpoint } from "./common/endpoint";
import { displayAddress } from "./common/host";
import { networkFailure, type Failure } from "./common/network-errors";
import { invalidConfig, type Probe, runProbe } from "./common/probe";
import { timeoutFailure, type Progress, formatDuration } from "./common/progress";
import { lazyDriver } from "./common/driver";
import type { CheckedAddress, ConnectionAdapter, ConnectionSettings, FieldSpec, TestContext, TestOutcome } from "./types";

const DEFAULT_PORT = 6379;
/** Database numbers Redis accepts in SELECT; a default server has 16 (0-15). */
const MAX_DATABASE = 2 ** 31 - 1;

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "redis.example.com" },
  { name: "port", label: "Port", kind: "INTEGER", default: DEFAULT_PORT },
  {
    name: "login",
    label: "User",
    kind: "STRING",
    placeholder: "default",
    description: "An ACL user (Redis 6 and later). Leave empty to authenticate with the password alone (requirepass).",
  },
  {
    name: "password",
    label: "Password",
    kind: "PASSWORD",
    secret: true,
    description: "Leave empty for a server without authentication.",
  },
  {
    name: "extra.db",
    safeToChange: true,
    label: "Database",
    kind: "INTEGER",
    default: 0,
    placeholder: "0",
    description: "The database number to SELECT, 0-15 on a default server. Same key as Airflow's Redis connection.",
  },
  { name: "extra.tls", label: "TLS", kind: "BOOLEAN", default: false, description: "Connect over TLS (rediss://)." },
  {
    name: "extra.tls_verify",
    label: "Verify TLS certificate",
    kind: "BOOLEAN",
    default: true,
    description: "Check the server's certificate against the authorities trusted here and the host name. Turn off only for servers with a self-signed certificate.",
  },
];

export const redisAdapter: ConnectionAdapter = {
  id: "redis",
  label: "Redis",
  summary: "AUTH (password or ACL user), SELECT, PING, INFO",
  defaultPort: DEFAULT_PORT,
  fields,
  validate(settings) {
    const problem = databaseProblem(settings.extra.db);
    return problem ? [{ field: "extra.db", message: problem }] : [];
  },
  test: testRedis,
};

function databaseProblem(db: unknown): string | null {
  if (db === undefined || db === null) return null;
  if (typeof db !== "number" || !Number.isInteger(db) || db < 0 || db > MAX_DATABASE) {
    return "Database must be a whole number from 0 (a default server has 0-15).";
  }
  return null;
}

export interface RedisTarget extends Endpoint {
  user: string | null;
  db: number;
  tls: boolean;
  verify: boolean;
}

/** What the adapter connects to, defaults applied, or why the settings cannot be used. */
export function redisTarget(settings: ConnectionSettings): RedisTarget | string {
  const endpoint = endpointOf(settings, DEFAULT_PORT);
  if (typeof endpoint === "string") return endpoint;
  const dbProblem = databaseProblem(settings.extra.db);
  if (dbProblem) return dbProblem;
  const tls = settings.extra.tls ?? false;
  const verify = settings.extra.tls_verify ?? true;
  if (typeof tls !== "boolean") return "TLS must be true or false.";
  if (typeof verify !== "boolean") return "Verify TLS certificate must be true or false.";
  return { ...endpoint, user: settings.login || null, db: (settings.extra.db as number | undefined) ?? 0, tls, verify };
}

interface RedisSession {
  client?: Redis;
  step: Step["name"];
  // ioredis rejects with a bare "Connection is closed." and reports why only as an event.
  socketError?: unknown;
}

/** The probe's target: what to connect to, and (fresh for each test) what happened on the way, for classify(). */
type RedisProbeTarget = RedisTarget & { seen: RedisSession };

const ioredis = lazyDriver(() => import("ioredis"));

const probe: Probe<RedisProbeTarget, string | null> = {
  fields,
  target(settings) {
    const target = invalidConfig(redisTarget(settings));
    if ("code" in target) return target;
    if (target.user && !settings.password) {
      const address = displayAddress(target.host, target.port);
      return { code: "SECRET_REQUIRED", message: `A user is set but no password: ${address} cannot be logged in to without one.` };
    }
    return { ...target, seen: { step: "connect" } };
  },
  async open(target, { ctx, settings, progress, closeWith }) {
    const { Redis } = await ioredis.load();
    const seen = target.seen;
    closeWith({
      end: async () => void (await seen.client?.quit()),
      destroy: () => {
        seen.client?.disconnect();
        seen.client?.stream?.destroy();
      },
    });
    const checked = await resolveChecked(ctx, target.host);
    const client = (seen.client = new Redis(clientOptions(target, checked, ctx.timeoutMs)));
    client.on("error", (error) => (seen.socketError ??= error));
    client.once("connect", () => (progress.connected = true));
    await client.connect();
    if (settings.password) {
      seen.step = "auth";
      await client.call("AUTH", ...(target.user ? [target.user, settings.password] : [settings.password]));
      progress.authenticated = true;
    }
    seen.step = "select";
    await client.call("SELECT", String(target.db));
    progress.authenticated = true;
    seen.step = "ping";
    await client.call("PING").catch(ignoreNoPermission);
    seen.step = "info";
    const info = await client.call("INFO", "server").catch(ignoreNoPermission);
    return typeof info === "string" ? serverVersion(info) : null;
  },
  describe(target, version, { settings }) {
    const who = target.user ? `as ${target.user}` : settings.password ? "with the password" : "without authentication";
    return {
      ok: true,
      message: `Connected to ${displayAddress(target.host, target.port)} ${who}${target.tls ? " over TLS" : ""}, database ${target.db}.`,
      serverVersion: version,
    };
  },
  classify(error, target, { progress, settings, ctx }) {
    const { seen } = target;
    const cause = !(error instanceof DeadlineExceeded) && replyCode(error) === null && seen.socketError ? seen.socketError : error;
    return describeFailure(cause, { target, progress, step: seen.step, password: settings.password, timeoutMs: ctx.timeoutMs });
  },
};

function testRedis(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

function clientOptions(target: RedisTarget, checked: CheckedAddress, timeoutMs: number): RedisOptions {
  // The driver's own timers are left longer than the deadline, which always ends the test first.
  const driverTimeout = timeoutMs + 1_000;
  const identity = tlsIdentity(target.host, checked);
  return {
    // The checked address; the name only goes into TLS (SNI and certificate check), where
    // `servername` wins over `host` and never causes a lookup.
    host: checked.address,
    family: checked.family,
    port: target.port,
    tls: target.tls
      ? { ...(identity.servername ? { servername: identity.servername } : {}), rejectUnauthorized: target.verify, minVersion: "TLSv1.2" }
      : undefined,
    lazyConnect: true,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    // RESP2 and nothing sent on connect: HELLO and CLIENT SETINFO would talk before AUTH.
    protocol: 2,
    disableClientInfo: true,
    connectTimeout: driverTimeout,
    commandTimeout: driverTimeout,
    disconnectTimeout: 0,
    keepAlive: 0,
  };
}

interface Step {
  name: "connect" | "auth" | "select" | "ping" | "info";
}

/** A user whose ACL forbids PING or INFO has still proved its password. */
function ignoreNoPermission(error: unknown): null {
  if (replyCode(error) === "NOPERM") return null;
  throw error;
}

/** "Redis 7.0.15" (or "Valkey 8.0.1") from INFO server. */
function serverVersion(info: string): string | null {
  const field = (name: string) => new RegExp(`^${name}:([^\\r\\n]{1,40})`, "m").exec(info)?.[1]?.trim();
  const valkey = field("valkey_version");
  if (valkey && field("server_name") === "valkey") return `Valkey ${valkey}`;
  const redis = field("redis_version");
  return redis ? `Redis ${redis}` : null;
}

/** The first word of a Redis error reply (WRONGPASS, NOAUTH, ERR ...), or null. */
function replyCode(error: unknown): string | null {
  if (!(error instanceof Error) || error.name !== "ReplyError") return null;
  return /^[A-Z]{2,20}\b/.exec(error.message)?.[0] ?? null;
}

interface Attempt {
  target: RedisTarget;
  progress: Progress;
  step: Step["name"];
  password: string | null;
  timeoutMs: number;
}

function describeFailure(error: unknown, { target, progress, step, password, timeoutMs }: Attempt): Failure {
  const address = displayAddress(target.host, target.port);
  if (error instanceof DeadlineExceeded || (error instanceof Error && error.message === "Command timed out")) {
    if (target.tls && !progress.connected) {
      // ioredis reports a connection only after the TLS handshake; a plain-text server never
      // answers a ClientHello, so this is the likeliest reason.
      return {
        code: "TIMEOUT",
        message: `${address} did not complete a TLS handshake within ${formatDuration(timeoutMs)}. Check the host, port and firewall, and that the server speaks TLS on this port.`,
      };
    }
    return timeoutFailure(address, progress, timeoutMs, "Redis");
  }
  const network = networkFailure(error, target);
  if (network) return network;

  const code = replyCode(error);
  const message = error instanceof Error ? error.message : "";
  if (code === null) {
    return /closed/i.test(message) || step === "connect"
      ? { code: "PROTOCOL_ERROR", message: `${address} closed the connection before answering like a Redis server.` }
      : { code: "PROTOCOL_ERROR", message: `${address} did not answer like a Redis server.` };
  }
  const who = target.user ? `user ${target.user}` : "the password";
  switch (code) {
    case "WRONGPASS":
      return { code: "AUTH_FAILED", message: `${address} rejected ${who}. Check the user and password.` };
    case "NOAUTH":
      return password
        ? { code: "AUTH_FAILED", message: `${address} did not accept the login.` }
        : { code: "AUTH_FAILED", message: `${address} requires a password, and this connection has none.` };
    case "NOPERM":
      return {
        code: "PERMISSION_DENIED",
        message: `${target.user ? `User ${target.user}` : "The default user"} may not select database ${target.db} on ${address}.`,
      };
    case "DENIED":
      return {
        code: "PERMISSION_DENIED",
        message: `${address} is in protected mode and accepts no connections from other hosts without a password.`,
      };
    case "LOADING":
      return { code: "UNKNOWN", message: `${address} is still loading its data set. Try again shortly.` };
  }
  if (step === "auth") {
    // Older servers answer a wrong password with "ERR invalid password"; a server without a
    // password answers AUTH with an ERR too. The reply's text is never shown.
    return /no password is set|without any password configured/i.test(message)
      ? { code: "AUTH_FAILED", message: `${address} has no password set, so it refuses AUTH. Remove the password (and user) from this connection.` }
      : { code: "AUTH_FAILED", message: `${address} rejected ${who}. Check the user and password.` };
  }
  if (step === "select") {
    if (/out of range/i.test(message)) {
      return { code: "NOT_FOUND", message: `${address} has no database ${target.db}. A default server has databases 0-15.` };
    }
    if (/cluster mode/i.test(message)) {
      return { code: "INVALID_CONFIG", message: `${address} runs in cluster mode, which has only database 0.` };
    }
  }
  return { code: "UNKNOWN", message: `The Redis test of ${address} failed at ${step.toUpperCase()} (${code}).` };
}
