/**
 * Driver configs for a resolved connection, built field by field, never from a URI string: a
 * URI parser would reinterpret a password full of `@ : / %`, and pg's reads certificate files
 * named in it. What the fields mean for each driver (defaults, TLS from extra.sslmode or
 * extra.ssl_mode) is the connection type's own fact: its adapter's clientConfig
 * (src/adapters/common/driver-config.ts, dependency-free so this package carries it compiled),
 * so the server's test and these pools read a connection the same way. Pass `ssl` in the pool options to add a CA
 * (`{ ca, rejectUnauthorized: true }`).
 */
import type { PoolConfig } from "pg";
import type { PoolOptions } from "mysql2/promise";
import { mysqlPoolOptions as mysqlClientConfig, postgresPoolConfig, withoutLocalInfile } from "../../src/adapters/common/driver-config.js";
import type { ResolvedConnection } from "./connection.js";
import { PatchbayError } from "./errors.js";

export function pgPoolConfig(c: ResolvedConnection, options: PoolConfig = {}, timeoutMs = 10_000): PoolConfig {
  requireType(c, "postgres", "pgPool", "mysql", "mysqlPool");
  return { ...configOf(c, postgresPoolConfig(c, timeoutMs)), ...options };
}

export function mysqlPoolOptions(c: ResolvedConnection, options: PoolOptions = {}, timeoutMs = 10_000): PoolOptions {
  requireType(c, "mysql", "mysqlPool", "postgres", "pgPool");
  return withoutLocalInfile({ ...configOf(c, mysqlClientConfig(c, timeoutMs)), ...options });
}

function configOf<T>(c: ResolvedConnection, config: T | string): T {
  for (const field of ["host", "login"] as const) {
    if (!c[field]) throw new PatchbayError("UNSUPPORTED", `Connection "${c.name}" has no ${field}; it cannot be used as a ${c.type} pool.`);
  }
  if (typeof config === "string") throw new PatchbayError("UNSUPPORTED", `Connection "${c.name}" ${config}`);
  return config;
}

function requireType(c: ResolvedConnection, type: string, method: string, other: string, otherMethod: string): void {
  if (c.type === type) return;
  const hint = c.type === other ? ` (use ${otherMethod})` : "";
  throw new PatchbayError("UNSUPPORTED", `Connection "${c.name}" is of type ${c.type}; ${method} needs a ${type} connection${hint}.`);
}
