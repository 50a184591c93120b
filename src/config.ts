/**
 * Every setting Patchbay reads from its environment, with its default. The README lists the
 * same variables; keep the two in step.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { EgressMode } from "./net/egress";

export interface Config {
  /** HOST, default 127.0.0.1. */
  host: string;
  /** PORT, default 4000. 0 picks a free port. */
  port: number;
  /** DATABASE_URL; unset runs an embedded PostgreSQL in the data directory. */
  databaseUrl: string | undefined;
  /** PATCHBAY_DATA_DIR, default ./.patchbay: embedded database and generated master key. */
  dataDir: string;
  /** PATCHBAY_MASTER_KEY: base64 of 32 bytes. Required when production is true. */
  masterKey: string | undefined;
  /** PATCHBAY_MASTER_KEY_PREVIOUS: the master key being rotated away from (README, Rotating the master key). */
  masterKeyPrevious: string | undefined;
  /** NODE_ENV=production. */
  production: boolean;
  /** PATCHBAY_TEST_TIMEOUT_MS, default 10000: the deadline of one connection test. */
  testTimeoutMs: number;
  /** PATCHBAY_MAX_CONCURRENT_TESTS, default 16: tests running at once in this process. */
  maxConcurrentTests: number;
  /** PATCHBAY_MAX_CONCURRENT_TESTS_PER_WORKSPACE, default 4: so one team cannot starve the rest. */
  maxConcurrentTestsPerWorkspace: number;
  /** PATCHBAY_MAX_CONCURRENT_TESTS_PER_USER, default 4: across all the person's workspaces (a token counts as its creator). */
  maxConcurrentTestsPerUser: number;
  /** PATCHBAY_SESSION_TTL_SECONDS, default 43200 (12 hours). */
  sessionTtlSeconds: number;
  /** PATCHBAY_CONNECTION_VERSIONS_KEPT, default 100: the newest versions each connection keeps. */
  connectionVersionsKept: number;
  /** PATCHBAY_SCHEDULER_TICK_MS, default 30000: how often each process looks for due scheduled tests. */
  schedulerTickMs: number;
  /** Webhook deliveries (src/services/health/webhook-delivery.ts). */
  webhooks: {
    /** PATCHBAY_WEBHOOK_TICK_MS, default 1000: how often each process looks for due deliveries. */
    tickMs: number;
    /** PATCHBAY_WEBHOOK_ATTEMPTS, default 8: attempts per change and webhook (1 s × 4^n apart, at most an hour). */
    maxAttempts: number;
    /** PATCHBAY_WEBHOOK_DELIVERIES_KEPT, default 100: attempt rows kept per webhook. */
    keptPerWebhook: number;
    /** PATCHBAY_WEBHOOK_DELIVERY_DAYS, default 30: attempt rows older than this are deleted. */
    keptDays: number;
  };
  /** Staged imports (src/services/connections/staged-import.ts). */
  stagedImports: {
    /** PATCHBAY_IMPORT_SESSION_TTL_SECONDS, default 3600: how long a session may be staged and committed before it expires. */
    ttlSeconds: number;
    /** PATCHBAY_IMPORT_MAX_CONNECTIONS, default 10000: connections one session may hold. */
    maxConnections: number;
    /** PATCHBAY_IMPORT_MAX_BYTES, default 16 MiB: staged content one session may hold. */
    maxBytes: number;
    /** PATCHBAY_IMPORT_SESSIONS_PER_WORKSPACE, default 5: sessions open at once in one workspace. */
    sessionsPerWorkspace: number;
    /** PATCHBAY_IMPORT_COMMIT_TIMEOUT_MS, default 120000: the deadline of a commit's transaction. */
    commitTimeoutMs: number;
  };
  /** PATCHBAY_KEY_CACHE_SECONDS, default 300: how long unwrapped data keys stay in memory. */
  keyCacheSeconds: number;
  /**
   * PATCHBAY_TRUST_PROXY, default 0: how many reverse proxies in front of Patchbay append to
   * X-Forwarded-For; the client address is that many entries from the right.
   */
  trustedProxies: number;
  /** Data key rotation (src/crypto/reencryption.ts). */
  keyRotation: {
    /** PATCHBAY_KEY_REENCRYPT_BATCH, default 100: sealed values re-encrypted per transaction. */
    batchSize: number;
    /** PATCHBAY_KEY_DESTROY_DELAY_SECONDS, default 60: how long an old key version outlives its last use, for requests in flight. */
    destroyDelaySeconds: number;
  };
  /**
   * PATCHBAY_CACHE_SECONDS, default 30: how long verified API tokens, sessions and roles stay
   * in memory. Changes reach every process at once through LISTEN/NOTIFY; this lifetime only
   * bounds what a lost notification could leave behind.
   */
  cacheSeconds: number;
  /**
   * PATCHBAY_LISTEN_DATABASE_URL: a direct connection for LISTEN (cache invalidation), when
   * DATABASE_URL goes through a transaction pooler such as PgBouncer; default DATABASE_URL.
   */
  listenDatabaseUrl: string | undefined;
  /** PATCHBAY_LOG_LEVEL: debug, info (default), warn, error. */
  logLevel: LogLevel;
  /** PATCHBAY_WORKERS: server processes on one port (workers.ts); `auto` is one per core. Default 1. */
  workers: number;
  /** PATCHBAY_EGRESS_MODE: `default` denies link-local and metadata addresses; `strict` also loopback and private ranges. */
  egressMode: EgressMode;
  /** PATCHBAY_EGRESS_ALLOW: comma-separated CIDRs allowed even where the mode denies them. */
  egressAllow: string[];
  /** PATCHBAY_EGRESS_DENY: comma-separated CIDRs denied in every mode. */
  egressDeny: string[];
  /** PATCHBAY_SQLITE_ROOT: the only directory SQLite connections may open files in; unset disables SQLite tests. */
  sqliteRoot: string | null;
  /** PATCHBAY_SIGNUP: open (development default), invite (production default), closed. */
  signUp: SignUpMode;
  /** Deadlines of the database pool (db/pool.ts). */
  database: {
    /** PATCHBAY_DB_CONNECT_TIMEOUT_MS, default 3000: waiting for a pooled connection, or opening one. */
    connectTimeoutMs: number;
    /** PATCHBAY_DB_STATEMENT_TIMEOUT_MS, default 5000: one SQL statement. */
    statementTimeoutMs: number;
    /**
     * PATCHBAY_MIGRATION_TIMEOUT_MS, default 600000: start-up migrations, including the wait for
     * another process that holds the migration lock. Longer than a request's deadline because a
     * migration may rewrite a large table; still bounded, so a stuck database fails the start.
     */
    migrationTimeoutMs: number;
    /** PATCHBAY_DB_PREPARED_STATEMENTS, default 1: the hot paths' statements are named (db/sql.ts). */
    preparedStatements: boolean;
  };
  /** Limits on what one caller can make the service spend (README, Security). */
  limits: AbuseLimits;
  /** What one GraphQL request may ask for (README, Security). */
  graphqlLimits: GraphQLLimits;
  /** PATCHBAY_GRAPHQL_INTROSPECTION: 1 or 0; default on in development, off in production. Off also hides "Did you mean" suggestions. */
  graphqlIntrospection: boolean;
  /** PATCHBAY_WEB_DIR: the built web interface to serve at /; unset: this checkout's web/dist. */
  webDir: string | null;
  /** Who may read Prometheus metrics, and where (README, Metrics). */
  metrics: MetricsAccess;
}

export interface MetricsAccess {
  /** PATCHBAY_METRICS_TOKEN: when set, /metrics requires `Authorization: Bearer <it>`. */
  token: string | null;
  /** PATCHBAY_METRICS_LISTEN (host:port): serve /metrics there only, on a listener of its own. */
  listen: { host: string; port: number } | null;
  /** Whether the API's own port answers /metrics: without PATCHBAY_METRICS_LISTEN, unless production has no token. */
  onMainPort: boolean;
}

/** Bounds on one GraphQL request, checked before any resolver runs. */
export interface GraphQLLimits {
  /** PATCHBAY_GRAPHQL_MAX_DEPTH, default 10: nesting of selections. */
  maxDepth: number;
  /** PATCHBAY_GRAPHQL_MAX_ALIASES, default 15: aliases in one operation. */
  maxAliases: number;
  /** PATCHBAY_GRAPHQL_MAX_DIRECTIVES, default 10: directives in one operation. */
  maxDirectives: number;
  /** PATCHBAY_GRAPHQL_MAX_TOKENS, default 1000: lexical tokens of the document. */
  maxTokens: number;
  /** PATCHBAY_GRAPHQL_MAX_COST, default 5000: objects the operation may fetch; a field with `first` counts its page size. */
  maxCost: number;
  /** PATCHBAY_GRAPHQL_MAX_RESOLVES, default 10: resolveConnection fields per request. */
  maxResolves: number;
  /** PATCHBAY_GRAPHQL_MAX_TESTS, default 3: connection tests per request. */
  maxTests: number;
  /** PATCHBAY_GRAPHQL_MAX_PASSWORD_CHECKS, default 1: signUp, logIn and changePassword per request. */
  maxPasswordChecks: number;
  /** PATCHBAY_GRAPHQL_MAX_BULK_OPERATIONS, default 1: imports, exports, upserts and other whole-workspace operations per request. */
  maxBulkOperations: number;
}

export type SignUpMode = "open" | "invite" | "closed";

export interface AbuseLimits {
  /** PATCHBAY_LOGIN_WINDOW_SECONDS, default 900: the window the log-in counts below cover. */
  loginWindowSeconds: number;
  /** PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, default 10. */
  loginFailuresPerAccountAndAddress: number;
  /** PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT, default 30: from all addresses together. */
  loginFailuresPerAccount: number;
  /** PATCHBAY_LOGIN_FAILURES_PER_ADDRESS, default 60: against all accounts together. */
  loginFailuresPerAddress: number;
  /** PATCHBAY_PASSWORD_HASH_CONCURRENCY, default 2: password hashes computed at once in a process. */
  passwordHashConcurrency: number;
  /** PATCHBAY_PASSWORD_HASH_QUEUE, default 8: hashes waiting for those; beyond, RATE_LIMITED at once. */
  passwordHashQueue: number;
  /** PATCHBAY_PASSWORD_HASH_PER_ADDRESS, default 4: of running and waiting hashes, at most this many for one address. */
  passwordHashPerAddress: number;
  /** PATCHBAY_SIGNUPS_PER_ADDRESS_PER_HOUR, default 10. */
  signUpsPerAddressPerHour: number;
  /** PATCHBAY_WORKSPACE_CREATIONS_PER_USER_PER_HOUR, default 10. */
  workspaceCreationsPerUserPerHour: number;
  /** PATCHBAY_MAX_WORKSPACES_PER_USER, default 50: workspaces one person may own. */
  maxWorkspacesPerUser: number;
  /** PATCHBAY_INVITATIONS_PER_WORKSPACE_PER_HOUR, default 50: invitations one workspace sends. */
  invitationsPerWorkspacePerHour: number;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  return {
    host: env.HOST || "127.0.0.1",
    port: integer(env, "PORT", 4000, 0, 65535),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: resolve(env.PATCHBAY_DATA_DIR || ".patchbay"),
    masterKey: env.PATCHBAY_MASTER_KEY || undefined,
    masterKeyPrevious: env.PATCHBAY_MASTER_KEY_PREVIOUS || undefined,
    production: env.NODE_ENV === "production",
    testTimeoutMs: integer(env, "PATCHBAY_TEST_TIMEOUT_MS", 10_000, 100, 300_000),
    maxConcurrentTests: integer(env, "PATCHBAY_MAX_CONCURRENT_TESTS", 16, 1, 10_000),
    maxConcurrentTestsPerWorkspace: integer(env, "PATCHBAY_MAX_CONCURRENT_TESTS_PER_WORKSPACE", 4, 1, 10_000),
    maxConcurrentTestsPerUser: integer(env, "PATCHBAY_MAX_CONCURRENT_TESTS_PER_USER", 4, 1, 10_000),
    sessionTtlSeconds: integer(env, "PATCHBAY_SESSION_TTL_SECONDS", 43_200, 60, 31_536_000),
    keyCacheSeconds: integer(env, "PATCHBAY_KEY_CACHE_SECONDS", 300, 0, 86_400),
    connectionVersionsKept: integer(env, "PATCHBAY_CONNECTION_VERSIONS_KEPT", 100, 1, 100_000),
    keyRotation: {
      batchSize: integer(env, "PATCHBAY_KEY_REENCRYPT_BATCH", 100, 1, 10_000),
      destroyDelaySeconds: integer(env, "PATCHBAY_KEY_DESTROY_DELAY_SECONDS", 60, 0, 86_400),
    },
    schedulerTickMs: integer(env, "PATCHBAY_SCHEDULER_TICK_MS", 30_000, 100, 3_600_000),
    webhooks: {
      tickMs: integer(env, "PATCHBAY_WEBHOOK_TICK_MS", 1_000, 100, 60_000),
      maxAttempts: integer(env, "PATCHBAY_WEBHOOK_ATTEMPTS", 8, 1, 20),
      keptPerWebhook: integer(env, "PATCHBAY_WEBHOOK_DELIVERIES_KEPT", 100, 1, 100_000),
      keptDays: integer(env, "PATCHBAY_WEBHOOK_DELIVERY_DAYS", 30, 1, 3_650),
    },
    stagedImports: {
      ttlSeconds: integer(env, "PATCHBAY_IMPORT_SESSION_TTL_SECONDS", 3600, 1, 86_400),
      maxConnections: integer(env, "PATCHBAY_IMPORT_MAX_CONNECTIONS", 10_000, 1, 100_000),
      maxBytes: integer(env, "PATCHBAY_IMPORT_MAX_BYTES", 16 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      sessionsPerWorkspace: integer(env, "PATCHBAY_IMPORT_SESSIONS_PER_WORKSPACE", 5, 1, 100),
      commitTimeoutMs: integer(env, "PATCHBAY_IMPORT_COMMIT_TIMEOUT_MS", 120_000, 1000, 3_600_000),
    },
    trustedProxies: env.PATCHBAY_TRUST_PROXY === "true" ? 1 : integer(env, "PATCHBAY_TRUST_PROXY", 0, 0, 10),
    cacheSeconds: integer(env, "PATCHBAY_CACHE_SECONDS", 30, 0, 3_600),
    listenDatabaseUrl: env.PATCHBAY_LISTEN_DATABASE_URL || undefined,
    logLevel: logLevel(env.PATCHBAY_LOG_LEVEL),
    workers: env.PATCHBAY_WORKERS === "auto" ? availableParallelism() : integer(env, "PATCHBAY_WORKERS", 1, 1, 64),
    egressMode: egressMode(env.PATCHBAY_EGRESS_MODE),
    egressAllow: list(env.PATCHBAY_EGRESS_ALLOW),
    egressDeny: list(env.PATCHBAY_EGRESS_DENY),
    sqliteRoot: env.PATCHBAY_SQLITE_ROOT ? resolve(env.PATCHBAY_SQLITE_ROOT) : null,
    signUp: signUpMode(env.PATCHBAY_SIGNUP, env.NODE_ENV === "production"),
    database: {
      connectTimeoutMs: integer(env, "PATCHBAY_DB_CONNECT_TIMEOUT_MS", 3_000, 100, 600_000),
      statementTimeoutMs: integer(env, "PATCHBAY_DB_STATEMENT_TIMEOUT_MS", 5_000, 100, 600_000),
      migrationTimeoutMs: integer(env, "PATCHBAY_MIGRATION_TIMEOUT_MS", 600_000, 1_000, 86_400_000),
      preparedStatements: flag(env, "PATCHBAY_DB_PREPARED_STATEMENTS", true),
    },
    limits: {
      loginWindowSeconds: integer(env, "PATCHBAY_LOGIN_WINDOW_SECONDS", 900, 1, 86_400),
      loginFailuresPerAccountAndAddress: integer(env, "PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS", 10, 1, 1_000_000),
      loginFailuresPerAccount: integer(env, "PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT", 30, 1, 1_000_000),
      loginFailuresPerAddress: integer(env, "PATCHBAY_LOGIN_FAILURES_PER_ADDRESS", 60, 1, 1_000_000),
      passwordHashConcurrency: integer(env, "PATCHBAY_PASSWORD_HASH_CONCURRENCY", 2, 1, 64),
      passwordHashQueue: integer(env, "PATCHBAY_PASSWORD_HASH_QUEUE", 8, 0, 10_000),
      passwordHashPerAddress: integer(env, "PATCHBAY_PASSWORD_HASH_PER_ADDRESS", 4, 1, 10_000),
      signUpsPerAddressPerHour: integer(env, "PATCHBAY_SIGNUPS_PER_ADDRESS_PER_HOUR", 10, 1, 1_000_000),
      workspaceCreationsPerUserPerHour: integer(env, "PATCHBAY_WORKSPACE_CREATIONS_PER_USER_PER_HOUR", 10, 1, 1_000_000),
      maxWorkspacesPerUser: integer(env, "PATCHBAY_MAX_WORKSPACES_PER_USER", 50, 1, 1_000_000),
      invitationsPerWorkspacePerHour: integer(env, "PATCHBAY_INVITATIONS_PER_WORKSPACE_PER_HOUR", 50, 1, 1_000_000),
    },
    graphqlLimits: {
      maxDepth: integer(env, "PATCHBAY_GRAPHQL_MAX_DEPTH", 10, 2, 100),
      maxAliases: integer(env, "PATCHBAY_GRAPHQL_MAX_ALIASES", 15, 0, 1_000),
      maxDirectives: integer(env, "PATCHBAY_GRAPHQL_MAX_DIRECTIVES", 10, 0, 1_000),
      maxTokens: integer(env, "PATCHBAY_GRAPHQL_MAX_TOKENS", 1_000, 100, 100_000),
      maxCost: integer(env, "PATCHBAY_GRAPHQL_MAX_COST", 5_000, 10, 10_000_000),
      maxResolves: integer(env, "PATCHBAY_GRAPHQL_MAX_RESOLVES", 10, 1, 1_000),
      maxTests: integer(env, "PATCHBAY_GRAPHQL_MAX_TESTS", 3, 1, 1_000),
      maxPasswordChecks: integer(env, "PATCHBAY_GRAPHQL_MAX_PASSWORD_CHECKS", 1, 1, 100),
      maxBulkOperations: integer(env, "PATCHBAY_GRAPHQL_MAX_BULK_OPERATIONS", 1, 1, 100),
    },
    graphqlIntrospection: flag(env, "PATCHBAY_GRAPHQL_INTROSPECTION", env.NODE_ENV !== "production"),
    webDir: env.PATCHBAY_WEB_DIR ? resolve(env.PATCHBAY_WEB_DIR) : null,
    metrics: metricsAccess(env),
  };
}

function metricsAccess(env: Env): MetricsAccess {
  const token = env.PATCHBAY_METRICS_TOKEN || null;
  if (token !== null && (token.length < 16 || /\s/.test(token))) {
    throw new ConfigError("PATCHBAY_METRICS_TOKEN must be at least 16 characters without spaces (e.g. openssl rand -hex 24).");
  }
  const raw = env.PATCHBAY_METRICS_LISTEN || null;
  let listen: MetricsAccess["listen"] = null;
  if (raw !== null) {
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(raw);
    const port = match ? Number(match[3]) : NaN;
    if (!match || port > 65535) throw new ConfigError("PATCHBAY_METRICS_LISTEN must be host:port, e.g. 127.0.0.1:9464 or [::1]:9464.");
    listen = { host: match[1] ?? match[2], port };
  }
  // In production the API's port is public; metrics there need a token.
  const onMainPort = listen === null && (token !== null || env.NODE_ENV !== "production");
  return { token, listen, onMainPort };
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (raw === "1" || raw === "true") return true;
  if (raw === "0" || raw === "false") return false;
  throw new ConfigError(`${name} must be 1 or 0.`);
}

function signUpMode(raw: string | undefined, production: boolean): SignUpMode {
  if (raw === undefined || raw === "") return production ? "invite" : "open";
  if (raw === "open" || raw === "invite" || raw === "closed") return raw;
  throw new ConfigError("PATCHBAY_SIGNUP must be open, invite or closed.");
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

function logLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === "") return "info";
  if (raw === "debug" || raw === "info" || raw === "warn" || raw === "error") return raw;
  throw new ConfigError("PATCHBAY_LOG_LEVEL must be debug, info, warn or error.");
}

function egressMode(raw: string | undefined): EgressMode {
  if (raw === undefined || raw === "" || raw === "default") return "default";
  if (raw === "strict") return "strict";
  throw new ConfigError("PATCHBAY_EGRESS_MODE must be default or strict.");
}

function list(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}
