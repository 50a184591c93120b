/**
 * The contract every connection type implements. An adapter describes its form (field
 * specs), validates settings, and proves that credentials work. Adapters are pure: they get
 * decrypted settings, a deadline and an abort signal, and return an outcome. They never
 * touch Prisma, the GraphQL context or configuration; what they need from the outside world
 * (address checks, file roots) is handed to them in the test context.
 */

/** How a form renders a field; the GraphQL enum FieldKind is made from this list. */
export const FIELD_KINDS = ["STRING", "INTEGER", "BOOLEAN", "PASSWORD", "TEXT", "SELECT", "JSON"] as const;
export type FieldKind = (typeof FIELD_KINDS)[number];

/** The common Airflow fields a connection has as columns. */
export type CommonField = "host" | "port" | "schema" | "login" | "password";

export interface FieldSpec {
  /** `host`, `port`, `schema`, `login`, `password`, or `extra.<key>`. */
  name: CommonField | `extra.${string}`;
  label: string;
  kind: FieldKind;
  required?: boolean;
  /** Stored encrypted, never returned outside the resolve path. */
  secret?: boolean;
  default?: unknown;
  placeholder?: string;
  description?: string;
  options?: string[];
  /**
   * The value is a file path, not a network host (SQLite keeps its file in `host`, as in
   * Airflow): the registry's shared host check does not apply, and the adapter confines the
   * path itself.
   */
  path?: boolean;
  /**
   * Changing this field cannot send the stored secrets anywhere new or less protected (a
   * database name on the same server, a test path, a mailbox). Every other non-secret field
   * (host, port, login, scheme, endpoint, TLS settings, free extras) counts as repointing:
   * a caller who may not read the secrets must then enter them again (DESIGN.md).
   */
  safeToChange?: boolean;
}

/** A connection's settings with secrets decrypted: what an adapter works on. */
export interface ConnectionSettings {
  host: string | null;
  port: number | null;
  schema: string | null;
  login: string | null;
  password: string | null;
  /** Non-secret and secret extra keys together. */
  extra: Record<string, unknown>;
}

export type TestErrorCode =
  | "DNS_ERROR"
  | "CONNECTION_REFUSED"
  | "TIMEOUT"
  | "TLS_ERROR"
  | "AUTH_FAILED"
  | "PERMISSION_DENIED"
  | "NOT_FOUND"
  | "PROTOCOL_ERROR"
  | "EGRESS_DENIED"
  | "INVALID_CONFIG"
  | "SECRET_REQUIRED"
  | "UNKNOWN";

export type TestOutcome =
  | { ok: true; message: string; serverVersion?: string | null }
  | { ok: false; code: TestErrorCode; message: string };

/** An address the egress policy allowed, to connect to instead of looking the name up again. */
export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * The way out to the network (src/net/egress.ts). Adapters never resolve a host name
 * themselves: they ask here, then connect to exactly the returned address, keeping the
 * original name for TLS verification (servername) and HTTP Host headers.
 */
export interface Egress {
  /**
   * Resolves `host` once (or parses it when it is an IP literal in any spelling) and checks
   * every address against the policy. Rejects with an EgressError whose `code` is
   * EGRESS_DENIED or DNS_ERROR; nothing has been sent to the host then.
   */
  resolve(host: string, signal: AbortSignal): Promise<CheckedAddress>;
}

export interface TestContext {
  /** Aborted when the deadline passes or the caller goes away; close sockets on abort. */
  signal: AbortSignal;
  /** Milliseconds left until the deadline when the test starts. */
  timeoutMs: number;
  egress: Egress;
  /** The directory SQLite files must live in (PATCHBAY_SQLITE_ROOT); null: SQLite is off. */
  sqliteRoot: string | null;
}

/** One problem with a settings object, named by field (`host`, `extra.region`, ...). */
export interface FieldProblem {
  field: string;
  message: string;
}

/** The arguments of SQLAlchemy's `URL.create` for a connection (src/airflow/sqlalchemy.ts renders them). */
export interface SqlalchemyUrlParts {
  drivername: string;
  username: string | null;
  password: string | null;
  host: string | null;
  port: number | null;
  database: string | null;
  query: Record<string, string>;
}

/** Choices of the SQLAlchemy URL that are the caller's, not the connection's. */
export interface SqlalchemyOptions {
  /**
   * PostgreSQL's driver, named in the URL: SQLAlchemy 1.4 to 2.0 default to psycopg2, 2.1 to
   * psycopg 3, so an unnamed driver means different things. Default PSYCOPG2.
   */
  postgresDriver?: "PSYCOPG2" | "PSYCOPG";
}

/** How Airflow names a type: its conn_type (default: the registry id) and other conn_types read as it. */
export interface AirflowNames {
  connType?: string;
  aliases?: readonly string[];
}

/** What a token endpoint granted: the access token, its expiry, and a rotated refresh token. */
export interface TokenGrant {
  accessToken: string;
  tokenType: string;
  /** Null when the server gave no expires_in. */
  expiresAt: Date | null;
  /** A new refresh token the server rotated to; null when it kept the old one (or gave none). */
  refreshToken: string | null;
}

/** An access token as code resolving the connection gets it. */
export type AccessToken = Omit<TokenGrant, "refreshToken">;

/**
 * For types whose stored credentials are exchanged for short-lived tokens (oauth2): resolving
 * hands out a current token instead of the credentials. The service keeps and refreshes it
 * (src/services/connections/access-tokens.ts); the adapter only performs the grant.
 */
export interface TokenIssuer {
  /** Performs the grant, under ctx's deadline and egress policy; a failure when refused or unreachable. */
  grant(settings: ConnectionSettings, ctx: TestContext): Promise<TokenGrant | { code: TestErrorCode; message: string }>;
  /** What resolving returns: the settings with the token in place of the credentials. */
  resolved(settings: ConnectionSettings, token: AccessToken): ConnectionSettings;
  /** The secret field a rotated refresh token is stored in (`extra.refresh_token`). */
  rotatedSecret?: string;
}

/**
 * Everything Patchbay knows about one connection type. Required members are what every type
 * must say; optional ones are facts only some types have (the compiler lists them here, and
 * nothing outside the adapter keeps a table of them).
 */
export interface ConnectionAdapter {
  /** Registry id, e.g. `postgres`. */
  id: string;
  label: string;
  /** What the test does, in a line: the README's table of types is checked against it. */
  summary: string;
  defaultPort?: number;
  fields: FieldSpec[];
  /**
   * Extra keys the type knows besides those of its fields (driver parameters that are passed
   * on, Airflow hook settings). An import warns about any other key; the form keeps them as JSON.
   */
  knownExtras?: readonly string[];
  /** Airflow's conn_type when it is not the id, and other conn_types that mean this type (e.g. `https`). */
  airflow?: AirflowNames;
  /**
   * SQLAlchemy's URL.create arguments for a resolved connection, for the types SQLAlchemy can
   * open (sqlalchemyUrl, JupySQL export). Absent: the type has no SQLAlchemy URL.
   */
  sqlalchemy?(settings: ConnectionSettings, options: SqlalchemyOptions): SqlalchemyUrlParts;
  /**
   * Driver options for code that uses the connection (the TypeScript client's pools): built
   * field by field, never from a URI; a string says why the settings cannot make them.
   */
  clientConfig?(settings: ConnectionSettings, timeoutMs: number): object | string;
  /**
   * Rewrites what people commonly type into the canonical fields before validation, e.g. an
   * http connection's host given as a whole URL (as Airflow keeps it) becomes scheme, host,
   * port and path. Only host, port, schema and non-secret extras may change.
   */
  normalize?(settings: ConnectionSettings): ConnectionSettings;
  /**
   * The settings as Airflow's hooks expect them, for what Patchbay hands to Airflow-shaped
   * consumers (airflowUri, airflowJson, the REST resolve endpoint, Airflow export files), e.g.
   * an http connection's scheme, host, port and base path joined into a base URL in `host`.
   * normalize() must turn the result back into the same settings, so exports import unchanged.
   * Only host, port, schema and non-secret extras may change. Absent: the settings as they are.
   */
  toAirflow?(settings: ConnectionSettings): ConnectionSettings;
  /**
   * Type-specific checks beyond the field specs (required fields and kinds are checked by
   * the registry's generic validation). Return an empty list when the settings are valid.
   */
  validate?(settings: ConnectionSettings): FieldProblem[];
  /** Present for types that resolve to a short-lived token instead of their credentials (oauth2). */
  tokens?: TokenIssuer;
  /** Absent for types that cannot be tested (e.g. generic). */
  test?(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome>;
}
