/**
 * Airflow conn_type <-> Patchbay type id.
 *
 * Airflow normalises a conn_type read from a URI or from JSON with
 * `Connection._normalize_conn_type` (airflow/models/connection.py): exactly `postgresql`
 * becomes `postgres`, otherwise every `-` becomes `_` (a URI scheme cannot hold `_`, so
 * `get_uri` writes `_` as `-`). Conn types are case-sensitive in Airflow (hook lookup is by
 * exact key), so no case folding happens here either.
 */

const AIRFLOW_TO_PATCHBAY: Readonly<Record<string, string>> = {
  postgres: "postgres",
  mysql: "mysql",
  http: "http",
  https: "http",
  smtp: "smtp",
  email: "smtp",
  imap: "imap",
  sqlite: "sqlite",
  aws: "s3",
  s3: "s3",
  mssql: "mssql",
  mongo: "mongodb",
  mongodb: "mongodb",
  redis: "redis",
  generic: "generic",
  package_index: "package_index",
};

/** Patchbay ids whose Airflow conn_type differs; every other id is its own conn_type. */
const PATCHBAY_TO_AIRFLOW: Readonly<Record<string, string>> = {
  s3: "aws",
  mongodb: "mongo",
};

/** Airflow's `_normalize_conn_type`. */
export function normalizeAirflowConnType(connType: string): string {
  if (connType === "postgresql") return "postgres";
  return connType.includes("-") ? connType.replaceAll("-", "_") : connType;
}

/** The Patchbay type for an Airflow conn_type (normalised first); null when there is none. */
export function toPatchbayType(airflowType: string): string | null {
  const normalised = normalizeAirflowConnType(airflowType);
  return Object.hasOwn(AIRFLOW_TO_PATCHBAY, normalised) ? AIRFLOW_TO_PATCHBAY[normalised] : null;
}

/** The Airflow conn_type to write for a Patchbay type. */
export function toAirflowType(patchbayType: string): string {
  return Object.hasOwn(PATCHBAY_TO_AIRFLOW, patchbayType) ? PATCHBAY_TO_AIRFLOW[patchbayType] : patchbayType;
}
