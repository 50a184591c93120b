/**
 * Python's json.dumps with its defaults (ensure_ascii=True, separators ", " and ": ", or ","
 * and ": " with an indent), which is how Airflow writes `extra` (`json.dumps(extra_dict)`),
 * the `__extra__` URI parameter and `airflow connections export --file-format json`.
 */

/** Plain JSON data, as JSON.parse returns it. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** json.dumps(value) or json.dumps(value, indent=indent). */
export function pyJsonDumps(value: unknown, indent?: number): string {
  // Reduce to plain JSON data first (toJSON, undefined members), as JSON.stringify would.
  const json = JSON.parse(JSON.stringify(value) ?? "null") as Json;
  return dump(json, indent, 0);
}

/**
 * json.dumps of a dict given as ordered entries: JS objects put integer-like keys first, so a
 * map keyed by conn_id ("123", "prod") must not pass through one.
 */
export function pyJsonDumpsEntries(entries: ReadonlyArray<readonly [string, unknown]>, indent?: number): string {
  if (entries.length === 0) return "{}";
  const item = ([key, v]: readonly [string, unknown]) =>
    pyJsonString(key) + ": " + dump(JSON.parse(JSON.stringify(v) ?? "null") as Json, indent, 1);
  if (indent === undefined) return "{" + entries.map(item).join(", ") + "}";
  const inner = "\n" + " ".repeat(indent);
  return "{" + inner + entries.map(item).join("," + inner) + "\n}";
}

function dump(value: Json, indent: number | undefined, level: number): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pyNumber(value);
  if (typeof value === "string") return pyJsonString(value);
  const entries: Array<[string | null, Json]> = Array.isArray(value)
    ? value.map((v) => [null, v])
    : Object.entries(value);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return open + close;
  const item = ([key, v]: [string | null, Json]) =>
    (key === null ? "" : pyJsonString(key) + ": ") + dump(v, indent, level + 1);
  if (indent === undefined) return open + entries.map(item).join(", ") + close;
  const inner = "\n" + " ".repeat(indent * (level + 1));
  const outer = "\n" + " ".repeat(indent * level);
  return open + inner + entries.map(item).join("," + inner) + outer + close;
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  '"': '\\"',
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

/** encode_basestring_ascii: everything outside space..`~` as \uXXXX (lower-case hex, UTF-16 units). */
export function pyJsonString(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const code = value.charCodeAt(i);
    if (ESCAPES[ch] !== undefined) out += ESCAPES[ch];
    else if (code < 0x20 || code > 0x7e) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

/**
 * A JSON number as Python writes it. An integral value below 1e21 is taken for a Python int
 * written with its shortest digits (JSON.parse cannot tell 1 from 1.0, nor keep the digits of
 * 123456789012345678901); anything else is float.__repr__: the shortest round-tripping
 * digits, in exponent form when the decimal exponent is < -4 or >= 16.
 */
export function pyNumber(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value === 0 ? 0 : value);
  const [mantissa, exp] = value.toExponential().split("e");
  const exponent = Number(exp);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const decpt = exponent + 1;
  let body: string;
  if (decpt <= -4 || decpt > 16) {
    const frac = digits.slice(1);
    const sign = exponent < 0 ? "-" : "+";
    body = digits[0] + (frac ? "." + frac : "") + "e" + sign + String(Math.abs(exponent)).padStart(2, "0");
  } else if (decpt <= 0) {
    body = "0." + "0".repeat(-decpt) + digits;
  } else if (decpt >= digits.length) {
    body = digits + "0".repeat(decpt - digits.length) + ".0";
  } else {
    body = digits.slice(0, decpt) + "." + digits.slice(decpt);
  }
  return (negative ? "-" : "") + body;
}
