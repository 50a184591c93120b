/**
 * One HTTP GET for a connection test, the way DESIGN.md's "Outbound connections" wants it:
 * every hop's host is resolved and checked by the egress module and the request goes to the
 * checked address (the name stays in the Host header, SNI and certificate check); redirects
 * are followed by hand, at most three, and credentials never follow one to another origin;
 * one deadline covers every hop, the body is read only up to a small limit, and what a peer
 * sends is never put into a failure message.
 */
import { STATUS_CODES, type IncomingHttpHeaders } from "node:http";
import { formatDuration } from "./progress";
import { isIPv6 } from "node:net";
import type { FieldProblem, TestContext } from "../types";
import { checkEgress, isFailure } from "./egress";
import { displayAddress, hostProblem, socketHost, urlHost } from "./host";
import { errorCode, networkFailure, type Failure } from "./network-errors";
import { type Answer, OpenRequests, sendRequest, type SentRequest } from "./pinned-http";

export const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const USER_AGENT = "patchbay-connection-test";

export interface HttpGetOptions {
  url: URL;
  /** GET (the default) follows redirects; POST never does (a redirect is the answer). */
  method?: "GET" | "POST";
  /** The POST body. */
  body?: string;
  /** false: a redirect is the answer (a signed request must not be sent on elsewhere). */
  followRedirects?: boolean;
  /** Sent on every hop (Accept, the connection's default headers). */
  headers?: Record<string, string>;
  /** Sent only to the first URL's origin (Authorization, a custom auth header). */
  credentials?: Record<string, string>;
  verifyTls: boolean;
  /** Bytes of the final response body to read; 0 (the default) reads none. */
  maxBodyBytes?: number;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most maxBodyBytes of the body. */
  body: Buffer;
  /** Whether `body` is the whole body. */
  complete: boolean;
  /** The URL that gave this answer, after redirects. */
  url: URL;
  redirects: number;
}

export function isHttpFailure(value: HttpAnswer | Failure): value is Failure {
  return "code" in value;
}

/** The default port for an http(s) URL's scheme. */
export function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** An HTTP request under the rules above: a POST's redirect is returned as the answer, not followed. */
export function httpRequest(ctx: TestContext, options: HttpGetOptions): Promise<HttpAnswer | Failure> {
  return httpGet(ctx, options);
}

export async function httpGet(ctx: TestContext, options: HttpGetOptions): Promise<HttpAnswer | Failure> {
  // One deadline for all hops: the caller's signal, or our own timer, whichever comes first.
  const timeoutMs = Math.max(0, Math.round(ctx.timeoutMs));
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
  const hopCtx: TestContext = { ...ctx, signal, timeoutMs };
  const origin = options.url.origin;
  let url = options.url;

  for (let redirects = 0; ; redirects++) {
    const where = redirects === 0 ? displayAddress(urlHost(url), portOf(url)) : "the redirect target";
    const address = await checkEgress(hopCtx, urlHost(url));
    if (isFailure(address)) return redirects === 0 ? address : redirectFailure(address, timeoutMs);

    const requests = new OpenRequests();
    const headers = {
      ...options.headers,
      ...(url.origin === origin ? options.credentials : {}),
      host: url.host,
      "user-agent": USER_AGENT,
      "accept-encoding": "identity",
    };
    let answer: Answer;
    try {
      // Only the final answer's body is read: a redirect's is of no interest.
      const maxBodyBytes = (status: number, { location }: IncomingHttpHeaders) =>
        REDIRECTS.has(status) && location ? 0 : (options.maxBodyBytes ?? 0);
      const method = options.method ?? "GET";
      const follow = method === "GET" && options.followRedirects !== false;
      const bodyLimit = (status: number, received: IncomingHttpHeaders) => (follow ? maxBodyBytes(status, received) : (options.maxBodyBytes ?? 0));
      answer = await sendRequest(
        { url, method, headers, body: options.body, address, maxBodyBytes: bodyLimit, verifyTls: options.verifyTls, signal },
        requests,
      );
    } catch (error) {
      const progress = requests.last() ?? { connected: false, responded: false };
      return describeFailure(error, { url, where, progress, signal, timeoutMs });
    }

    const location = answer.headers.location;
    const follows = (options.method ?? "GET") === "GET" && options.followRedirects !== false;
    if (!REDIRECTS.has(answer.status) || !location || !follows) return { ...answer, url, redirects };
    if (redirects === MAX_REDIRECTS) {
      return { code: "PROTOCOL_ERROR", message: `Stopped after ${MAX_REDIRECTS} redirects: too many redirects.` };
    }
    const next = URL.canParse(location, url.href) ? new URL(location, url) : null;
    if (!next || (next.protocol !== "http:" && next.protocol !== "https:")) {
      // The Location header is the peer's text; it is not repeated.
      return { code: "PROTOCOL_ERROR", message: `${where} answered ${answer.status} with a redirect to an address that is not an http or https URL.` };
    }
    url = next;
  }
}

/** A refusal or failure while checking a redirect target; the target (peer-chosen) is not named. */
function redirectFailure(failure: Failure, timeoutMs: number): Failure {
  switch (failure.code) {
    case "EGRESS_DENIED":
      return {
        code: "EGRESS_DENIED",
        message: "The server redirected to an address this server's egress policy does not allow; nothing was sent there.",
      };
    case "DNS_ERROR":
      return { code: "DNS_ERROR", message: "The server redirected to a host name that could not be resolved." };
    case "TIMEOUT":
      return { code: "TIMEOUT", message: `Following a redirect did not finish within ${formatDuration(timeoutMs)}.` };
    default:
      return { code: failure.code, message: "The server redirected to a host that could not be checked." };
  }
}

interface Attempt {
  url: URL;
  where: string;
  /** How far the exchange got, so a timeout can say where it stalled. */
  progress: Pick<SentRequest, "connected" | "responded">;
  signal: AbortSignal;
  timeoutMs: number;
}

function describeFailure(error: unknown, { url, where, progress, signal, timeoutMs }: Attempt): Failure {
  const within = `within ${formatDuration(timeoutMs)}`;
  if (signal.aborted) {
    if (progress.responded) return { code: "TIMEOUT", message: `${where} sent its headers but not the body ${within}.` };
    if (progress.connected) {
      return { code: "TIMEOUT", message: `${where} accepted the connection but sent no complete HTTP response ${within}.` };
    }
    return { code: "TIMEOUT", message: `${where} did not accept a connection ${within}. Check the host, port and firewall.` };
  }
  const code = errorCode(error) ?? "";
  if (code === "EPROTO" && url.protocol === "https:") {
    // OpenSSL's "wrong version number": the peer answered the handshake with something else.
    return { code: "TLS_ERROR", message: `${where} did not answer the TLS handshake; is it an https server? (Set the scheme to http if not.)` };
  }
  const network = networkFailure(error, { host: urlHost(url), port: portOf(url) });
  if (network) {
    if (where === "the redirect target") {
      const named = displayAddress(urlHost(url), portOf(url));
      return { code: network.code, message: network.message.split(named).join(where).split(urlHost(url)).join(where) };
    }
    return network;
  }
  if (code.startsWith("HPE_")) return { code: "PROTOCOL_ERROR", message: `${where} did not answer like an HTTP server.` };
  if (code === "ERR_INVALID_HTTP_TOKEN" || code === "ERR_INVALID_CHAR" || code === "ERR_UNESCAPED_CHARACTERS") {
    return { code: "INVALID_CONFIG", message: `The request could not be sent: a header or the path contains characters HTTP does not allow (${code}).` };
  }
  return { code: "UNKNOWN", message: `The request to ${where} failed${code ? ` (${code})` : ""}.` };
}

/**
 * The URL of `path` on the server a connection's common fields name: `schema` is the scheme
 * (http or https, https when empty), `host` a bare host name or IP literal, `port` optional.
 * Returns what is wrong with the settings instead, naming the field (`pathField` for the path).
 */
export function serverUrl(
  settings: { host: string | null; port: number | null; schema: string | null },
  path: string,
  pathField: string,
): URL | FieldProblem {
  const scheme = (settings.schema || "https").toLowerCase();
  if (scheme !== "http" && scheme !== "https") return { field: "schema", message: "Scheme must be http or https." };
  if (!settings.host) return { field: "host", message: "Host is required." };
  const problem = hostProblem(settings.host);
  if (problem) return { field: "host", message: problem };
  const port = settings.port ?? (scheme === "https" ? 443 : 80);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { field: "port", message: "Port must be between 1 and 65535." };
  const pathProblem = urlPathProblem(path);
  if (pathProblem) return { field: pathField, message: pathProblem };
  const host = socketHost(settings.host);
  const href = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}${path}`;
  if (!URL.canParse(href)) return { field: "host", message: `${settings.host} cannot be used as the host of a URL.` };
  return new URL(href);
}

/** Why `path` is not a usable absolute path (and query) for a request, or null. */
export function urlPathProblem(path: string): string | null {
  if (!path.startsWith("/")) return "The path must start with '/'.";
  if (path.startsWith("//")) return "The path cannot start with '//'.";
  if (/[\s\\#]|[\u0000-\u001f\u007f]/.test(path)) return "The path cannot contain spaces, '\\', '#' or control characters.";
  return null;
}

/** The Server header of an answer, made safe to show as a version, or null. */
export function serverHeader(answer: HttpAnswer): string | null {
  const server = answer.headers.server;
  if (typeof server !== "string") return null;
  const printable = server.replace(/[^\x20-\x7e]+/g, " ").trim();
  return printable ? printable.slice(0, 100) : null;
}

/** "GET https://host:443/path answered 200 OK", for messages; the URL is the one configured. */
export function describeStatus(url: URL, answer: HttpAnswer): string {
  const reason = STATUS_CODES[answer.status];
  const after = answer.redirects ? ` after ${answer.redirects} redirect${answer.redirects === 1 ? "" : "s"}` : "";
  return `GET ${url.href} answered ${answer.status}${reason ? ` ${reason}` : ""}${after}`;
}
