/**
 * Airflow's JSON form of a connection.
 *
 * Written as `airflow connections export` writes each entry (`_connection_to_dict` in
 * airflow/cli/commands/connection_command.py): the keys conn_type, description, login,
 * password, host, port, schema, extra in that order, with `extra` the connection's stored
 * extra *string* (`json.dumps(extra_dict)`), or null.
 *
 * Read as `Connection.from_json` reads it (airflow/models/connection.py): `extra` may be a
 * JSON string or an object, the conn_type is normalised, a port may be a number or a numeric
 * string; falsy values (0, "", {}, null) mean "not set".
 */
import { normalizeAirflowConnType, toAirflowType, toPatchbayType } from "./conn-types";
import { AirflowFormatError } from "./errors";
import { pyTruthy } from "./py-builtins";
import { pyJsonDumps } from "./py-json";
import type { ParsedFields, PortableConnection } from "./types";
import { parseExtraJson } from "./uri";

export interface AirflowJson {
  conn_type: string;
  description: string | null;
  login: string | null;
  password: string | null;
  host: string | null;
  port: number | null;
  schema: string | null;
  /** The extra as Airflow stores it: a JSON string (Python json.dumps format), or null. */
  extra: string | null;
}

export interface ParsedJson extends ParsedFields {
  description: string | null;
}

/** Airflow's stored extra string for an extra object: json.dumps(extra), or null when empty. */
export function airflowExtraString(extra: Record<string, unknown>): string | null {
  return Object.values(extra).some((v) => v !== undefined) ? pyJsonDumps(extra) : null;
}

export function toAirflowJson(c: Omit<PortableConnection, "name">): AirflowJson {
  return {
    conn_type: toAirflowType(c.type),
    description: c.description,
    login: c.login,
    password: c.password,
    host: c.host,
    port: c.port,
    schema: c.schema,
    extra: airflowExtraString(c.extra),
  };
}

const TEXT_FIELDS = ["description", "host", "login", "password", "schema"] as const;
const JSON_KEYS = new Set<string>(["conn_id", "conn_type", ...TEXT_FIELDS, "port", "extra"]);

/**
 * Connection.from_json for an already-parsed value. `conn_id` is accepted and ignored (the
 * name comes from elsewhere); any other unknown key is an error, as Airflow's
 * `Connection(**kwargs)` would raise. Throws AirflowFormatError naming the field.
 */
export function fromAirflowJson(value: unknown): ParsedJson {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AirflowFormatError("A connection in JSON form must be an object.", "json");
  }
  const obj = value as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => !JSON_KEYS.has(k));
  if (unknown.length > 0) {
    throw new AirflowFormatError(
      `Unknown key(s) ${unknown.map((k) => `"${k}"`).join(", ")}; allowed are ${[...JSON_KEYS].join(", ")}.`,
      unknown[0],
    );
  }
  const connType = obj.conn_type;
  if (typeof connType !== "string" || connType === "") {
    throw new AirflowFormatError("conn_type is required and must be a string.", "conn_type");
  }
  const airflowType = normalizeAirflowConnType(connType);
  const text = Object.fromEntries(TEXT_FIELDS.map((f) => [f, textField(obj[f], f)])) as Record<
    (typeof TEXT_FIELDS)[number],
    string | null
  >;
  return {
    type: toPatchbayType(airflowType),
    airflowType,
    ...text,
    // Airflow keeps "" where a field is blank; here, as for URIs, blank reads as not set.
    host: text.host || null,
    schema: text.schema || null,
    login: text.login || null,
    port: portField(obj.port),
    extra: extraField(obj.extra),
  };
}

function textField(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") throw new AirflowFormatError(`${field} must be a string or null.`, field);
  return value;
}

/** from_json: `if port: int(port)`; also Airflow's port range 0..65535. */
export function portField(value: unknown): number | null {
  if (value === null || value === undefined || value === "" || value === 0 || value === false) return null;
  let port: number;
  if (typeof value === "number" && Number.isInteger(value)) port = value;
  else if (typeof value === "string" && /^\s*\+?\d+\s*$/.test(value)) port = Number.parseInt(value, 10);
  else throw new AirflowFormatError(`Expected integer value for \`port\`, but got ${JSON.stringify(value)} instead.`, "port");
  if (port < 0 || port > 65535) {
    throw new AirflowFormatError(`Expected value for \`port\` in the range 0-65535, but got ${port} instead.`, "port");
  }
  return port === 0 ? null : port;
}

/** from_json: a truthy extra is kept as a string or json.dumps'd, then must be a JSON object. */
export function extraField(value: unknown): Record<string, unknown> {
  if (!pyTruthy(value)) return {};
  if (typeof value === "string") return parseExtraJson(value, "extra");
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new AirflowFormatError("extra must be a JSON object or a string holding one.", "extra");
}

/** Python truthiness for JSON values. */
