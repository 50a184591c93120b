/**
 * Where the client's settings come from: the options first, then PATCHBAY_URL,
 * PATCHBAY_TOKEN, PATCHBAY_WORKSPACE and PATCHBAY_ENVIRONMENT. A missing or malformed one is a CONFIG error that
 * names the option and the variable, raised when the client is created.
 */
import { PatchbayError } from "./errors.js";

/**
 * How airflowUri carries non-string extras (GraphQL `airflowUri(dialect:)`): EXTRA_JSON is
 * `__extra__=<json>`, as Airflow 2.7 to 3.1 write it and every version reads back exactly;
 * QUERY_PARAMS is every extra as its own parameter, as Airflow after apache/airflow PR #59339
 * writes it. `extra-json` and `query-params` (REST's and the CLI's spelling) are accepted too.
 */
export type UriDialect = "EXTRA_JSON" | "QUERY_PARAMS";
/** PostgreSQL's driver in sqlalchemyUrl: PSYCOPG2 (`postgresql+psycopg2://`) or PSYCOPG (psycopg 3). */
export type PostgresDriver = "PSYCOPG2" | "PSYCOPG";

/** What the server writes a resolved connection's URLs in; an unset one is not sent (the server's default). */
export interface UrlOptions {
  dialect?: UriDialect | "extra-json" | "query-params";
  postgresDriver?: PostgresDriver | "psycopg2" | "psycopg";
}

const DIALECTS: readonly UriDialect[] = ["EXTRA_JSON", "QUERY_PARAMS"];
const POSTGRES_DRIVERS: readonly PostgresDriver[] = ["PSYCOPG2", "PSYCOPG"];

/** The dialect and driver, checked and in GraphQL's spelling, or a CONFIG error naming the option. */
export function urlOptions(options: UrlOptions): { dialect: UriDialect | null; postgresDriver: PostgresDriver | null } {
  return {
    dialect: choice(options.dialect, DIALECTS, "dialect", "EXTRA_JSON or QUERY_PARAMS (extra-json, query-params)"),
    postgresDriver: choice(options.postgresDriver, POSTGRES_DRIVERS, "postgresDriver", "PSYCOPG2 or PSYCOPG"),
  };
}

function choice<T extends string>(value: unknown, allowed: readonly T[], name: string, expected: string): T | null {
  if (value === undefined || value === null) return null;
  const normal = typeof value === "string" ? value.trim().toUpperCase().replace(/-/g, "_") : "";
  const found = allowed.find((a) => a === normal);
  // The value itself is not echoed: it may be anything a caller passed by mistake.
  if (!found) throw new PatchbayError("CONFIG", `${name} must be ${expected}.`, { field: name });
  return found;
}

export interface PatchbayClientOptions {
  /** The server's base URL, e.g. https://patchbay.example.com (default: PATCHBAY_URL). */
  url?: string;
  /** An API token (`pbt_…`, needs RESOLVE to resolve) or a session token (default: PATCHBAY_TOKEN). */
  token?: string;
  /** Workspace slug; needed with a person's session token (default: PATCHBAY_WORKSPACE). */
  workspace?: string;
  /** Resolve that environment's values, e.g. prod (default: PATCHBAY_ENVIRONMENT; unset: the connection's own). */
  environment?: string;
  /** The Airflow URI dialect of `airflowUri` (default: the server's, EXTRA_JSON); `connection(name, { dialect })` for one call. */
  dialect?: UrlOptions["dialect"];
  /** PostgreSQL's driver in `sqlalchemyUrl` (default: the server's, PSYCOPG2); `connection(name, { postgresDriver })` for one call. */
  postgresDriver?: UrlOptions["postgresDriver"];
  /** How long a resolved connection is reused without asking again; 0 turns caching off. Default 30 000. */
  cacheTtlMs?: number;
  /** Deadline of each request to Patchbay, and the default connect timeout of pools. Default 10 000. */
  timeoutMs?: number;
  /** The fetch to use (default: the global one); tests count requests with it. */
  fetch?: typeof globalThis.fetch;
  /** Where to read the PATCHBAY_* variables (default: process.env). */
  env?: Record<string, string | undefined>;
}

export interface ResolvedOptions {
  url: string;
  token: string | null;
  workspace: string | null;
  environment: string | null;
  dialect: UriDialect | null;
  postgresDriver: PostgresDriver | null;
  cacheTtlMs: number;
  timeoutMs: number;
  fetch: typeof globalThis.fetch;
}

export const DEFAULT_CACHE_TTL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 10_000;

export function resolveOptions(options: PatchbayClientOptions, { requireToken }: { requireToken: boolean }): ResolvedOptions {
  const env = options.env ?? process.env;
  const rawUrl = pick(options.url, env.PATCHBAY_URL);
  if (!rawUrl) {
    throw new PatchbayError("CONFIG", "No Patchbay URL: set PATCHBAY_URL (e.g. https://patchbay.example.com) or pass { url }.");
  }
  const token = pick(options.token, env.PATCHBAY_TOKEN) ?? null;
  if (requireToken && !token) {
    throw new PatchbayError("CONFIG", "No Patchbay token: set PATCHBAY_TOKEN to an API token or pass { token }.");
  }
  if (token && /\s/.test(token)) {
    // Never echo it: a pasted token with a newline is still a secret.
    throw new PatchbayError("CONFIG", "The Patchbay token contains whitespace; check PATCHBAY_TOKEN (or the token option).");
  }
  return {
    url: baseUrl(rawUrl),
    token,
    workspace: pick(options.workspace, env.PATCHBAY_WORKSPACE) ?? null,
    environment: nameLike(pick(options.environment, env.PATCHBAY_ENVIRONMENT) ?? null, "environment", "PATCHBAY_ENVIRONMENT"),
    ...urlOptions(options),
    cacheTtlMs: nonNegative(options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS, "cacheTtlMs"),
    timeoutMs: positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs"),
    fetch: options.fetch ?? globalThis.fetch,
  };
}

/** The server's base URL without a trailing slash or /graphql, or a CONFIG error. */
export function baseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new PatchbayError("CONFIG", "PATCHBAY_URL is not a URL; expected e.g. https://patchbay.example.com.");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PatchbayError("CONFIG", `PATCHBAY_URL must be http:// or https://, not ${url.protocol}//.`);
  }
  if (url.username || url.password) {
    throw new PatchbayError("CONFIG", "PATCHBAY_URL must not carry credentials; send the token as PATCHBAY_TOKEN.");
  }
  url.search = "";
  url.hash = "";
  return url.toString().replace(/\/+$/, "").replace(/\/graphql$/, "");
}

function pick(...values: Array<string | undefined>): string | undefined {
  for (const value of values) if (value !== undefined && value.trim() !== "") return value.trim();
  return undefined;
}

/** An optional name-like setting: null, or 1 to 200 printable characters without spaces. */
function nameLike(value: string | null, name: string, variable: string): string | null {
  if (value === null) return null;
  if (value.length > 200 || /[\s\p{C}]/u.test(value)) {
    throw new PatchbayError("CONFIG", `The ${name} (${variable}) must be 1 to 200 printable characters without spaces.`);
  }
  return value;
}

function nonNegative(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 0) throw new PatchbayError("CONFIG", `${name} must be a number ≥ 0.`);
  return value;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new PatchbayError("CONFIG", `${name} must be a number > 0.`);
  return value;
}
