/**
 * The HTTP front door: GraphQL at /graphql, liveness at /healthz, readiness at /readyz,
 * Prometheus metrics at /metrics (when served here), and the web interface (the Connections
 * page at /, the GraphQL explorer at /explorer). Every request runs with a record of what it
 * did (observability/request-record.ts), written as one access-log line when it ends.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "../log";
import type { RequestFinished } from "../observability/access-log";
import { type RequestRecord, runWithRecord } from "../observability/request-record";
import { startRequestSpan } from "../observability/tracing";
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
  /** Extra routes by path prefix, e.g. the REST resolve endpoint; `name` labels them in logs and metrics. */
  routes?: Array<{ prefix: string; name: string; handler: RouteHandler }>;
  /** /metrics on this server (absent when it has its own listener, or is off). */
  metrics?: RouteHandler;
  /** The built web interface; tried after every other route. */
  site?: StaticSite;
  /** Called once per request when its response ends or its client goes away (the access log). */
  finished?: RequestFinished;
}

export interface Health {
  healthy: boolean;
  /** Merged into both probes' JSON bodies. */
  details: Record<string, unknown>;
}

export function createHttpServer(options: HttpServerOptions): Server {
  return createServer((req, res) => {
    const started = performance.now();
    const record: RequestRecord = { route: "not_found" };
    startRequestSpan(req.method ?? "GET", req.headers, (span) => {
      record.span = span;
      res.once("close", () => {
        span?.finish(res.writableFinished ? res.statusCode : 499, record.route);
        options.finished?.(record, req, res, performance.now() - started);
      });
      runWithRecord(record, () =>
        handle(req, res, options, record).catch((error) => {
          options.logger.error("request failed", { error, route: record.route });
          if (!res.headersSent) sendJson(res, 500, { error: { code: "INTERNAL_SERVER_ERROR", message: "Internal server error." } });
          else res.end();
        }),
      );
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions, record: RequestRecord): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") {
    record.route = "healthz";
    const health = options.health?.() ?? { healthy: true, details: {} };
    return sendJson(res, health.healthy ? 200 : 503, { status: health.healthy ? "ok" : "unhealthy", ...health.details });
  }
  if (url.pathname === "/readyz") {
    record.route = "readyz";
    const health = options.health?.() ?? { healthy: true, details: {} };
    const ready = health.healthy && (await options.ready().catch(() => false));
    return sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "unavailable", ...health.details });
  }
  if (url.pathname === "/graphql") {
    record.route = "graphql";
    if (isBrowserVisit(req, url)) return redirect(res, "/explorer");
    return options.graphql(req, res, url);
  }
  if (url.pathname === "/metrics" && options.metrics) {
    record.route = "metrics";
    return options.metrics(req, res, url);
  }
  for (const route of options.routes ?? []) {
    if (url.pathname.startsWith(route.prefix)) {
      record.route = route.name;
      return route.handler(req, res, url);
    }
  }
  record.route = "web";
  if (options.site?.handle(req, res, url)) return;
  record.route = "not_found";
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
