/**
 * Python's urllib.parse, as far as Airflow's connection code uses it (CPython 3.11/3.12):
 * quote, quote_plus, unquote, urlencode, parse_qsl and urlsplit with the SplitResult
 * properties username, password, hostname and port. Each follows CPython's algorithm, not
 * WHATWG URL parsing, because Airflow's URIs are only ever read and written by these.
 */
import { isIPv4, isIPv6 } from "node:net";
import { AirflowFormatError } from "./errors";

/** quote()'s always-safe set: ASCII letters, digits and `_.-~`. */
const ALWAYS_SAFE = /[A-Za-z0-9_.\-~]/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

function hex2(byte: number): string {
  return "%" + byte.toString(16).toUpperCase().padStart(2, "0");
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function assertWellFormed(value: string, field: string): void {
  // Python encodes with errors="strict": a lone surrogate cannot be written as UTF-8.
  if (LONE_SURROGATE.test(value)) {
    throw new AirflowFormatError(`The ${field} contains a lone UTF-16 surrogate, which cannot be encoded as UTF-8.`, field);
  }
}

/** urllib.parse.quote(value, safe=safe): UTF-8, upper-case hex, `A-Za-z0-9_.-~` never encoded. */
export function pyQuote(value: string, safe = "", field = "value"): string {
  assertWellFormed(value, field);
  let out = "";
  for (const ch of value) {
    if (ch.length === 1 && ch.charCodeAt(0) < 0x80 && (ALWAYS_SAFE.test(ch) || safe.includes(ch))) {
      out += ch;
    } else {
      for (const byte of encoder.encode(ch)) out += hex2(byte);
    }
  }
  return out;
}

/** urllib.parse.quote_plus(value, safe=""): like quote, but a space becomes `+` (and `+` is encoded). */
export function pyQuotePlus(value: string, field = "value"): string {
  if (!value.includes(" ")) return pyQuote(value, "", field);
  return pyQuote(value, " ", field).replaceAll(" ", "+");
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/**
 * urllib.parse.unquote(value) (encoding utf-8, errors "replace"): `%XX` becomes a byte, runs of
 * bytes are decoded as UTF-8 with U+FFFD for invalid sequences, a `%` not followed by two hex
 * digits stays as it is.
 */
export function pyUnquote(value: string): string {
  if (!value.includes("%")) return value;
  let out = "";
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) out += decoder.decode(new Uint8Array(bytes));
    bytes = [];
  };
  let i = 0;
  while (i < value.length) {
    const code = value.charCodeAt(i);
    if (value[i] === "%" && HEX.test(value.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 3;
    } else if (code < 0x80) {
      // ASCII joins the byte run (it cannot complete a multi-byte sequence, as in CPython).
      bytes.push(code);
      i += 1;
    } else {
      flush();
      const ch = String.fromCodePoint(value.codePointAt(i)!);
      out += ch;
      i += ch.length;
    }
  }
  flush();
  return out;
}

/** urllib.parse.urlencode(pairs) with the default quote_via=quote_plus, for string pairs. */
export function pyUrlencode(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([k, v]) => `${pyQuotePlus(k, "extra key")}=${pyQuotePlus(v, `extra.${k}`)}`).join("&");
}

/** urllib.parse.parse_qsl(qs, keep_blank_values=True): `&` separates, `+` means space. */
export function pyParseQsl(qs: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const nameValue of qs.split("&")) {
    if (!nameValue) continue;
    const eq = nameValue.indexOf("=");
    const name = eq === -1 ? nameValue : nameValue.slice(0, eq);
    const value = eq === -1 ? "" : nameValue.slice(eq + 1);
    out.push([pyUnquote(name.replaceAll("+", " ")), pyUnquote(value.replaceAll("+", " "))]);
  }
  return out;
}

export interface SplitResult {
  scheme: string;
  netloc: string;
  path: string;
  query: string;
  fragment: string;
}

const SCHEME_CHARS = /^[A-Za-z0-9+\-.]+$/;
// Bytes urlsplit strips from the start (WHATWG C0 control or space) and removes everywhere.
const LEADING_C0_OR_SPACE = /^[\x00-\x20]+/;
const UNSAFE_BYTES = /[\t\r\n]/g;

/** urllib.parse.urlsplit(url); throws AirflowFormatError where CPython raises ValueError. */
export function pyUrlsplit(input: string): SplitResult {
  let url = input.replace(LEADING_C0_OR_SPACE, "").replace(UNSAFE_BYTES, "");
  let scheme = "";
  let netloc = "";
  let query = "";
  let fragment = "";
  const colon = url.indexOf(":");
  if (colon > 0 && /^[A-Za-z]/.test(url) && SCHEME_CHARS.test(url.slice(0, colon))) {
    scheme = url.slice(0, colon).toLowerCase();
    url = url.slice(colon + 1);
  }
  if (url.startsWith("//")) {
    let end = url.length;
    for (const delim of "/?#") {
      const at = url.indexOf(delim, 2);
      if (at >= 0) end = Math.min(end, at);
    }
    netloc = url.slice(2, end);
    url = url.slice(end);
    const open = netloc.includes("[");
    const close = netloc.includes("]");
    if (open !== close) throw new AirflowFormatError("Invalid IPv6 URL", "uri");
    if (open && close) checkBracketedNetloc(netloc);
  }
  const hash = url.indexOf("#");
  if (hash >= 0) {
    fragment = url.slice(hash + 1);
    url = url.slice(0, hash);
  }
  const q = url.indexOf("?");
  if (q >= 0) {
    query = url.slice(q + 1);
    url = url.slice(0, q);
  }
  checkNetloc(netloc);
  return { scheme, netloc, path: url, query, fragment };
}

function checkBracketedNetloc(netloc: string): void {
  const hostAndPort = rpartition(netloc, "@")[2];
  const [beforeBracket, haveOpen, bracketed] = partition(hostAndPort, "[");
  let host: string;
  if (haveOpen) {
    if (beforeBracket) throw new AirflowFormatError("Invalid IPv6 URL", "uri");
    const [h, , port] = partition(bracketed, "]");
    if (port && !port.startsWith(":")) throw new AirflowFormatError("Invalid IPv6 URL", "uri");
    host = h;
  } else {
    // CPython checks the host even when the brackets were in the userinfo.
    host = partition(hostAndPort, ":")[0];
  }
  if (host.startsWith("v")) {
    if (!/^v[a-fA-F0-9]+\..+$/s.test(host)) throw new AirflowFormatError("IPvFuture address is invalid", "uri");
  } else if (isIPv4(host)) {
    throw new AirflowFormatError("An IPv4 address cannot be in brackets", "uri");
  } else if (!isIPv6(host)) {
    throw new AirflowFormatError(`'${host}' does not appear to be an IPv4 or IPv6 address`, "uri");
  }
}

/** CPython's _checknetloc: reject netlocs that NFKC-normalise into URL delimiters. */
function checkNetloc(netloc: string): void {
  if (!netloc || /^[\x00-\x7f]*$/.test(netloc)) return;
  const n = netloc.replace(/[@:#?]/g, "");
  const normalised = n.normalize("NFKC");
  if (n === normalised) return;
  for (const c of "/?#@:") {
    if (normalised.includes(c)) {
      throw new AirflowFormatError("The URI's netloc (login, password, host) contains invalid characters under NFKC normalization.", "uri");
    }
  }
}

export function partition(value: string, sep: string): [string, string, string] {
  const at = value.indexOf(sep);
  return at === -1 ? [value, "", ""] : [value.slice(0, at), sep, value.slice(at + sep.length)];
}

export function rpartition(value: string, sep: string): [string, string, string] {
  const at = value.lastIndexOf(sep);
  return at === -1 ? ["", "", value] : [value.slice(0, at), sep, value.slice(at + sep.length)];
}

/** SplitResult.username / .password (raw, still percent-encoded). */
export function userinfo(parts: SplitResult): { username: string | null; password: string | null } {
  const [info, haveInfo] = rpartition(parts.netloc, "@");
  if (!haveInfo) return { username: null, password: null };
  const [username, havePassword, password] = partition(info, ":");
  return { username, password: havePassword ? password : null };
}

function hostinfo(parts: SplitResult): { hostname: string; port: string | null } {
  const hostPart = rpartition(parts.netloc, "@")[2];
  const [, haveOpen, bracketed] = partition(hostPart, "[");
  let hostname: string;
  let port: string;
  if (haveOpen) {
    const [h, , rest] = partition(bracketed, "]");
    hostname = h;
    port = partition(rest, ":")[2];
  } else {
    [hostname, , port] = partition(hostPart, ":");
  }
  return { hostname, port: port || null };
}

/** SplitResult.hostname: lower-cased up to the first `%` (an IPv6 zone keeps its case); null if empty. */
export function hostname(parts: SplitResult): string | null {
  const { hostname: host } = hostinfo(parts);
  if (!host) return null;
  const [before, percent, zone] = partition(host, "%");
  return before.toLowerCase() + percent + zone;
}

/** SplitResult.port: an int in 0..65535, or null; anything else is CPython's ValueError. */
export function port(parts: SplitResult): number | null {
  const { port: raw } = hostinfo(parts);
  if (raw === null) return null;
  if (!/^[0-9]+$/.test(raw)) {
    // The text after ':' may be a password that was not percent-encoded: never quote it.
    throw new AirflowFormatError("Port could not be cast to integer value (is a ':' or '/' in the password not percent-encoded?)", "port");
  }
  const value = Number.parseInt(raw, 10);
  if (value > 65535) throw new AirflowFormatError("Port out of range 0-65535", "port");
  return value;
}
