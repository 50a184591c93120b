/**
 * MongoDB, through the official driver. The client is built from a URI assembled here from
 * the validated host and port alone (`mongodb://<host>:<port>/`, never `mongodb+srv`, so no
 * SRV or TXT lookup happens) plus an options object; the credentials, auth source, TLS and
 * replica set travel as options, so nothing the user typed reaches the URI parser as syntax.
 *
 * The driver opens its own sockets, so it gets a `lookup` function instead of DNS: the host
 * the user typed answers with the address the egress module checked, any other name is
 * refused. The name stays in the URI, so TLS verifies the certificate against it. The test
 * always connects directly: discovering replica set members would have the driver connect to
 * addresses the server names, and an IP literal never reaches `lookup`, so the egress module
 * could not check them first.
 *
 * The test connects, authenticates (SCRAM, when a user is set), runs `ping`, reads the version
 * from `buildInfo`, and lists the database's collections it may see (nameOnly,
 * authorizedCollections), which needs a login on a server with access control.
 */
import type { LookupAddress, LookupOptions } from "node:dns";
import { isIPv6 } from "node:net";
import type { MongoClientOptions, MongoServerError } from "mongodb";
import { DeadlineExceeded } from "./common/deadline";
import { endpointOf } from "./common/endpoint";
import { displayAddress, socketHost } from "./common/host";
import { errorCode, networkFailure, type Failure } from "./common/network-errors";
import { invalidConfig, type Probe, runProbe } from "./common/probe";
import { timeoutFailure, type Progress, formatDuration } from "./common/progress";
import { lazyDriver } from "./common/driver";
import type { CheckedAddress, ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec, TestContext, TestOutcome } from "./types";

const DEFAULT_PORT = 27017;
const DEFAULT_DATABASE = "admin";

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "mongo.example.com" },
  { name: "port", label: "Port", kind: "INTEGER", default: DEFAULT_PORT },
  {
    name: "schema",
    safeToChange: true,
    label: "Database",
    kind: "STRING",
    placeholder: DEFAULT_DATABASE,
    description: "The database the test opens; also where the user is defined unless Auth source says otherwise. Empty: admin.",
  },
  { name: "login", label: "User", kind: "STRING", description: "Empty: connect without authentication." },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true },
  {
    name: "extra.auth_source",
    label: "Auth source",
    kind: "STRING",
    placeholder: DEFAULT_DATABASE,
    description: "The database the user is defined in. Empty: the Database field, or admin.",
  },
  { name: "extra.tls", label: "TLS", kind: "BOOLEAN", default: false, description: "Connect over TLS, verifying the certificate against the host name." },
  {
    name: "extra.allow_insecure",
    label: "Allow invalid certificates",
    kind: "BOOLEAN",
    default: false,
    description: "With TLS, accept any certificate (Airflow's allow_insecure). Leave off unless the server has a self-signed certificate.",
  },
  { name: "extra.replica_set", label: "Replica set", kind: "STRING", placeholder: "rs0", description: "The replica set name the server must report." },
  {
    name: "extra.direct_connection",
    label: "Direct connection",
    kind: "BOOLEAN",
    default: true,
    description:
      "How clients should connect: on, to this host only; off, discovering the replica set's members from it. The test always talks to this host only, since the members' addresses come from the server and could not be checked against the egress policy first.",
  },
];

export const mongodbAdapter: ConnectionAdapter = {
  id: "mongodb",
  label: "MongoDB",
  summary: "official driver pinned to the checked address (no SRV): `ping`, `buildInfo`, list collections",
  airflow: { connType: "mongo" },
  defaultPort: DEFAULT_PORT,
  fields,
  validate: (settings) => {
    const target = mongoTarget(settings);
    return Array.isArray(target) ? target : [];
  },
  test: testMongo,
};

export interface MongoTarget {
  host: string;
  port: number;
  database: string;
  user: string | null;
  authSource: string;
  tls: boolean;
  allowInsecure: boolean;
  replicaSet: string | null;
  directConnection: boolean;
}

// MongoDB forbids these in database names; `/\. "$` and NUL.
const DATABASE = /^[^/\\. "$*<>:|?\u0000]{1,63}$/;
const REPLICA_SET = /^[A-Za-z0-9_.-]{1,128}$/;

/** The target with defaults applied, or every problem with the settings, by field. */
export function mongoTarget(settings: ConnectionSettings): MongoTarget | FieldProblem[] {
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const extra = settings.extra ?? {};
  const text = (value: unknown): string | null | undefined =>
    value === undefined || value === null || value === "" ? null : typeof value === "string" ? value : undefined;

  const endpoint = endpointOf(settings, DEFAULT_PORT);
  if (typeof endpoint === "string") problem(endpoint.startsWith("Port") ? "port" : "host", endpoint);

  const database = settings.schema || DEFAULT_DATABASE;
  if (!DATABASE.test(database)) problem("schema", "A database name has at most 63 characters and none of / \\ . \" $ * < > : | ? or spaces.");
  const authSource = text(extra.auth_source);
  if (authSource === undefined || (authSource !== null && !DATABASE.test(authSource))) {
    problem("extra.auth_source", "Auth source is a database name, e.g. admin.");
  }
  if (settings.password && !settings.login) problem("login", "User is required when a password is set.");

  const replicaSet = text(extra.replica_set);
  if (replicaSet === undefined || (replicaSet !== null && !REPLICA_SET.test(replicaSet))) {
    problem("extra.replica_set", "A replica set name is letters, digits, '_', '.' and '-'.");
  }
  const flags = { tls: extra.tls ?? false, allowInsecure: extra.allow_insecure ?? false, directConnection: extra.direct_connection ?? true };
  if (typeof flags.tls !== "boolean") problem("extra.tls", "TLS must be true or false.");
  if (typeof flags.allowInsecure !== "boolean") problem("extra.allow_insecure", "Allow invalid certificates must be true or false.");
  if (typeof flags.directConnection !== "boolean") problem("extra.direct_connection", "Direct connection must be true or false.");
  if (extra.srv === true || extra.srv === "true") {
    problem("extra.srv", "mongodb+srv (SRV lookups) is not supported: enter one host of the cluster and its port.");
  }

  if (problems.length > 0 || typeof endpoint === "string") return problems;
  return {
    ...endpoint,
    database,
    user: settings.login || null,
    authSource: authSource ?? (settings.schema || DEFAULT_DATABASE),
    tls: flags.tls as boolean,
    allowInsecure: flags.allowInsecure as boolean,
    replicaSet: replicaSet ?? null,
    directConnection: flags.directConnection as boolean,
  };
}

/** `mongodb://host:port/`: only validated parts, IPv6 in brackets; nothing else goes in the URI. */
export function mongoUri(target: MongoTarget): string {
  const host = socketHost(target.host);
  return `mongodb://${isIPv6(host) ? `[${host}]` : host}:${target.port}/`;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for the driver's sockets: the typed host gets the checked address, any other
 * name an error. Never a DNS query of its own.
 */
export function pinnedLookup(host: string, checked: CheckedAddress) {
  const typed = normalName(host);
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    if (normalName(hostname) !== typed) {
      callback(Object.assign(new Error("only the configured host may be connected to"), { code: "EGRESS_DENIED" }), "");
    } else if (options.all) {
      callback(null, [{ address: checked.address, family: checked.family }]);
    } else {
      callback(null, checked.address, checked.family);
    }
  };
}

function normalName(host: string): string {
  return socketHost(host).toLowerCase().replace(/\.$/, "");
}

export function mongoClientOptions(target: MongoTarget, password: string | null, timeoutMs: number, lookup: MongoClientOptions["lookup"]): MongoClientOptions {
  return {
    ...(target.user ? { auth: { username: target.user, password: password ?? "" }, authSource: target.authSource } : {}),
    tls: target.tls,
    ...(target.tls && target.allowInsecure ? { tlsAllowInvalidCertificates: true } : {}),
    ...(target.replicaSet ? { replicaSet: target.replicaSet } : {}),
    // Whatever the connection says for other clients: see the module comment.
    directConnection: true,
    lookup,
    // The driver's timers stay within the deadline, which always ends the test first.
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs + 1_000,
    maxPoolSize: 1,
    minPoolSize: 0,
    retryReads: false,
    retryWrites: false,
    appName: "patchbay connection test",
  };
}

type MongoProbeTarget = MongoTarget & { seen: Seen };

const mongodb = lazyDriver(() => import("mongodb"));

const probe: Probe<MongoProbeTarget, string> = {
  fields,
  target(settings) {
    const target = invalidConfig(mongoTarget(settings));
    if ("code" in target) return target;
    if (target.user && !settings.password) {
      return { code: "SECRET_REQUIRED", message: `A user is set but no password: ${target.user} cannot log in without one.` };
    }
    return { ...target, seen: { helloed: false, wrongSet: false, failure: undefined } };
  },
  host: (target) => target.host,
  async open(target, { ctx, settings, address, progress, closeWith }) {
    const { MongoClient } = await mongodb.load();
    const { seen } = target;
    const client = new MongoClient(mongoUri(target), mongoClientOptions(target, settings.password, ctx.timeoutMs, pinnedLookup(target.host, address)));
    const destroy = () => void client.close().catch(() => {});
    closeWith({ end: () => client.close(), destroy });
    client.on("serverHeartbeatSucceeded", (event) => {
      progress.connected = true;
      seen.helloed = true;
      // The driver would wait out server selection for a server of another set; stop at once.
      // (The reported name is only compared, never shown.)
      if (target.replicaSet && event.reply?.setName !== target.replicaSet && !seen.wrongSet) {
        seen.wrongSet = true;
        destroy();
      }
    });
    client.on("connectionCreated", () => (progress.connected = true));
    // The driver would retry a failed hello until server selection gives up; the first failure
    // already says what is wrong (refused, reset, not MongoDB), so the test stops there.
    client.on("serverHeartbeatFailed", (event) => {
      if (seen.failure !== undefined) return;
      seen.failure = event.failure;
      destroy();
    });
    await client.connect();
    const db = client.db(target.database);
    await db.command({ ping: 1 });
    progress.authenticated = true;
    const info = await db.admin().command({ buildInfo: 1 });
    await db.command({ listCollections: 1, nameOnly: true, authorizedCollections: true });
    return typeof info.version === "string" ? info.version : "";
  },
  describe: (target, version) => ({
    ok: true,
    message: `Connected to ${displayAddress(target.host, target.port)}${target.user ? ` as ${target.user}` : " without authentication"}, database ${target.database}.`,
    serverVersion: /^[0-9][0-9A-Za-z.+-]{0,40}$/.test(version) ? `MongoDB ${version}` : null,
  }),
  classify: (error, target, { progress, ctx }) => describeFailure(error, target, progress, target.seen, ctx.timeoutMs),
};

function testMongo(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

/** The error under a server selection failure: the one the driver kept for the server. */
function underlying(error: unknown): unknown {
  const servers = (error as { reason?: { servers?: Map<string, { error?: unknown }> } } | null)?.reason?.servers;
  if (servers instanceof Map) {
    for (const description of servers.values()) if (description.error) return description.error;
  }
  return error;
}

interface Seen {
  /** A hello was answered. */
  helloed: boolean;
  /** The server does not report the replica set name the connection expects. */
  wrongSet: boolean;
  /** Why the first hello failed, if it did. */
  failure: unknown;
}

function describeFailure(error: unknown, target: MongoTarget, progress: Progress, seen: Seen, timeoutMs: number): Failure {
  const address = displayAddress(target.host, target.port);
  if (seen.wrongSet) {
    return {
      code: "INVALID_CONFIG",
      message: `${address} answered, but not as a member of replica set ${target.replicaSet}. Check the replica set name, or leave it empty.`,
    };
  }
  const cause = seen.failure ?? underlying(error);
  const name = (cause as { name?: unknown } | null)?.name;

  // Before the driver was ever loaded, nothing can be one of its errors.
  const ServerError = mongodb.loaded()?.MongoServerError;
  if (ServerError && (cause instanceof ServerError || error instanceof ServerError)) {
    const serverError = (cause instanceof ServerError ? cause : error) as MongoServerError;
    // Code 18 AuthenticationFailed; its text is the server's and is not shown.
    if (serverError.code === 18) {
      return { code: "AUTH_FAILED", message: `${address} refused the login for ${target.user} (auth source ${target.authSource}). Check the user, password and auth source.` };
    }
    if (serverError.code === 13) {
      return target.user
        ? { code: "PERMISSION_DENIED", message: `${target.user} logged in but may not use database ${target.database}.` }
        : { code: "SECRET_REQUIRED", message: `${address} requires authentication; set a user and password.` };
    }
    if (progress.authenticated) return { code: "UNKNOWN", message: `The test command failed: ${serverError.message}` };
    return { code: "UNKNOWN", message: `${address} refused the connection with MongoDB error ${typeof serverError.code === "number" ? serverError.code : "?"}.` };
  }

  if (error instanceof DeadlineExceeded || name === "MongoNetworkTimeoutError") return mongoTimeout(address, progress, timeoutMs);
  const network = networkFailure(cause, target);
  if (network) {
    return network.code === "PROTOCOL_ERROR" && !progress.authenticated
      ? { code: "PROTOCOL_ERROR", message: `${address} closed the connection before answering like MongoDB. Is it a MongoDB server?` }
      : network;
  }
  if (name === "MongoServerSelectionError" || (error as { name?: unknown } | null)?.name === "MongoServerSelectionError") {
    return mongoTimeout(address, progress, timeoutMs);
  }
  const code = errorCode(cause);
  if (!progress.authenticated) {
    return { code: "PROTOCOL_ERROR", message: `${address} did not answer like MongoDB${code && /^[A-Z_]+$/.test(code) ? ` (${code})` : ""}.` };
  }
  return { code: "UNKNOWN", message: `The test command failed${code ? ` (${code})` : ""}.` };
}

/**
 * The driver's sockets cannot be watched connecting, only its completed handshakes, so before
 * one completes a timeout cannot say whether the TCP connection was accepted.
 */
function mongoTimeout(address: string, progress: Progress, timeoutMs: number): Failure {
  if (progress.connected) return timeoutFailure(address, progress, timeoutMs, "MongoDB");
  return {
    code: "TIMEOUT",
    message: `${address} did not complete a MongoDB handshake within ${formatDuration(timeoutMs)}: nothing accepted the connection, or what did never answered like MongoDB. Check the host, port and firewall.`,
  };
}
