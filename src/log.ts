/**
 * The structured logger: pino, one JSON object a line on stderr. Every string that passes
 * through is run past the redactor first, so a secret that slipped into an error message is
 * masked before it is written.
 */
import pino from "pino";
import type { LogLevel } from "./config";

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether a line at `level` would be written (to skip building costly debug fields). */
  enabled?(level: LogLevel): boolean;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go (without their newline); stderr by default. Tests capture them here. */
  sink?: (line: string) => void;
}

// Keys whose values are never logged, wherever they appear in the fields.
const SENSITIVE_KEY = /pass(word)?|secret|token|authorization|cookie|key$|credential/i;
// Names of credentials as they appear in free text: password, PGPASSWORD, aws_secret_access_key, apiToken, …
const CREDENTIAL_NAME = String.raw`[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)`;
// Credentials inside URLs: scheme://user:password@host
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s]*@/gi;
const BEARER = /\b((?:Bearer|Basic)\s+)[^\s"']+/gi;
// "password": "…" and 'password': '…' (JSON, Python dicts), the name anywhere in the key.
const QUOTED_PAIR = new RegExp(String.raw`((["'])${CREDENTIAL_NAME}[A-Za-z0-9_.-]*\2\s*:\s*)(["'])(?:\\.|(?!\3)[^\\])*\3`, "gi");
// password=…, PGPASSWORD=…, aws_secret_access_key=… (query strings, libpq, env files) and
// password: … (YAML, log messages); a quoted value is masked whole.
const NAMED_VALUE = new RegExp(String.raw`(^|[^A-Za-z0-9_])(${CREDENTIAL_NAME}\s*(?:=|:\s)\s*)("[^"]*"|'[^']*'|[^&\s"',;}]+)`, "gi");
const API_TOKEN = /\bpbt_[A-Za-z0-9]+_[A-Za-z0-9]+\b/g;
// Every pattern above needs one of these words in the text: a string without any is returned
// as it is, which spares the common line (an access line's route, status, actor id) five scans.
const MIGHT_HOLD_A_CREDENTIAL = /:\/\/|bearer|basic|pass|pwd|secret|token|key|credential|pbt_/i;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return MIGHT_HOLD_A_CREDENTIAL.test(value) ? maskCredentials(value) : value;
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message), stack: redact(value.stack) };
  }
  if (Array.isArray(value)) return depth > 5 ? "[…]" : value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    if (depth > 5) return "[…]";
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE_KEY.test(k) ? "***" : redact(v, depth + 1);
    return out;
  }
  return value;
}

/** Every pattern applied to one text (redact skips texts that cannot match any). */
export function maskCredentials(text: string): string {
  return text
    .replace(URL_CREDENTIALS, "$1***@")
    .replace(BEARER, "$1***")
    .replace(QUOTED_PAIR, "$1$3***$3")
    .replace(NAMED_VALUE, (_all, before: string, name: string, found: string) => `${before}${name}${quoteOf(found)}***${quoteOf(found)}`)
    .replace(API_TOKEN, "pbt_***");
}

function quoteOf(value: string): string {
  return value.startsWith('"') || value.startsWith("'") ? value[0] : "";
}

export function createLogger(options: LoggerOptions): Logger {
  const sink = options.sink;
  const destination = sink ? { write: (chunk: string) => sink(chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk) } : stderr();
  const log = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (!log.isLevelEnabled(level)) return;
    log[level](fields ? (redact(fields) as object) : {}, redact(message) as string);
    unflushed = true;
    if (level === "warn" || level === "error") flushNow();
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    enabled: (level) => log.isLevelEnabled(level),
  };
}

let stderrBuffer: ReturnType<typeof pino.destination> | undefined;
let unflushed = false;

/**
 * Stderr, buffered: lines leave in writes of up to 4 KiB rather than one write(2) per line,
 * which under load is a request's largest single cost after its own socket writes. A warning
 * or an error leaves at once, everything else within 200 ms, and all of it synchronously when
 * the process exits (an uncaught error and process.exit() included); a SIGKILL can lose the
 * last 200 ms of info lines. One buffer per process, whatever the number of loggers.
 */
function stderr(): ReturnType<typeof pino.destination> {
  if (stderrBuffer) return stderrBuffer;
  // Synchronous writes, so nothing is ever in flight: a flush is complete when it returns.
  const buffer = pino.destination({ fd: 2, sync: true, minLength: 4096 });
  setInterval(flushNow, 200).unref();
  process.once("exit", () => {
    unflushed = true;
    flushNow();
  });
  stderrBuffer = buffer;
  return buffer;
}

function flushNow(): void {
  if (!unflushed || !stderrBuffer) return;
  unflushed = false;
  try {
    stderrBuffer.flushSync();
  } catch {
    // stderr is gone: nothing left to tell.
  }
}
