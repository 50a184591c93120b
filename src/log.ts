/**
 * A small structured logger: one JSON object a line on stderr. Every string that passes
 * through is run past the redactor, so a secret that slipped into an error message is
 * masked before it is written.
 */
import type { LogLevel } from "./config";

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stderr by default. Tests capture them here. */
  sink?: (line: string) => void;
}

// Keys whose values are never logged, wherever they appear in the fields.
const SENSITIVE_KEY = /pass(word)?|secret|token|authorization|cookie|key$|credential/i;
// Credentials inside URLs: scheme://user:password@host
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/[^:/\s@]*:)[^@\s]*@/gi;
const BEARER = /\b((?:Bearer|Basic)\s+)[^\s"']+/gi;
// key=value credentials, as in query strings and libpq connection strings.
const KEY_VALUE = /\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)=)[^&\s"']+/gi;
const API_TOKEN = /\bpbt_[A-Za-z0-9]+_[A-Za-z0-9]+\b/g;

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") {
    return value
      .replace(URL_CREDENTIALS, "$1***@")
      .replace(BEARER, "$1***")
      .replace(KEY_VALUE, "$1***")
      .replace(API_TOKEN, "pbt_***");
  }
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

export function createLogger(options: LoggerOptions): Logger {
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + "\n"));
  const threshold = order[options.level];
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (order[level] < threshold) return;
    const entry = { level, time: new Date().toISOString(), msg: redact(message), ...(fields ? (redact(fields) as object) : {}) };
    sink(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
  };
}
