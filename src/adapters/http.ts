/**
 * An HTTP API, laid out like Airflow's HTTP connection: `host` (a bare host name), `schema`
 * as the scheme, `port`, `login`/`password` for basic authentication, and the rest in
 * `extra`. The test requests a configurable path and checks its status, following redirects
 * only where the egress policy allows, and never showing what the server sent back.
 *
 * Airflow also accepts the whole base URL in `host` (`https://api.example.com:8443/v1`); such
 * a host is split on the way in (normalize): scheme, host name and port into their fields, the
 * path into `extra.base_path`, which every request starts with. Toward Airflow (toAirflow) the
 * parts are joined again into that URL in `host`. See common/url-host.ts.
 */
import { describeStatus, httpGet, type HttpAnswer, isHttpFailure, serverHeader, serverUrl, urlPathProblem } from "./common/http-request";
import type { Failure } from "./common/network-errors";
import { type Probe, runProbe } from "./common/probe";
import { hostUrlProblem, joinHostUrl, normalizeHostUrl, type HostUrlOptions } from "./common/url-host";
import type { ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec, TestContext, TestOutcome } from "./types";

export const HTTP_AUTH_TYPES = ["none", "basic", "bearer", "header"] as const;
export type HttpAuthType = (typeof HTTP_AUTH_TYPES)[number];

const DEFAULT_TEST_PATH = "/";
const DEFAULT_EXPECTED_STATUS = "2xx";

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "api.example.com" },
  {
    name: "schema",
    label: "Scheme",
    kind: "SELECT",
    options: ["https", "http"],
    default: "https",
  },
  { name: "port", label: "Port", kind: "INTEGER", description: "Empty: 443 for https, 80 for http." },
  {
    name: "extra.base_path",
    safeToChange: true,
    label: "Base path",
    kind: "STRING",
    placeholder: "/v1",
    description:
      "The path the API lives under, as in https://api.example.com/v1; requests (the test path too) go below it. Filled in from Host when Host is given as a URL.",
  },
  { name: "login", label: "Login", kind: "STRING", description: "The user name for basic authentication." },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true, description: "The password for basic authentication." },
  {
    name: "extra.auth_type",
    label: "Authentication",
    kind: "SELECT",
    options: [...HTTP_AUTH_TYPES],
    default: "none",
    description:
      "none; basic: login and password; bearer: the bearer token; header: a header of your choice. When unset, basic if a login is given.",
  },
  { name: "extra.bearer_token", label: "Bearer token", kind: "PASSWORD", secret: true },
  { name: "extra.header_name", label: "Auth header name", kind: "STRING", placeholder: "X-API-Key" },
  { name: "extra.header_value", label: "Auth header value", kind: "PASSWORD", secret: true },
  {
    name: "extra.headers",
    safeToChange: true,
    label: "Default headers",
    kind: "JSON",
    placeholder: '{"Accept": "application/json"}',
    description: "A JSON object of headers sent with every request. Not stored encrypted: put credentials in the fields above.",
  },
  {
    name: "extra.test_path",
    safeToChange: true,
    label: "Test path",
    kind: "STRING",
    default: DEFAULT_TEST_PATH,
    placeholder: "/health",
    description: "The path (and query) the test requests with GET, below the base path. Empty or /: the base path itself (or /).",
  },
  {
    name: "extra.expected_status",
    safeToChange: true,
    label: "Expected status",
    kind: "STRING",
    default: DEFAULT_EXPECTED_STATUS,
    placeholder: "2xx,304",
    description: "Comma-separated status codes (200) or classes (2xx) that count as success.",
  },
  { name: "extra.verify_tls", label: "Verify TLS certificate", kind: "BOOLEAN", default: true },
];

/** A base URL in `host` puts its path in extra.base_path. */
const HOST_URL: HostUrlOptions = { pathKey: "base_path", pathLabel: "Base path" };

export const httpAdapter: ConnectionAdapter = {
  id: "http",
  label: "HTTP",
  summary: "requests a path with none, basic, bearer or header auth; checks the status; redirects followed within the egress policy, at most 3",
  airflow: { aliases: ["https"] },
  fields,
  normalize: (settings) => normalizeHostUrl(settings, HOST_URL),
  // Airflow's HttpHook takes a host holding "://" as the whole base URL, base path included.
  toAirflow: (settings) => joinHostUrl(settings, HOST_URL),
  validate: (settings) => problemsOf(settings),
  test: testHttp,
};

/** Headers a connection may not set: the request needs them as they are, or they hold secrets. */
const RESERVED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "expect"]);
const CREDENTIAL_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export interface HttpTarget {
  url: URL;
  authType: HttpAuthType;
  headers: Record<string, string>;
  credentials: Record<string, string>;
  expected: StatusMatcher;
  verifyTls: boolean;
}

type StatusMatcher = { text: string; matches(status: number): boolean };

/** What the test requests, defaults applied, or the failure that stops it before sending. */
export function httpTarget(settings: ConnectionSettings): HttpTarget | Failure {
  const problems = problemsOf(settings);
  if (problems.length > 0) return { code: "INVALID_CONFIG", message: problems.map((p) => p.message).join(" ") };
  const extra = settings.extra;
  const url = serverUrl(settings, requestPath(settings).path, "extra.test_path") as URL;
  const authType = authTypeOf(settings);
  const credentials: Record<string, string> = {};
  switch (authType) {
    case "basic":
      credentials.authorization = `Basic ${Buffer.from(`${settings.login}:${settings.password ?? ""}`).toString("base64")}`;
      break;
    case "bearer":
      if (!extra.bearer_token) return { code: "SECRET_REQUIRED", message: "Bearer authentication needs a bearer token, and this connection has none." };
      credentials.authorization = `Bearer ${String(extra.bearer_token)}`;
      break;
    case "header":
      if (!extra.header_value) {
        return { code: "SECRET_REQUIRED", message: `Header authentication needs a value for ${String(extra.header_name)}, and this connection has none.` };
      }
      credentials[String(extra.header_name).toLowerCase()] = String(extra.header_value);
      break;
    case "none":
      break;
  }
  return {
    url,
    authType,
    headers: defaultHeaders(extra.headers) as Record<string, string>,
    credentials,
    expected: statusMatcher(stringOr(extra.expected_status, DEFAULT_EXPECTED_STATUS)) as StatusMatcher,
    verifyTls: extra.verify_tls !== false,
  };
}

function authTypeOf(settings: ConnectionSettings): HttpAuthType {
  const type = settings.extra.auth_type;
  if (type === undefined || type === null || type === "") return settings.login ? "basic" : "none";
  return type as HttpAuthType;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : fallback;
}

/**
 * The path the test requests: the base path followed by the test path (one '/' between them),
 * the base path alone when the test path is empty or "/" (the form's default), or the test
 * path (default /) when there is no base path. `problem` says what is wrong with either part.
 */
export function requestPath(settings: ConnectionSettings): { path: string; problem: FieldProblem | null } {
  const base = stringOr(settings.extra.base_path, "");
  const test = stringOr(settings.extra.test_path, "");
  if (base !== "") {
    const baseProblem = urlPathProblem(base) ?? (/[?]/.test(base) ? "The base path cannot contain '?'; put a query in the test path." : null);
    if (baseProblem) return { path: base, problem: { field: "extra.base_path", message: `Base path: ${baseProblem}` } };
  }
  if (test !== "") {
    const testProblem = urlPathProblem(test);
    if (testProblem) return { path: test, problem: { field: "extra.test_path", message: `Test path: ${testProblem}` } };
  }
  if (base === "") return { path: test || DEFAULT_TEST_PATH, problem: null };
  return { path: test === "" || test === DEFAULT_TEST_PATH ? base : `${base.replace(/\/+$/, "")}${test}`, problem: null };
}

/** The checks beyond the field specs; the test refuses to run while any fails. */
function problemsOf(settings: ConnectionSettings): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const extra = settings.extra;
  const add = (field: string, message: string) => problems.push({ field, message });

  // Where the server is, then what to ask it: one problem with the URL at a time.
  const urlInHost = hostUrlProblem(settings, HOST_URL);
  const server = urlInHost ?? serverUrl(settings, "/", "extra.test_path");
  const request = requestPath(settings);
  if (!(server instanceof URL)) add(server.field, server.message);
  else if (request.problem) add(request.problem.field, request.problem.message);
  const expected = statusMatcher(stringOr(extra.expected_status, DEFAULT_EXPECTED_STATUS));
  if (typeof expected === "string") add("extra.expected_status", expected);
  const headers = defaultHeaders(extra.headers);
  if (typeof headers === "string") add("extra.headers", headers);

  const authType = authTypeOf(settings);
  if (!HTTP_AUTH_TYPES.includes(authType)) add("extra.auth_type", `Authentication must be one of: ${HTTP_AUTH_TYPES.join(", ")}.`);
  if (authType === "basic") {
    if (!settings.login) add("login", "Basic authentication needs a login.");
    else if (settings.login.includes(":")) add("login", "A login for basic authentication cannot contain ':'.");
  }
  if (authType === "header") {
    const name = extra.header_name;
    if (typeof name !== "string" || !TOKEN.test(name)) {
      add("extra.header_name", "Header authentication needs a header name made of letters, digits and - (e.g. X-API-Key).");
    } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
      add("extra.header_name", `${name} is set by the request itself and cannot carry credentials.`);
    }
  }
  for (const [field, value] of [
    ["extra.bearer_token", extra.bearer_token],
    ["extra.header_value", extra.header_value],
  ] as const) {
    if (typeof value === "string" && !HEADER_VALUE.test(value)) add(field, "Credentials cannot contain line breaks or control characters.");
  }
  return problems;
}

/** The default headers as a plain object of strings, or why `extra.headers` is not one. */
function defaultHeaders(value: unknown): Record<string, string> | string {
  if (value === undefined || value === null || value === "") return {};
  let parsed = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      return "Default headers must be a JSON object.";
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "Default headers must be a JSON object.";
  const headers: Record<string, string> = {};
  for (const [name, raw] of Object.entries(parsed)) {
    if (!TOKEN.test(name)) return `Default header name ${JSON.stringify(name)} is not a valid HTTP header name.`;
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) return `Default headers cannot set ${name}; the request sets it itself.`;
    if (CREDENTIAL_HEADERS.has(lower)) {
      return `Default headers are not stored encrypted, so they cannot hold ${name}; use the authentication fields.`;
    }
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
      return `Default header ${name} must be text.`;
    }
    if (!HEADER_VALUE.test(String(raw))) return `Default header ${name} cannot contain line breaks or control characters.`;
    headers[lower] = String(raw);
  }
  return headers;
}

/** "2xx,304" as a matcher, or why it is not a list of codes and classes. */
export function statusMatcher(text: string): StatusMatcher | string {
  const items = text.split(",").map((item) => item.trim().toLowerCase());
  const codes = new Set<number>();
  const classes = new Set<number>();
  for (const item of items) {
    if (/^[1-5]xx$/.test(item)) classes.add(Number(item[0]));
    else if (/^[1-5][0-9]{2}$/.test(item)) codes.add(Number(item));
    else return `Expected status must be a comma-separated list of codes (200) or classes (2xx), not ${JSON.stringify(text)}.`;
  }
  return {
    text: items.join(","),
    matches: (status) => codes.has(status) || classes.has(Math.floor(status / 100)),
  };
}

const probe: Probe<HttpTarget, HttpAnswer | Failure> = {
  fields,
  target: httpTarget,
  // httpGet keeps one deadline over every redirect hop.
  deadline: false,
  open: (target, { ctx }) =>
    httpGet(ctx, { url: target.url, headers: { accept: "*/*", ...target.headers }, credentials: target.credentials, verifyTls: target.verifyTls }),
  describe(target, answer) {
    if (isHttpFailure(answer)) return answer;
    const said = describeStatus(target.url, answer);
    if (target.expected.matches(answer.status)) return { ok: true, message: `${said}.`, serverVersion: serverHeader(answer) };
    const withAuth = target.authType !== "none";
    switch (answer.status) {
      case 401:
        return {
          code: "AUTH_FAILED",
          message: withAuth
            ? `${said}: the server refused the credentials.`
            : `${said}: the server asks for authentication. Choose an authentication type and enter the credentials.`,
        };
      case 403:
        return {
          code: "PERMISSION_DENIED",
          message: withAuth ? `${said}: the credentials do not give access to this path.` : `${said}: the server refuses access to this path.`,
        };
      case 404:
        return { code: "NOT_FOUND", message: `${said}. Check the test path.` };
      default:
        return { code: "PROTOCOL_ERROR", message: `${said}; expected ${target.expected.text}.` };
    }
  },
  classify: (_error, target) => ({ code: "UNKNOWN", message: `The request to ${target.url.host} failed.` }),
};

function testHttp(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}
