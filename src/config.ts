/**
 * Every setting Patchbay reads from its environment, with its default. The README lists the
 * same variables; keep the two in step.
 */
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
  /** NODE_ENV=production. */
  production: boolean;
  /** PATCHBAY_TEST_TIMEOUT_MS, default 10000: the deadline of one connection test. */
  testTimeoutMs: number;
  /** PATCHBAY_MAX_CONCURRENT_TESTS, default 16: tests running at once in this process. */
  maxConcurrentTests: number;
  /** PATCHBAY_MAX_CONCURRENT_TESTS_PER_WORKSPACE, default 4: so one team cannot starve the rest. */
  maxConcurrentTestsPerWorkspace: number;
  /** PATCHBAY_SESSION_TTL_SECONDS, default 43200 (12 hours). */
  sessionTtlSeconds: number;
  /** PATCHBAY_KEY_CACHE_SECONDS, default 300: how long unwrapped data keys stay in memory. */
  keyCacheSeconds: number;
  /** PATCHBAY_TRUST_PROXY=1: take the client address from X-Forwarded-For. */
  trustProxy: boolean;
  /** PATCHBAY_LOG_LEVEL: debug, info (default), warn, error. */
  logLevel: LogLevel;
  /** PATCHBAY_EGRESS_MODE: `default` denies link-local and metadata addresses; `strict` also loopback and private ranges. */
  egressMode: EgressMode;
  /** PATCHBAY_EGRESS_ALLOW: comma-separated CIDRs allowed even where the mode denies them. */
  egressAllow: string[];
  /** PATCHBAY_EGRESS_DENY: comma-separated CIDRs denied in every mode. */
  egressDeny: string[];
  /** PATCHBAY_SQLITE_ROOT: the only directory SQLite connections may open files in; unset disables SQLite tests. */
  sqliteRoot: string | null;
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
    production: env.NODE_ENV === "production",
    testTimeoutMs: integer(env, "PATCHBAY_TEST_TIMEOUT_MS", 10_000, 100, 300_000),
    maxConcurrentTests: integer(env, "PATCHBAY_MAX_CONCURRENT_TESTS", 16, 1, 10_000),
    maxConcurrentTestsPerWorkspace: integer(env, "PATCHBAY_MAX_CONCURRENT_TESTS_PER_WORKSPACE", 4, 1, 10_000),
    sessionTtlSeconds: integer(env, "PATCHBAY_SESSION_TTL_SECONDS", 43_200, 60, 31_536_000),
    keyCacheSeconds: integer(env, "PATCHBAY_KEY_CACHE_SECONDS", 300, 0, 86_400),
    trustProxy: env.PATCHBAY_TRUST_PROXY === "1" || env.PATCHBAY_TRUST_PROXY === "true",
    logLevel: logLevel(env.PATCHBAY_LOG_LEVEL),
    egressMode: egressMode(env.PATCHBAY_EGRESS_MODE),
    egressAllow: list(env.PATCHBAY_EGRESS_ALLOW),
    egressDeny: list(env.PATCHBAY_EGRESS_DENY),
    sqliteRoot: env.PATCHBAY_SQLITE_ROOT ? resolve(env.PATCHBAY_SQLITE_ROOT) : null,
  };
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
