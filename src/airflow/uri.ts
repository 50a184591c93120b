/**
 * Airflow's connection URI, written as `Connection.get_uri()` writes it and read as
 * `Connection._parse_from_uri()` reads it (airflow/models/connection.py, Airflow 2.7 to 3.1).
 *
 *   <conn_type>://[<protocol>://][quote(login)[:quote(password)]@][quote(host)][:port][/quote(schema)][?query]
 *
 * - quote is Python's `quote(x, safe="")`; the conn_type is lower-cased with `_` written `-`.
 * - A host holding `://` is split: its protocol is written before the authority, unencoded.
 *   When that protocol equals the conn_type the whole host is quoted instead (Airflow main's
 *   fix; the older form `http://http://h` is not readable by Airflow's own parser).
 * - A port with neither host nor login/password is written `@:port`.
 * - extra, in one of two dialects (AirflowUriDialect):
 *   - EXTRA_JSON (Airflow 2.7 to 3.1): urlencoded (quote_plus) when every value is a string;
 *     otherwise the whole extra as `__extra__=<json.dumps(extra)>`.
 *   - QUERY_PARAMS (Airflow after apache/airflow PR #59339, `_stringify_extra_value`): every
 *     value as a query parameter, dicts and lists as json.dumps, booleans `true`/`false`, None
 *     `null`, numbers as Python's str(); `__extra__` only when that would not read back.
 *   The query follows `/?` when there is no schema. Both dialects are read by every version
 *   (the reader takes `__extra__` when present, else the parameters as strings).
 */
import { normalizeAirflowConnType, toAirflowType, toPatchbayType } from "./conn-types";
import { AirflowFormatError } from "./errors";
import { parseBoundedJson } from "./user-json";
import { pyJsonDumps, pyNumber } from "./py-json";
import {
  hostname,
  port as portOf,
  pyParseQsl,
  pyQuote,
  pyQuotePlus,
  pyUnquote,
  pyUrlencode,
  pyUrlsplit,
  userinfo,
  type SplitResult,
} from "./py-url";
import type { AirflowFields, ParsedFields, PortableConnection } from "./types";

/** Connection.EXTRA_KEY */
export const EXTRA_KEY = "__extra__";

/**
 * How a URI carries non-string extras. EXTRA_JSON is the default: every Airflow version reads
 * it back exactly (types included); QUERY_PARAMS is what Airflow after PR #59339 writes, which
 * plain URL tools (SQLAlchemy, curl) read, but which Airflow 2.7 to 3.1 read back as strings.
 */
export const AIRFLOW_URI_DIALECTS = ["EXTRA_JSON", "QUERY_PARAMS"] as const;
export type AirflowUriDialect = (typeof AIRFLOW_URI_DIALECTS)[number];
export const DEFAULT_URI_DIALECT: AirflowUriDialect = "EXTRA_JSON";

/** A dialect named in a query string or CLI flag: `extra-json`, `query_params`, `QUERY_PARAMS`; null if unknown. */
export function parseUriDialect(text: string): AirflowUriDialect | null {
  const canonical = text.trim().toUpperCase().replaceAll("-", "_");
  return (AIRFLOW_URI_DIALECTS as readonly string[]).includes(canonical) ? (canonical as AirflowUriDialect) : null;
}

/** What Airflow's get_uri() returns for this connection (conn_type = toAirflowType(type)). */
export function toAirflowUri(c: Omit<PortableConnection, "name" | "description">, dialect: AirflowUriDialect = DEFAULT_URI_DIALECT): string {
  return airflowUri(toAirflowType(c.type), c, dialect);
}

/** get_uri() for an explicit Airflow conn_type. */
export function airflowUri(connType: string, c: AirflowFields, dialect: AirflowUriDialect = DEFAULT_URI_DIALECT): string {
  let uri = connType ? `${connType.toLowerCase().replaceAll("_", "-")}://` : "//";

  let hostToUse = c.host;
  if (c.host && c.host.includes("://")) {
    const at = c.host.indexOf("://");
    const protocol = c.host.slice(0, at);
    if (protocol !== connType) {
      hostToUse = c.host.slice(at + 3);
      if (protocol) uri += `${protocol}://`;
    }
  }

  let authority = "";
  if (c.login !== null) authority += pyQuote(c.login, "", "login");
  if (c.password !== null) authority += ":" + pyQuote(c.password, "", "password");
  if (authority !== "") {
    authority += "@";
    uri += authority;
  }

  let hostBlock = "";
  if (hostToUse) hostBlock += pyQuote(hostToUse, "", "host");
  if (c.port) hostBlock += hostBlock === "" && authority === "" ? `@:${c.port}` : `:${c.port}`;
  if (c.schema) hostBlock += `/${pyQuote(c.schema, "", "schema")}`;
  uri += hostBlock;

  const query = dialect === "QUERY_PARAMS" ? stringifiedQuery(c.extra) : extraQuery(c.extra);
  if (query !== null) uri += (c.schema ? "?" : "/?") + query;
  return uri;
}

/** The query string get_uri() writes for extra, or null when there is no extra. */
function extraQuery(extra: Record<string, unknown>): string | null {
  const entries = Object.entries(extra).filter(([, v]) => v !== undefined);
  // An empty extra is stored by Airflow as no extra at all.
  if (entries.length === 0) return null;
  // urlencode(extra_dejson) round-trips through parse_qsl only when every value is a str.
  if (entries.every(([, v]) => typeof v === "string")) {
    return pyUrlencode(entries as Array<[string, string]>);
  }
  return `${EXTRA_KEY}=${pyQuotePlus(pyJsonDumps(extra), "extra")}`;
}

/**
 * The query string Airflow after PR #59339 writes: each value stringified
 * (`Connection._stringify_extra_value`), urlencoded; `__extra__` when parse_qsl would not give
 * the stringified values back (it always does for text without lone surrogates).
 */
function stringifiedQuery(extra: Record<string, unknown>): string | null {
  const entries = Object.entries(extra).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return null;
  const stringified = entries.map(([k, v]) => [k, pyStringifyExtraValue(v)] as [string, string]);
  const query = pyUrlencode(stringified);
  const back = new Map(pyParseQsl(query));
  const same = query !== "" && back.size === stringified.length && stringified.every(([k, v]) => back.get(k) === v);
  return same ? query : `${EXTRA_KEY}=${pyQuotePlus(pyJsonDumps(extra), "extra")}`;
}

/** _stringify_extra_value: dict/list as json.dumps, bool lower-case, None "null", else str(). */
export function pyStringifyExtraValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return value;
  if (typeof value === "number") return pyNumber(value);
  return pyJsonDumps(value);
}

/** A URI read as Airflow reads it: its fields, Airflow's conn_type and the Patchbay type. */
export type ParsedUri = ParsedFields;

/**
 * Connection._parse_from_uri(). Differences, all deliberate: a URI without a scheme is an
 * error (as in `airflow connections add --conn-uri`), and an empty host, schema or login comes
 * back as null where Airflow keeps "" (get_uri treats both alike). Throws AirflowFormatError.
 */
export function fromAirflowUri(uri: string): ParsedUri {
  const schemes = uri.split("://").length - 1;
  if (schemes > 2) throw invalid(uri);
  const hostWithProtocol = schemes === 2;
  const connType = pyUrlsplit(uri).scheme;
  if (!connType) {
    throw new AirflowFormatError(`The URI has no connection type (like postgres://...): ${redact(uri)}`, "uri");
  }
  const airflowType = normalizeAirflowConnType(connType);
  const rest = uri.replaceAll(`${connType}://`, hostWithProtocol ? "" : "//");
  if (hostWithProtocol) {
    const beforeProtocol = rest.split("://")[0];
    if (beforeProtocol.includes("@") || beforeProtocol.includes(":")) throw invalid(uri);
  }
  const parts = pyUrlsplit(rest);
  const protocol = hostWithProtocol ? parts.scheme : "";
  const host = netlocHostname(parts);
  // path[1:] in Python drops one code point, not one UTF-16 unit.
  const quotedSchema = Array.from(parts.path).slice(1).join("");
  const { username, password } = userinfo(parts);
  return {
    type: toPatchbayType(airflowType),
    airflowType,
    host: host ? (protocol ? `${protocol}://${host}` : host) : null,
    port: portOf(parts),
    schema: quotedSchema ? pyUnquote(quotedSchema) : null,
    login: username ? pyUnquote(username) : null,
    password: password === null ? null : password ? pyUnquote(password) : "",
    extra: parts.query ? extraFromQuery(parts.query) : {},
  };
}

/** _parse_netloc_to_hostname: a host that unquotes to a path keeps its case and its `/`. */
function netlocHostname(parts: SplitResult): string {
  let host = pyUnquote(hostname(parts) ?? "");
  if (host.includes("/")) {
    host = parts.netloc;
    if (host.includes("@")) host = host.slice(host.lastIndexOf("@") + 1);
    if (host.includes(":")) host = host.slice(0, host.indexOf(":"));
    host = pyUnquote(host);
  }
  return host;
}

function extraFromQuery(query: string): Record<string, unknown> {
  // dict(parse_qsl(...)): the last of repeated keys wins (a Map keeps "__proto__" a plain key).
  const params = new Map(pyParseQsl(query));
  const extra = params.get(EXTRA_KEY);
  return extra === undefined ? Object.fromEntries(params) : parseExtraJson(extra, "extra");
}

/** Connection._validate_extra: extra must be JSON that parses to an object. */
export function parseExtraJson(text: string, field: string): Record<string, unknown> {
  const value = parseBoundedJson(text, field, "extra is not valid JSON.");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AirflowFormatError("extra must be a JSON object.", field);
  }
  return value as Record<string, unknown>;
}

function invalid(uri: string): AirflowFormatError {
  return new AirflowFormatError(`Invalid connection string: ${redact(uri)}.`, "uri");
}

/** A URI for an error message, with any userinfo replaced: messages must never carry a secret. */
function redact(uri: string): string {
  return uri.replace(/\/\/[^/?#]*@/g, "//***@");
}
