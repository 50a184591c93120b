/**
 * createPatchbayClient: connections by name for TypeScript code.
 *
 *   const patchbay = createPatchbayClient();            // PATCHBAY_URL, PATCHBAY_TOKEN
 *   const pool = await patchbay.pgPool("warehouse");    // a pg.Pool, TLS per extra.sslmode
 *   const { rows } = await pool.query("SELECT 1");
 *
 * Resolved connections are cached per name for cacheTtlMs (default 30 s), and concurrent
 * calls for one name share one request; each request has a deadline of timeoutMs.
 */
import type { Pool as PgPool, PoolConfig as PgPoolConfig } from "pg";
import type { Pool as MysqlPool, PoolOptions as MysqlPoolOptions } from "mysql2/promise";
import { TtlCache } from "./cache.js";
import { type ResolvedConnection, resolveQuery, toResolvedConnection } from "./connection.js";
import { PatchbayError } from "./errors.js";
import { type PatchbayClientOptions, type PostgresDriver, resolveOptions, type UriDialect, type UrlOptions, urlOptions } from "./options.js";
import { mysqlPoolOptions, pgPoolConfig } from "./pools.js";
import { createTransport } from "./transport.js";

export interface PatchbayClient {
  /** The server's base URL. */
  readonly url: string;
  /** The workspace slug sent with each resolve, or null (an API token's own workspace). */
  readonly workspace: string | null;
  /** The environment whose values are resolved (option or PATCHBAY_ENVIRONMENT), or null. */
  readonly environment: string | null;
  /** The Airflow URI dialect asked for (option dialect), or null: the server's default, EXTRA_JSON. */
  readonly dialect: UriDialect | null;
  /** PostgreSQL's SQLAlchemy driver asked for (option postgresDriver), or null: the server's default, PSYCOPG2. */
  readonly postgresDriver: PostgresDriver | null;
  /**
   * Every field with the secrets, the Airflow URI and the SQLAlchemy URL; cached for cacheTtlMs.
   * `{ dialect, postgresDriver }` choose the URLs' forms for this call (else the client's).
   */
  connection(name: string, options?: UrlOptions): Promise<ResolvedConnection>;
  /** A pg.Pool for a postgres connection. It connects lazily; end() it when done. */
  pgPool(name: string, options?: PgPoolConfig): Promise<PgPool>;
  /** A mysql2/promise pool for a mysql connection, LOCAL INFILE off. end() it when done. */
  mysqlPool(name: string, options?: MysqlPoolOptions): Promise<MysqlPool>;
  /** Forgets the cached connection of one name, or all of them. */
  clearCache(name?: string): void;
}

export function createPatchbayClient(options: PatchbayClientOptions = {}): PatchbayClient {
  const settings = resolveOptions(options, { requireToken: true });
  const transport = createTransport(settings);
  const cache = new TtlCache<ResolvedConnection>(settings.cacheTtlMs);
  // Servers from before sqlalchemyUrl refuse the whole query; ask them without it.
  let withSqlalchemy = true;

  async function fetchConnection(name: string, dialect: UriDialect | null, postgresDriver: PostgresDriver | null): Promise<ResolvedConnection> {
    const environment = settings.environment;
    const variables = environment ? { name, workspace: settings.workspace, environment } : { name, workspace: settings.workspace };
    try {
      const query = resolveQuery({ withSqlalchemy, withEnvironment: environment !== null, dialect, postgresDriver });
      const data = await transport.graphql(query, variables);
      return toResolvedConnection(data.resolveConnection);
    } catch (error) {
      // Checked before sqlalchemyUrl: an unknown postgresDriver argument also names that field.
      for (const [argument, value, option] of [["dialect", dialect, "dialect"], ["postgresDriver", postgresDriver, "postgresDriver"]] as const) {
        if (value && isUnknownArgument(error, argument)) {
          throw new PatchbayError("UNSUPPORTED", `This Patchbay server does not take ${argument} yet; leave out { ${option} } or upgrade the server.`, { field: option });
        }
      }
      if (withSqlalchemy && isUnknownField(error, "sqlalchemyUrl")) {
        withSqlalchemy = false;
        return fetchConnection(name, dialect, postgresDriver);
      }
      if (environment && isUnknownArgument(error, "environment")) {
        throw new PatchbayError("UNSUPPORTED", "This Patchbay server does not resolve environments yet; unset PATCHBAY_ENVIRONMENT ({ environment }) or upgrade the server.", {
          field: "environment",
        });
      }
      throw withContext(error, name);
    }
  }

  function connection(name: string, options?: UrlOptions): Promise<ResolvedConnection> {
    if (typeof name !== "string" || name === "") {
      return Promise.reject(new PatchbayError("BAD_USER_INPUT", "A connection name is required.", { field: "name" }));
    }
    let chosen: ReturnType<typeof urlOptions>;
    try {
      chosen = urlOptions(options ?? {});
    } catch (error) {
      return Promise.reject(error);
    }
    const dialect = chosen.dialect ?? settings.dialect;
    const postgresDriver = chosen.postgresDriver ?? settings.postgresDriver;
    return cache.get(cacheKey(name, dialect, postgresDriver), () => fetchConnection(name, dialect, postgresDriver));
  }
  // Closures, not `this`: the methods work when destructured.
  return {
    url: settings.url,
    workspace: settings.workspace,
    environment: settings.environment,
    dialect: settings.dialect,
    postgresDriver: settings.postgresDriver,
    connection: (name, options) => connection(name, options),

    async pgPool(name, poolOptions) {
      const config = pgPoolConfig(await connection(name), poolOptions, settings.timeoutMs);
      const { default: pg } = await import("pg");
      return new pg.Pool(config);
    },

    async mysqlPool(name, poolOptions) {
      const config = mysqlPoolOptions(await connection(name), poolOptions, settings.timeoutMs);
      const { default: mysql } = await import("mysql2/promise");
      return mysql.createPool(config);
    },

    clearCache(name) {
      if (name === undefined) cache.clear();
      else cache.clearWhere((key) => nameOfKey(key) === name);
    },
  };
}

/** One cache entry per name and URL forms; clearCache(name) forgets them all. */
function cacheKey(name: string, dialect: UriDialect | null, postgresDriver: PostgresDriver | null): string {
  return JSON.stringify([name, dialect, postgresDriver]);
}

function nameOfKey(key: string): string {
  return (JSON.parse(key) as [string])[0];
}

function isUnknownField(error: unknown, field: string): boolean {
  return error instanceof PatchbayError && error.code === "GRAPHQL_VALIDATION_FAILED" && error.message.includes(`"${field}"`);
}

function isUnknownArgument(error: unknown, argument: string): boolean {
  return error instanceof PatchbayError && error.code === "GRAPHQL_VALIDATION_FAILED" && error.message.includes(`"${argument}"`);
}

/** Names the connection in the message; the code and status stay the server's. */
function withContext(error: unknown, name: string): unknown {
  if (!(error instanceof PatchbayError) || error.code === "NETWORK" || error.code === "TIMEOUT") return error;
  const hint = error.field === "workspace" ? " Set PATCHBAY_WORKSPACE or pass { workspace }." : "";
  return new PatchbayError(error.code, `Could not resolve connection "${name}": ${error.message}${hint}`, {
    status: error.status,
    field: error.field,
    extensions: error.extensions,
  });
}
