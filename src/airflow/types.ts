import type { ConnectionSettings } from "../adapters/types";

/**
 * The shape the Airflow import/export functions work on: a connection with its secrets
 * decrypted (the adapters' settings, `extra` holding secret and plain keys), independent of
 * storage. It is also what resolving a connection returns.
 */
export interface PortableConnection extends ConnectionSettings {
  /** Airflow's conn_id. */
  name: string;
  /** Patchbay type id (postgres, mysql, http, smtp, imap, sqlite, s3, package_index, mssql, mongodb, redis, generic). */
  type: string;
  description: string | null;
}

/** The Airflow fields of a connection: everything but its name, type and description. */
export type AirflowFields = Omit<PortableConnection, "name" | "type" | "description">;

/**
 * A connection read from an Airflow format. `type` is the Patchbay type, or null when Airflow's
 * conn_type (`airflowType`, already normalised as Airflow does) has no Patchbay equivalent;
 * the caller decides whether that is an error or a `generic` connection.
 */
export interface ParsedFields extends AirflowFields {
  type: string | null;
  airflowType: string;
}

/** Airflow's export files and URIs; JUPYSQL_INI is export-only. */
export type AirflowFileFormat = "AIRFLOW_JSON" | "AIRFLOW_YAML" | "AIRFLOW_ENV";

/** Returns the extra keys that are secret for a Patchbay type (from the adapter registry). */
export type SecretExtraKeys = (type: string) => readonly string[];

/** Patchbay's conn_id rule (DESIGN.md), as Airflow's REST API requires it. */
export const CONNECTION_NAME = /^[A-Za-z0-9_.-]{1,200}$/;
