/**
 * SQLAlchemy URLs for the database types, as `URL.create(...).render_as_string(
 * hide_password=False)` renders them (sqlalchemy/engine/url.py, SQLAlchemy 2.0): username and
 * password through `quote(x, safe=" +")`, host as is (in brackets when it holds `:`), the
 * database as is, query keys sorted and `quote_plus`ed.
 *
 * Drivers are the ones that work from a plain `pip install` with only these fields:
 * - postgres: `postgresql` (SQLAlchemy's default driver, psycopg2);
 * - mysql: `mysql+pymysql` (pure Python; mysqlclient needs C headers);
 * - mssql: `mssql+pymssql` (Airflow's MsSqlHook default; pyodbc would need an installed
 *   ODBC driver named in the URL, or it reads the host as a DSN name);
 * - sqlite: `sqlite` with the file path as the database. Airflow's SQLite connection keeps
 *   the path in `host` (SqliteHook), so host is used, then schema; neither: in-memory.
 * Fields that SQLAlchemy cannot carry in the authority go in the query: a PostgreSQL host that
 * is a socket directory (`/var/run/postgresql`) becomes `?host=`, and extra.sslmode `?sslmode=`.
 */
import { pyQuote, pyQuotePlus } from "./py-url";
import type { PortableConnection } from "./types";

export const SQLALCHEMY_DRIVERS: Readonly<Record<string, string>> = {
  postgres: "postgresql",
  mysql: "mysql+pymysql",
  mssql: "mssql+pymssql",
  sqlite: "sqlite",
};

/** The arguments of sqlalchemy.engine.URL.create for a connection. */
export interface SqlalchemyUrlParts {
  drivername: string;
  username: string | null;
  password: string | null;
  host: string | null;
  port: number | null;
  database: string | null;
  query: Record<string, string>;
}

type DbFields = Pick<PortableConnection, "type" | "host" | "port" | "schema" | "login" | "password" | "extra">;

/** URL.create arguments for a database connection; null for every other type. */
export function sqlalchemyUrlParts(c: DbFields): SqlalchemyUrlParts | null {
  const drivername = Object.hasOwn(SQLALCHEMY_DRIVERS, c.type) ? SQLALCHEMY_DRIVERS[c.type] : null;
  if (drivername === null) return null;
  if (c.type === "sqlite") {
    return { drivername, username: null, password: null, host: null, port: null, database: c.host || c.schema || null, query: {} };
  }
  const query: Record<string, string> = {};
  let host = c.host || null;
  if (c.type === "postgres") {
    if (host?.startsWith("/")) {
      query.host = host;
      host = null;
    }
    if (typeof c.extra.sslmode === "string" && c.extra.sslmode) query.sslmode = c.extra.sslmode;
  }
  return {
    drivername,
    username: c.login,
    password: c.password,
    host,
    port: c.port || null,
    database: c.schema || null,
    query,
  };
}

/** URL.render_as_string(hide_password=False) */
export function renderSqlalchemyUrl(u: SqlalchemyUrlParts): string {
  let s = `${u.drivername}://`;
  if (u.username !== null) {
    s += pyQuote(u.username, " +", "login");
    if (u.password !== null) s += ":" + pyQuote(u.password, " +", "password");
    s += "@";
  }
  if (u.host !== null) s += u.host.includes(":") ? `[${u.host}]` : u.host;
  if (u.port !== null) s += `:${u.port}`;
  if (u.database !== null) s += `/${u.database}`;
  const keys = Object.keys(u.query).sort();
  if (keys.length > 0) s += "?" + keys.map((k) => `${pyQuotePlus(k)}=${pyQuotePlus(u.query[k])}`).join("&");
  return s;
}

/** A SQLAlchemy URL with the password in it, for database types; null otherwise. */
export function toSqlalchemyUrl(c: DbFields): string | null {
  const parts = sqlalchemyUrlParts(c);
  return parts && renderSqlalchemyUrl(parts);
}
