/**
 * A Python package index (PyPI, a devpi or pypiserver mirror, Artifactory, Nexus, ...),
 * through its simple repository API (PEP 503 HTML, or PEP 691 JSON when the server prefers
 * it). The URL is split into Patchbay's common fields: `host`, `schema` as the scheme,
 * `port`, and `extra.path` for the index root (default `/simple/`); `login` and `password`
 * are sent with basic authentication. The test reads the index root and counts its projects.
 *
 * An index URL pasted into `host` (`https://pypi.example.com/repository/pypi/simple/`, as
 * Airflow's package_index connection keeps it) is split so on the way in (normalize); a URL
 * with no path, or just "/", leaves the path at its default. Toward Airflow (toAirflow) the
 * parts are joined again into the index URL in `host`. See common/url-host.ts.
 */
import { describeStatus, httpGet, isHttpFailure, serverHeader, serverUrl, type HttpAnswer } from "./common/http-request";
import type { Failure } from "./common/network-errors";
import { type Probe, runProbe } from "./common/probe";
import { hostUrlProblem, joinHostUrl, normalizeHostUrl, type HostUrlOptions } from "./common/url-host";
import type { ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec, TestContext, TestOutcome } from "./types";

const DEFAULT_PATH = "/simple/";
/** Enough of PyPI's own root (tens of MB) to count its first few thousand projects. */
const MAX_INDEX_BYTES = 1024 * 1024;
const HTML_TYPES = "application/vnd.pypi.simple.v1+html, text/html;q=0.9";

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "pypi.example.com" },
  { name: "schema", label: "Scheme", kind: "SELECT", options: ["https", "http"], default: "https" },
  { name: "port", label: "Port", kind: "INTEGER", description: "Empty: 443 for https, 80 for http." },
  {
    name: "extra.path",
    safeToChange: true,
    label: "Index path",
    kind: "STRING",
    default: DEFAULT_PATH,
    placeholder: "/repository/pypi/simple/",
    description: "The path of the simple index on the server, as in https://host/simple/.",
  },
  { name: "login", label: "Login", kind: "STRING", description: "For indexes that need basic authentication." },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true },
  { name: "extra.verify_tls", label: "Verify TLS certificate", kind: "BOOLEAN", default: true },
];

/** An index URL in `host` puts its path in extra.path. */
const HOST_URL: HostUrlOptions = { pathKey: "path", pathLabel: "Index path", defaultPath: DEFAULT_PATH };

export const packageIndexAdapter: ConnectionAdapter = {
  id: "package_index",
  label: "Python package index",
  summary: "reads a PEP 503/691 simple index, with optional basic auth",
  fields,
  normalize: (settings) => normalizeHostUrl(settings, HOST_URL),
  // Airflow's PackageIndexHook takes the whole index URL from host.
  toAirflow: (settings) => joinHostUrl(settings, { ...HOST_URL, emptyPath: DEFAULT_PATH }),
  validate: (settings) => problemsOf(settings),
  test: testPackageIndex,
};

function indexPath(settings: ConnectionSettings): string {
  const path = settings.extra.path;
  return typeof path === "string" && path.trim() !== "" ? path.trim() : DEFAULT_PATH;
}

function problemsOf(settings: ConnectionSettings): FieldProblem[] {
  const urlInHost = hostUrlProblem(settings, HOST_URL);
  const url = urlInHost ?? serverUrl(settings, indexPath(settings), "extra.path");
  const problems: FieldProblem[] = url instanceof URL ? [] : [url];
  if (settings.login?.includes(":")) problems.push({ field: "login", message: "A login for basic authentication cannot contain ':'." });
  if (!settings.login && settings.password) {
    problems.push({ field: "login", message: "A password is sent only with a login; enter the login too." });
  }
  return problems;
}

const probe: Probe<{ url: URL; login: string | null }, HttpAnswer | Failure> = {
  fields,
  target(settings) {
    const problems = problemsOf(settings);
    if (problems.length > 0) return { code: "INVALID_CONFIG", message: problems.map((p) => p.message).join(" ") };
    return { url: serverUrl(settings, indexPath(settings), "extra.path") as URL, login: settings.login };
  },
  // httpGet keeps one deadline over every redirect hop.
  deadline: false,
  open: ({ url, login }, { ctx, settings }) =>
    httpGet(ctx, {
      url,
      headers: { accept: HTML_TYPES },
      credentials: login ? { authorization: `Basic ${Buffer.from(`${login}:${settings.password ?? ""}`).toString("base64")}` } : {},
      verifyTls: settings.extra.verify_tls !== false,
      maxBodyBytes: MAX_INDEX_BYTES,
    }),
  describe({ url, login }, answer) {
    if (isHttpFailure(answer)) return answer;
    const said = describeStatus(url, answer);
    switch (answer.status) {
      case 200:
        break;
      case 401:
        return {
          code: "AUTH_FAILED",
          message: login ? `${said}: the index refused the login and password.` : `${said}: the index needs a login and password.`,
        };
      case 403:
        return { code: "PERMISSION_DENIED", message: `${said}: the index refuses access to this path.` };
      case 404:
        return { code: "NOT_FOUND", message: `${said}. Check the index path (usually /simple/).` };
      default:
        return { code: "PROTOCOL_ERROR", message: `${said}; a package index answers 200.` };
    }
    const projects = countProjects(answer);
    if (projects === null) {
      return { code: "PROTOCOL_ERROR", message: `${said}, but the page is not a simple package index. Check the index path.` };
    }
    const count = `${answer.complete ? "" : "at least "}${projects.count} project${projects.count === 1 ? "" : "s"}`;
    return { ok: true, message: `Index answered with ${count} (${projects.format}).`, serverVersion: serverHeader(answer) };
  },
  classify: (_error, { url }) => ({ code: "UNKNOWN", message: `The request to ${url.host} failed.` }),
};

function testPackageIndex(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

/**
 * The number of projects the index root lists, or null when the body is no simple index. A
 * body cut off at the read limit is counted as far as it goes.
 */
export function countProjects(answer: Pick<HttpAnswer, "headers" | "body" | "complete">): { count: number; format: string } | null {
  const type = String(answer.headers["content-type"] ?? "").toLowerCase();
  const text = answer.body.toString("utf8");
  if (type.includes("json")) {
    if (!answer.complete) {
      // A JSON document cut short cannot be parsed; count the project entries seen so far.
      return /"projects"\s*:/.test(text) ? { count: (text.match(/"name"\s*:/g) ?? []).length, format: "PEP 691 JSON" } : null;
    }
    try {
      const document = JSON.parse(text) as { meta?: { "api-version"?: unknown }; projects?: unknown };
      if (typeof document.meta?.["api-version"] !== "string" || !Array.isArray(document.projects)) return null;
      return { count: document.projects.length, format: "PEP 691 JSON" };
    } catch {
      return null;
    }
  }
  const links = (text.match(/<a\s/gi) ?? []).length;
  // An index with no projects yet still declares itself (PEP 629).
  if (links > 0 || /<meta\s+name=["']pypi:repository-version["']/i.test(text)) return { count: links, format: "PEP 503 HTML" };
  return null;
}
