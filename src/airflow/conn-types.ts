/**
 * Airflow conn_type <-> Patchbay type id.
 *
 * Airflow normalises a conn_type read from a URI or from JSON with
 * `Connection._normalize_conn_type` (airflow/models/connection.py): exactly `postgresql`
 * becomes `postgres`, otherwise every `-` becomes `_` (a URI scheme cannot hold `_`, so
 * `get_uri` writes `_` as `-`). Conn types are case-sensitive in Airflow (hook lookup is by
 * exact key), so no case folding happens here either.
 */
import { getAdapter, listAdapters } from "../adapters/registry";
import type { ConnectionAdapter } from "../adapters/types";

// Each adapter names its own conn_type and aliases (ConnectionAdapter.airflow); every
// registry id also reads as itself (`s3`, `mongodb`).
const AIRFLOW_TO_PATCHBAY: ReadonlyMap<string, string> = new Map(
  listAdapters().flatMap((adapter) => [adapter.id, ...airflowNamesOf(adapter)].map((name) => [name, adapter.id] as const)),
);

function airflowNamesOf(adapter: ConnectionAdapter): string[] {
  return [adapter.airflow?.connType ?? adapter.id, ...(adapter.airflow?.aliases ?? [])];
}

/** Airflow's `_normalize_conn_type`. */
export function normalizeAirflowConnType(connType: string): string {
  if (connType === "postgresql") return "postgres";
  return connType.includes("-") ? connType.replaceAll("-", "_") : connType;
}

/** The Patchbay type for an Airflow conn_type (normalised first); null when there is none. */
export function toPatchbayType(airflowType: string): string | null {
  const normalised = normalizeAirflowConnType(airflowType);
  return AIRFLOW_TO_PATCHBAY.get(normalised) ?? null;
}

/** The Airflow conn_type to write for a Patchbay type. */
export function toAirflowType(patchbayType: string): string {
  return getAdapter(patchbayType)?.airflow?.connType ?? patchbayType;
}
