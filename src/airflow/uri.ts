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
 * - extra: urlencoded (quote_plus) when every value is a string; otherwise the whole extra as
 *   `__extra__=<json.dumps(extra)>`. The query follows `/?` when there is no schema.
 */
import { normalizeAirflowConnType, toAirflowType, toPatchbayType } from "./conn-types";
import { AirflowFormatError } from "./errors";
import { parseBoundedJson } from "./user-json";
import { pyJsonDumps } from "./py-json";
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

/** What Airflow's get_uri() returns for this connection (conn_type = toAirflowType(type)). */
export function toAirflowUri(c: Omit<PortableConnection, "name" | "description">): string {
  return airflowUri(toAirflowType(c.type), c);
}

/** get_uri() for an explicit Airflow conn_type. */
export function airflowUri(connType: string, c: AirflowFields): string {
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

  const query = extraQuery(c.extra);
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
