/**
 * A resolved connection as the client hands it out: every field with the secrets, plus the
 * server's Airflow URI and SQLAlchemy URL. The object is frozen (it is shared through the
 * cache) and prints with its password masked in console.log / util.inspect.
 */
import type { PostgresDriver, UriDialect } from "./options.js";

export interface ResolvedConnection {
  /** The conn_id. */
  readonly name: string;
  /** A Patchbay type id: postgres, mysql, mssql, http, s3, … */
  readonly type: string;
  readonly description: string | null;
  readonly host: string | null;
  readonly port: number | null;
  /** The database, as Airflow names it. */
  readonly schema: string | null;
  readonly login: string | null;
  readonly password: string | null;
  /** Every extra key, the secret ones included. */
  readonly extra: Readonly<Record<string, unknown>>;
  /** Airflow's URI form, as Airflow's Connection.get_uri() writes it. */
  readonly airflowUri: string;
  /** For database types a SQLAlchemy URL (with the password); null otherwise, or when the server predates it. */
  readonly sqlalchemyUrl: string | null;
}

const FIELDS = "name type description host port schema login password extra";

export interface QueryShape {
  withSqlalchemy: boolean;
  withEnvironment?: boolean;
  /** Checked values (options.ts), written into the query as enum literals; null leaves the argument out. */
  dialect?: UriDialect | null;
  postgresDriver?: PostgresDriver | null;
}

/**
 * The resolve query. The environment and the URL arguments appear only when set, so servers
 * from before them still answer the rest.
 */
export function resolveQuery({ withSqlalchemy, withEnvironment = false, dialect = null, postgresDriver = null }: QueryShape): string {
  const declared = withEnvironment ? ", $environment: String" : "";
  const argument = withEnvironment ? ", environment: $environment" : "";
  const uri = dialect ? `airflowUri(dialect: ${dialect})` : "airflowUri";
  const sqlalchemy = withSqlalchemy ? (postgresDriver ? ` sqlalchemyUrl(postgresDriver: ${postgresDriver})` : " sqlalchemyUrl") : "";
  return `query PatchbayResolve($name: String!, $workspace: String${declared}) {
  resolveConnection(name: $name, workspace: $workspace${argument}) { ${FIELDS} ${uri}${sqlalchemy} }
}`;
}

type Wire = Omit<ResolvedConnection, "sqlalchemyUrl" | "extra"> & { sqlalchemyUrl?: string | null; extra: unknown };

const INSPECT = Symbol.for("nodejs.util.inspect.custom");

export function toResolvedConnection(wire: Wire): ResolvedConnection {
  const extra = wire.extra && typeof wire.extra === "object" && !Array.isArray(wire.extra) ? { ...(wire.extra as Record<string, unknown>) } : {};
  const connection: ResolvedConnection = {
    name: wire.name,
    type: wire.type,
    description: wire.description ?? null,
    host: wire.host ?? null,
    port: wire.port ?? null,
    schema: wire.schema ?? null,
    login: wire.login ?? null,
    password: wire.password ?? null,
    extra: Object.freeze(extra),
    airflowUri: wire.airflowUri,
    sqlalchemyUrl: wire.sqlalchemyUrl ?? null,
  };
  // Not enumerable: spreads and JSON.stringify see the plain fields only.
  Object.defineProperty(connection, INSPECT, { value: masked, enumerable: false });
  return Object.freeze(connection);
}

/** What console.log shows: the password and every URL that carries it masked. */
function masked(this: ResolvedConnection) {
  const hide = (v: string | null) => (v === null ? null : "***");
  return {
    name: this.name,
    type: this.type,
    description: this.description,
    host: this.host,
    port: this.port,
    schema: this.schema,
    login: this.login,
    password: hide(this.password),
    extra: Object.keys(this.extra),
    airflowUri: this.password ? "***" : this.airflowUri,
    sqlalchemyUrl: this.password ? hide(this.sqlalchemyUrl) : this.sqlalchemyUrl,
  };
}
