/**
 * Airflow's JSON form of one connection as code receives it: what Airflow's
 * `Connection.as_json()` / `to_dict()` give and what its secrets backends accept
 * (`Connection.from_json`), with `extra` as an object. Export files use the string form
 * of `airflow connections export` instead (json.ts).
 */
import { toAirflowType } from "./conn-types";
import type { PortableConnection } from "./types";

export interface AirflowConnectionDict {
  conn_type: string;
  description: string | null;
  host: string | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  port: number | null;
  extra: Record<string, unknown>;
}

export function toAirflowConnectionDict(c: Omit<PortableConnection, "name">): AirflowConnectionDict {
  return {
    conn_type: toAirflowType(c.type),
    description: c.description,
    host: c.host,
    login: c.login,
    password: c.password,
    schema: c.schema,
    port: c.port,
    extra: c.extra,
  };
}
