/**
 * The contract every connection type implements. An adapter describes its form (field
 * specs), validates settings, and proves that credentials work. Adapters are pure: they get
 * decrypted settings, a deadline and an abort signal, and return an outcome. They never
 * touch Prisma, the GraphQL context or configuration; what they need from the outside world
 * (address checks, file roots) is handed to them in the test context.
 */

export type FieldKind = "STRING" | "INTEGER" | "BOOLEAN" | "PASSWORD" | "TEXT" | "SELECT" | "JSON";

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

export interface TestContext {
  /** Aborted when the deadline passes or the caller goes away; close sockets on abort. */
  signal: AbortSignal;
  /** Milliseconds left until the deadline when the test starts. */
  timeoutMs: number;
}

/** One problem with a settings object, named by field (`host`, `extra.region`, ...). */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface ConnectionAdapter {
  /** Registry id, e.g. `postgres`. */
  id: string;
  label: string;
  defaultPort?: number;
  fields: FieldSpec[];
  /**
   * Type-specific checks beyond the field specs (required fields and kinds are checked by
   * the registry's generic validation). Return an empty list when the settings are valid.
   */
  validate?(settings: ConnectionSettings): FieldProblem[];
  /** Absent for types that cannot be tested (e.g. generic). */
  test?(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome>;
}
