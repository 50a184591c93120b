/**
 * The HTTP front door: GraphQL at /graphql, liveness at /healthz, readiness at /readyz, and
 * the web interface (the Connections page at /, the GraphQL explorer at /explorer).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../log";
import { sendJson } from "./io";
import type { StaticSite } from "./static-files";

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export interface HttpServerOptions {
  graphql: RouteHandler;
  /** Resolves true when the service can serve requests (its database answers). */
  ready: () => Promise<boolean>;
  /** What the process knows about its own parts (the embedded PostgreSQL); both probes show it. */
  health?: () => Health;
  logger: Logger;
  /** Extra routes by path prefix, e.g. the REST resolve endpoint. */
  routes?: Array<{ prefix: string; handler: RouteHandler }>;
  /** The built web interface; tried after every other route. */
  site?: StaticSite;
}

export interface Health {
  healthy: boolean;
  /** Merged into both probes' JSON bodies. */
  details: Record<string, unknown>;
}

export function createHttpServer(options: HttpServerOptions): Server {
  return createServer((req, res) => {
    handle(req, res, options).catch((error) => {
      options.logger.error("request failed", { error, path: req.url?.split("?")[0] });
      if (!res.headersSent) sendJson(res, 500, { error: { code: "INTERNAL_SERVER_ERROR", message: "Internal server error." } });
      else res.end();
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") {
    const health = options.health?.() ?? { healthy: true, details: {} };
    return sendJson(res, health.healthy ? 200 : 503, { status: health.healthy ? "ok" : "unhealthy", ...health.details });
  }
  if (url.pathname === "/readyz") {
    const health = options.health?.() ?? { healthy: true, details: {} };
    const ready = health.healthy && (await options.ready().catch(() => false));
    return sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "unavailable", ...health.details });
  }
  if (url.pathname === "/graphql") {
    if (isBrowserVisit(req, url)) return redirect(res, "/explorer");
    return options.graphql(req, res, url);
  }
  for (const route of options.routes ?? []) {
    if (url.pathname.startsWith(route.prefix)) return route.handler(req, res, url);
  }
  if (options.site?.handle(req, res, url)) return;
  sendJson(res, 404, { error: { code: "NOT_FOUND", message: "No such endpoint; GraphQL is served at /graphql." } });
}

/**
 * A person opening /graphql in a browser (an HTML GET without a query) gets the bundled
 * explorer instead of Apollo's landing page, which loads its sandbox from a CDN.
 */
function isBrowserVisit(req: IncomingMessage, url: URL): boolean {
  return req.method === "GET" && !url.searchParams.has("query") && (req.headers.accept ?? "").includes("text/html");
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, "content-length": 0, "cache-control": "no-cache" });
  res.end();
}
