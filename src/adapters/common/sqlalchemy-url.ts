/** SQLAlchemy URL parts for a server database: the common fields as they are (ConnectionAdapter.sqlalchemy). */
import type { ConnectionSettings, SqlalchemyUrlParts } from "../types";

export function serverDatabaseUrl(drivername: string, settings: ConnectionSettings, query: Record<string, string> = {}): SqlalchemyUrlParts {
  return {
    drivername,
    username: settings.login,
    password: settings.password,
    host: settings.host || null,
    port: settings.port || null,
    database: settings.schema || null,
    query,
  };
}

/**
 * The extra keys, of those a type allows, that go into the URL's query as text (numbers and
 * booleans as Python writes them). Anything else in extra stays out: a URL carries only what
 * the driver is known to take.
 */
export function allowedDriverParams(extra: Record<string, unknown>, allowed: readonly string[]): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of allowed) {
    const value = extra[key];
    if (typeof value === "string" && value !== "") query[key] = value;
    else if (typeof value === "number" && Number.isFinite(value)) query[key] = String(value);
    else if (typeof value === "boolean") query[key] = value ? "true" : "false";
  }
  return query;
}
