/**
 * Driver configs for code that uses a connection (the TypeScript client's pgPool and mysqlPool,
 * and the adapters' clientConfig), built field by field from the connection's settings.
 *
 * Dependency-free on purpose: the published client (clients/typescript, npm patchbay-client)
 * compiles this file into its package, so it may import nothing but node: modules and types
 * (type imports are erased). The adapters (postgres.ts, mysql.ts) re-export it, so the server's
 * test and the client's pools read a connection the same way.
 */
import { isIP } from "node:net";
import type { ClientConfig as PgClientConfig, PoolConfig as PgPoolConfig } from "pg";
import type { ConnectionOptions as MysqlConnectionOptions, PoolOptions as MysqlPoolOptions } from "mysql2";

/** The fields a driver config is built from (a subset of a connection's). */
export interface DriverSettings {
  readonly host: string | null;
  readonly port: number | null;
  readonly schema: string | null;
  readonly login: string | null;
  readonly password: string | null;
  readonly extra: Readonly<Record<string, unknown>>;
}

const POSTGRES_DEFAULT_PORT = 5432;
const MYSQL_DEFAULT_PORT = 3306;

/**
 * libpq's sslmode names as pg options, or why the mode is unknown. node-postgres cannot fall
 * back the way libpq's allow and prefer do, so they connect as disable; require is TLS without
 * checking the certificate (libpq's meaning); verify-ca checks the chain, not the name;
 * verify-full both (SNI carries the name, never an IP address). The test itself accepts only
 * POSTGRES_SSL_MODES.
 */
export function libpqSsl(mode: unknown, host: string): PgClientConfig["ssl"] | string {
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
      return isIP(host) ? { rejectUnauthorized: true } : { rejectUnauthorized: true, servername: host };
    default:
      return `has an unknown sslmode ${JSON.stringify(mode)}; expected disable, require, verify-ca or verify-full.`;
  }
}

/**
 * The pg pool config for code that uses the connection (the TypeScript client's pgPool), or
 * why there is none. pg treats an empty password like an unset one and would then look in
 * PGPASSWORD and ~/.pgpass, so a missing password is a function answering "".
 */
export function postgresPoolConfig(settings: DriverSettings, timeoutMs: number): PgPoolConfig | string {
  if (!settings.host || !settings.login) return "has no host or login";
  const ssl = libpqSsl(settings.extra.sslmode, settings.host);
  if (typeof ssl === "string") return ssl;
  return {
    host: settings.host,
    port: settings.port ?? POSTGRES_DEFAULT_PORT,
    user: settings.login,
    database: settings.schema || settings.login,
    password: settings.password ? settings.password : () => "",
    ssl,
    connectionTimeoutMillis: timeoutMs,
  };
}

/**
 * MySQL's --ssl-mode names (any case) as mysql2 options, or why the mode is unknown: DISABLED,
 * PREFERRED or unset is plain TCP; REQUIRED is TLS unchecked; VERIFY_CA checks the chain only;
 * VERIFY_IDENTITY chain and name. The test itself accepts only MYSQL_SSL_MODES.
 */
export function mysqlSsl(mode: unknown): MysqlConnectionOptions["ssl"] | string {
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
      return `has an unknown ssl_mode ${JSON.stringify(mode)}; expected DISABLED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY.`;
  }
}

/** The mysql2 pool options for code that uses the connection, or why there are none. */
export function mysqlPoolOptions(settings: DriverSettings, timeoutMs: number): MysqlPoolOptions | string {
  if (!settings.host || !settings.login) return "has no host or login";
  const ssl = mysqlSsl(settings.extra.ssl_mode);
  if (typeof ssl === "string") return ssl;
  return {
    host: settings.host,
    port: settings.port ?? MYSQL_DEFAULT_PORT,
    user: settings.login,
    password: settings.password ?? "",
    database: settings.schema || undefined,
    ssl,
    connectTimeout: timeoutMs,
  };
}

/**
 * LOCAL INFILE stays off whatever other options say: with it, the server (or anyone in the
 * middle) may read any file of this process in answer to any query.
 */
export function withoutLocalInfile<T extends Pick<MysqlConnectionOptions, "flags" | "infileStreamFactory">>(options: T): T {
  const flags = (Array.isArray(options.flags) ? options.flags : []).filter((f) => !/^[+-]?LOCAL_FILES$/i.test(f.trim()));
  return { ...options, flags: [...flags, "-LOCAL_FILES"], infileStreamFactory: undefined };
}
