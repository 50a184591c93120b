/**
 * SQLAlchemy URLs, as `URL.create(...).render_as_string(
 * hide_password=False)` renders them (sqlalchemy/engine/url.py, SQLAlchemy 2.0): username and
 * password through `quote(x, safe=" +")`, host as is (in brackets when it holds `:`), the
 * database as is, query keys sorted and `quote_plus`ed.
 *
 * Which types have one, their drivers and which fields go where is each adapter's
 * `sqlalchemy` member (src/adapters/<type>.ts); this module renders what they return.
 */
import { pyQuote, pyQuotePlus } from "./py-url";
import { getAdapter } from "../adapters/registry";
import type { SqlalchemyOptions, SqlalchemyUrlParts } from "../adapters/types";
import type { PortableConnection } from "./types";

export type { SqlalchemyOptions, SqlalchemyUrlParts };

type DbFields = Pick<PortableConnection, "type" | "host" | "port" | "schema" | "login" | "password" | "extra">;

/** URL.create arguments for a connection whose type has them (ConnectionAdapter.sqlalchemy); null otherwise. */
export function sqlalchemyUrlParts(c: DbFields, options: SqlalchemyOptions = {}): SqlalchemyUrlParts | null {
  const adapter = getAdapter(c.type);
  return adapter?.sqlalchemy ? adapter.sqlalchemy(c, options) : null;
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
export function toSqlalchemyUrl(c: DbFields, options: SqlalchemyOptions = {}): string | null {
  const parts = sqlalchemyUrlParts(c, options);
  return parts && renderSqlalchemyUrl(parts);
}
