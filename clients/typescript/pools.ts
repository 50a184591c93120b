/**
 * Driver configs built field by field from a resolved connection, never from a URI string:
 * a URI parser would reinterpret a password full of `@ : / %`, and pg's reads certificate
 * files named in it. Every field that decides where and as whom to connect is set, so the
 * drivers do not fill gaps from PG* / MYSQL_* variables or ~/.pgpass.
 *
 * TLS follows extra.sslmode (PostgreSQL, libpq's names) and extra.ssl_mode (MySQL):
 * - postgres: disable / allow / prefer / unset → no TLS (node-postgres cannot fall back the
 *   way libpq's allow/prefer do, so they connect as disable); require → TLS without checking
 *   the certificate (libpq's meaning); verify-ca → the chain is checked, not the name;
 *   verify-full → chain and name (servername = host).
 * - mysql: DISABLED / PREFERRED / unset → no TLS; REQUIRED → TLS unchecked; VERIFY_CA →
 *   chain only; VERIFY_IDENTITY → chain and name.
 * Pass `ssl` in the pool options to add a CA (`{ ca, rejectUnauthorized: true }`).
 */
import { isIP } from "node:net";
import type { PoolConfig } from "pg";
import type { PoolOptions } from "mysql2/promise";
import type { ResolvedConnection } from "./connection";
import { PatchbayError } from "./errors";

const PG_DEFAULT_PORT = 5432;
const MYSQL_DEFAULT_PORT = 3306;

export function pgPoolConfig(c: ResolvedConnection, options: PoolConfig = {}, timeoutMs = 10_000): PoolConfig {
  requireType(c, "postgres", "pgPool", "mysql", "mysqlPool");
  const host = requireField(c, "host");
  const user = requireField(c, "login");
  const password = c.password;
  return {
    host,
    port: c.port ?? PG_DEFAULT_PORT,
    user,
    database: c.schema || user,
    // A function: pg treats "" like unset and would look in PGPASSWORD and ~/.pgpass.
    password: password ? password : () => "",
    ssl: pgSsl(c, host),
    connectionTimeoutMillis: timeoutMs,
    ...options,
  };
}

function pgSsl(c: ResolvedConnection, host: string): PoolConfig["ssl"] {
  const mode = c.extra.sslmode;
  switch (mode ?? "disable") {
    case "":
    case "disable":
    case "allow":
    case "prefer":
      return false;
    case "require":
      return { rejectUnauthorized: false };
    case "verify-ca":
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case "verify-full":
      // SNI must not be an IP address; pg then checks the name against `host` itself.
      return isIP(host) ? { rejectUnauthorized: true } : { rejectUnauthorized: true, servername: host };
    default:
      throw new PatchbayError("UNSUPPORTED", `Connection "${c.name}" has an unknown sslmode ${JSON.stringify(mode)}; expected disable, require, verify-ca or verify-full.`);
  }
}

export function mysqlPoolOptions(c: ResolvedConnection, options: PoolOptions = {}, timeoutMs = 10_000): PoolOptions {
  requireType(c, "mysql", "mysqlPool", "postgres", "pgPool");
  const host = requireField(c, "host");
  const user = requireField(c, "login");
  const merged: PoolOptions = {
    host,
    port: c.port ?? MYSQL_DEFAULT_PORT,
    user,
    password: c.password ?? "",
    database: c.schema || undefined,
    ssl: mysqlSsl(c),
    connectTimeout: timeoutMs,
    ...options,
  };
  // LOCAL INFILE stays off whatever the options say: with it, the server (or anyone in the
  // middle) may read any file of this process in answer to any query.
  merged.flags = [...(merged.flags ?? []).filter((f) => !/^[+-]?LOCAL_FILES$/i.test(f.trim())), "-LOCAL_FILES"];
  merged.infileStreamFactory = undefined;
  return merged;
}

function mysqlSsl(c: ResolvedConnection): PoolOptions["ssl"] {
  const mode = c.extra.ssl_mode;
  switch (typeof mode === "string" ? mode.toUpperCase() : (mode ?? "DISABLED")) {
    case "":
    case "DISABLED":
    case "PREFERRED":
      return undefined;
    case "REQUIRED":
      return { rejectUnauthorized: false };
    case "VERIFY_CA":
      return { rejectUnauthorized: true, verifyIdentity: false };
    case "VERIFY_IDENTITY":
      return { rejectUnauthorized: true, verifyIdentity: true };
    default:
      throw new PatchbayError("UNSUPPORTED", `Connection "${c.name}" has an unknown ssl_mode ${JSON.stringify(mode)}; expected DISABLED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY.`);
  }
}

function requireType(c: ResolvedConnection, type: string, method: string, other: string, otherMethod: string): void {
  if (c.type === type) return;
  const hint = c.type === other ? ` (use ${otherMethod})` : "";
  throw new PatchbayError("UNSUPPORTED", `Connection "${c.name}" is of type ${c.type}; ${method} needs a ${type} connection${hint}.`);
}

function requireField(c: ResolvedConnection, field: "host" | "login"): string {
  const value = c[field];
  if (!value) throw new PatchbayError("UNSUPPORTED", `Connection "${c.name}" has no ${field}; it cannot be used as a ${c.type} pool.`);
  return value;
}
