/**
 * Connection files, as `airflow connections export` writes them and as Airflow's
 * local-filesystem secrets backend / `airflow connections import` reads them.
 *
 * Export (airflow/cli/commands/connection_command.py, `_format_connections`): connections
 * ordered by conn_id; JSON is `json.dumps({conn_id: _connection_to_dict(c)}, indent=2)` (no
 * trailing newline), YAML is `yaml.dump` of the same dict, .env is one `conn_id=<get_uri()>`
 * line per connection, unquoted.
 *
 * Import (airflow/secrets/local_filesystem.py, `load_connections_dict`): a JSON or YAML
 * object mapping conn_id to a URI string or to an object of Connection arguments; a .env file
 * of `conn_id=value` lines. Where Airflow fails the whole file for one bad connection, entries
 * here fail one by one; a file that does not parse at all throws AirflowFormatError.
 */
import { isMap, isScalar, parseDocument } from "yaml";
import { isPrototypeKey, jsonTextNestsDeeperThan, MAX_JSON_DEPTH, safeJsonCopy, UnsafeJsonError } from "../input/json";
import { AirflowFormatError } from "./errors";
import { parseBoundedJson, unsafeJson } from "./user-json";
import { fromAirflowJson, toAirflowJson, type ParsedJson } from "./json";
import { pyStrCompare, pyTruthy } from "./py-builtins";
import { pyJsonDumpsEntries } from "./py-json";
import { pyYamlDump, type YamlMapping } from "./py-yaml";
import { pyYamlLoadPairs } from "./py-yaml-load";
import { type AirflowFileFormat, CONNECTION_NAME, type PortableConnection, type SecretExtraKeys } from "./types";
import { type AirflowUriDialect, fromAirflowUri, toAirflowUri } from "./uri";

export interface ExportOptions {
  /** How URIs (.env lines) carry non-string extras; default EXTRA_JSON. */
  dialect?: AirflowUriDialect;
  /** Without secrets, password and the type's secret extra keys are left out: a stub for git. */
  includeSecrets: boolean;
  /** The secret extra keys of a Patchbay type (the adapter registry's `secretExtraKeys`). */
  secretExtraKeys: SecretExtraKeys;
}

/** What `airflow connections export --file-format json|yaml|env` writes for these connections. */
export function exportConnections(
  conns: readonly PortableConnection[],
  format: AirflowFileFormat | "AIRFLOW_ENV_VARS",
  options: ExportOptions,
): string {
  const sorted = [...conns]
    .map((c) => (options.includeSecrets ? c : withoutSecrets(c, options.secretExtraKeys)))
    .sort((a, b) => pyStrCompare(a.name, b.name));
  switch (format) {
    case "AIRFLOW_JSON":
      return pyJsonDumpsEntries(
        sorted.map((c) => [c.name, toAirflowJson(c)]),
        2,
      );
    case "AIRFLOW_YAML":
      return pyYamlDump({
        entries: sorted.map((c) => [c.name, { entries: Object.entries(toAirflowJson(c)) }] as const),
      } satisfies YamlMapping);
    case "AIRFLOW_ENV":
      return sorted.map((c) => `${c.name}=${toAirflowUri(c, options.dialect)}\n`).join("");
    case "AIRFLOW_ENV_VARS":
      return sorted.map((c) => airflowEnvVarLine(c, options.dialect)).join("");
  }
}

/** The prefix of Airflow's environment-variables secrets backend. */
export const AIRFLOW_CONN_PREFIX = "AIRFLOW_CONN_";

/**
 * `AIRFLOW_CONN_<CONN_ID>=<uri>`: the variable Airflow's environment backend reads for a
 * conn_id (it upper-cases the id to look it up). A conn_id with `.` or `-` makes a name no
 * shell can export: such connections are left out with a comment saying why.
 */
export function airflowEnvVarLine(c: PortableConnection, dialect?: AirflowUriDialect): string {
  if (!/^[A-Za-z0-9_]+$/.test(c.name)) {
    return `# ${c.name} is left out: a conn_id with '.' or '-' cannot be an environment variable's name.\n`;
  }
  return `${AIRFLOW_CONN_PREFIX}${c.name.toUpperCase()}=${toAirflowUri(c, dialect)}\n`;
}

/** The connection with its password and secret extra keys removed. */
export function withoutSecrets(c: PortableConnection, secretExtraKeys: SecretExtraKeys): PortableConnection {
  const secret = new Set(secretExtraKeys(c.type));
  const extra = Object.fromEntries(Object.entries(c.extra).filter(([k]) => !secret.has(k)));
  return { ...c, password: null, extra };
}

/** A connection read from a file; `type` null: Airflow's conn_type has no Patchbay type. */
export interface ParsedConnection extends ParsedJson {
  name: string;
}

export interface ParsedEntry {
  name: string;
  connection?: ParsedConnection;
  airflowType?: string;
  /** Why this entry cannot be imported; it never contains a secret. */
  error?: string;
}


/** Reads an Airflow connections file. Throws AirflowFormatError when the file does not parse. */
export function parseConnectionsFile(content: string, format: AirflowFileFormat): ParsedEntry[] {
  const raw = format === "AIRFLOW_ENV" ? readEnv(content) : format === "AIRFLOW_JSON" ? readJson(content) : readYaml(content);
  return raw.map(toEntry);
}

/** One conn_id as the file gave it: every value (more than one is an error, as in Airflow). */
interface RawEntry {
  name: string;
  values: unknown[];
  /** .env values are strings holding a URI or JSON; JSON/YAML values are structured. */
  env?: boolean;
  /** Where the values are, for messages about repeats (".env: lines 2, 5"). */
  lines?: number[];
  /** A problem found while reading the file, such as a key that is not a string. */
  error?: string;
}

function toEntry({ name, values, env, lines, error }: RawEntry): ParsedEntry {
  if (error) return { name, error };
  if (!CONNECTION_NAME.test(name)) {
    return { name, error: "The conn_id must be 1 to 200 characters of letters, digits, '_', '.' or '-'." };
  }
  if (name === "." || name === ".." || isPrototypeKey(name)) return { name, error: `"${name}" cannot be a conn_id.` };
  if (values.length > 1) {
    const where = lines ? ` (lines ${lines.join(", ")})` : "";
    return { name, error: `Found multiple values for ${name}${where}.` };
  }
  try {
    const parsed = env ? fromEnvValue(values[0] as string) : fromFileValue(name, values[0]);
    return { name, airflowType: parsed.airflowType, connection: { name, ...parsed } };
  } catch (e) {
    if (e instanceof AirflowFormatError) return { name, error: e.message };
    throw e;
  }
}

/**
 * A JSON/YAML value for one conn_id (local_filesystem `_create_connection`): a URI string,
 * or an object of Connection() arguments, also `uri` (with `description` beside it) and
 * `extra_dejson`; a one-element list stands for its element.
 */
function fromFileValue(name: string, value: unknown): ParsedJson {
  if (Array.isArray(value)) {
    if (value.length === 1) return fromFileValue(name, value[0]);
    throw new AirflowFormatError(
      value.length === 0 ? `No value for ${name}.` : `Found multiple values for ${name}.`,
      name,
    );
  }
  if (typeof value === "string") return { ...fromAirflowUri(value), description: null };
  if (typeof value !== "object" || value === null || value instanceof Date) {
    throw new AirflowFormatError(
      "Unexpected value type. The connection can only be defined using a string or object.",
      name,
    );
  }
  const { conn_id: connId, uri, extra_dejson: extraDejson, ...rest } = value as Record<string, unknown>;
  if (connId !== undefined && connId !== name) {
    throw new AirflowFormatError(`Mismatch conn_id: the object says ${JSON.stringify(connId)}, its key is ${name}.`, "conn_id");
  }
  if (extraDejson !== undefined && rest.extra !== undefined) {
    throw new AirflowFormatError("The extra and extra_dejson parameters are mutually exclusive.", "extra");
  }
  if (extraDejson !== undefined) rest.extra = extraDejson === null ? "null" : extraDejson;
  if (uri !== undefined && uri !== null && uri !== "") {
    if (typeof uri !== "string") throw new AirflowFormatError("uri must be a string.", "uri");
    const mixed = ["conn_type", "host", "login", "password", "schema", "port", "extra"].filter((k) => pyTruthy(rest[k]));
    if (mixed.length > 0) {
      throw new AirflowFormatError(
        `Give either uri or the individual values, not both (also given: ${mixed.join(", ")}).`,
        mixed[0],
      );
    }
    const description = rest.description ?? null;
    if (description !== null && typeof description !== "string") {
      throw new AirflowFormatError("description must be a string or null.", "description");
    }
    return { ...fromAirflowUri(uri), description };
  }
  return fromAirflowJson(rest);
}

/** A .env value: JSON when it starts with `{` (BaseSecretsBackend.deserialize_connection), else a URI. */
function fromEnvValue(value: string): ParsedJson {
  const trimmed = value.trim();
  if (!trimmed.startsWith("{")) return { ...fromAirflowUri(value), description: null };
  return fromAirflowJson(parseBoundedJson(trimmed, "json", "The value starts with '{' but is not valid JSON."));
}


// --- .env -------------------------------------------------------------------------------

/** Python's str.splitlines() separators. */
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;
/** airflow.utils.file.COMMENT_PATTERN, `\s*#.*`, with Python's idea of whitespace. */
const COMMENT = /^[\s\x1c-\x1f]*#/;

function readEnv(content: string): RawEntry[] {
  const lines = content.split(LINE_BREAK);
  // splitlines() gives no empty last line for a trailing line break.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const byName = new Map<string, { values: string[]; lines: number[] }>();
  const errors: string[] = [];
  lines.forEach((line, index) => {
    const lineNo = index + 1;
    if (!line || COMMENT.test(line)) return;
    const eq = line.indexOf("=");
    if (eq === -1) {
      errors.push(`line ${lineNo}: Invalid line format. The line should contain at least one equal sign ("=").`);
      return;
    }
    // AIRFLOW_CONN_MY_DB=... is how the environment backend names my_db: it looks ids up
    // upper-cased, so the id is the rest, lower-cased.
    const rawKey = line.slice(0, eq);
    const key = rawKey.startsWith(AIRFLOW_CONN_PREFIX) && rawKey.length > AIRFLOW_CONN_PREFIX.length
      ? rawKey.slice(AIRFLOW_CONN_PREFIX.length).toLowerCase()
      : rawKey;
    const value = line.slice(eq + 1);
    if (!key) errors.push(`line ${lineNo}: Invalid line format. Key is empty.`);
    else if (!value) errors.push(`line ${lineNo}: Invalid line format. Value is empty.`);
    else {
      const seen = byName.get(key) ?? { values: [], lines: [] };
      seen.values.push(value);
      seen.lines.push(lineNo);
      byName.set(key, seen);
    }
  });
  if (errors.length > 0) throw new AirflowFormatError(`Failed to load the .env file: ${errors.join("; ")}`, "content");
  return [...byName].map(([name, { values, lines: at }]) => ({ name, values, lines: at, env: true }));
}

// --- JSON and YAML ----------------------------------------------------------------------

function readJson(content: string): RawEntry[] {
  if (!content) throw new AirflowFormatError("The file is empty.", "content");
  // Measured before anything parses it: the YAML reading below recurses once per level.
  if (jsonTextNestsDeeperThan(content, MAX_JSON_DEPTH)) {
    throw new AirflowFormatError(`The file nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep.`, "content");
  }
  let data: unknown;
  try {
    data = JSON.parse(content);
  } catch (e) {
    // The parser quotes the text around the error, which may be a password: say where only.
    const where = /position \d+|line \d+ column \d+/.exec((e as Error).message)?.[0];
    throw new AirflowFormatError(`The file is not valid JSON${where ? ` (at ${where})` : ""}.`, "content");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new AirflowFormatError("The file should contain the object.", "content");
  }
  let object: Record<string, unknown>;
  try {
    object = safeJsonCopy(data) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof UnsafeJsonError) throw unsafeJson(error, "content");
    throw error;
  }
  // JSON.parse keeps the last of repeated keys and puts integer-like keys first; read the
  // keys again, in file order, to report repeats (valid JSON is valid YAML 1.2).
  const keys = yamlTopLevelKeys(content) ?? Object.keys(object);
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([name, n]) => ({ name, values: Array(n).fill(object[name]) }));
}

function yamlTopLevelKeys(content: string): string[] | null {
  const doc = parseDocument(content, { version: "1.2", schema: "json", uniqueKeys: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) return null;
  const keys = doc.contents.items.map((pair) => (isScalar(pair.key) ? pair.key.value : undefined));
  return keys.every((k): k is string => typeof k === "string") ? keys : null;
}

function readYaml(content: string): RawEntry[] {
  if (!content) throw new AirflowFormatError("The file is empty.", "content");
  const byName = new Map<string, RawEntry>();
  for (const [key, value] of pyYamlLoadPairs(content)) {
    const name = typeof key === "string" ? key : String(key);
    const raw = byName.get(name) ?? { name, values: [] };
    raw.values.push(value);
    // `123:` or `yes:` is an int or a bool key for PyYAML, which Airflow rejects as a conn_id.
    if (typeof key !== "string") raw.error = `The key ${name} is not a string; quote it to use it as a conn_id.`;
    byName.set(name, raw);
  }
  return [...byName.values()];
}
