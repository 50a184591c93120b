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
