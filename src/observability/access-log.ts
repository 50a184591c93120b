/**
 * One JSON line per HTTP request, written when its response ends (or the client goes away),
 * and the request metrics counted from the same record. The line names what was done — the
 * route, the GraphQL operation name, type and root fields, the error codes — who did it (the
 * actor's id, never a token) and how it went (status, duration); never a query string, a body,
 * a GraphQL variable or a header. Probes and scrapes are logged at debug only.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../log";
import { metrics } from "./metrics";
import type { RequestRecord } from "./request-record";

const QUIET_ROUTES = new Set(["healthz", "readyz", "metrics"]);
// A request id set by the proxy in front (HAProxy's unique-id-header, nginx's $request_id) is
// logged when it looks like one, so a line can be matched with the proxy's.
const REQUEST_ID = /^[A-Za-z0-9._:+\/=-]{1,128}$/;

export interface AccessLogOptions {
  logger: Logger;
  /** The client's address as the rate limits see it (trusted proxies applied). */
  clientAddress: (req: IncomingMessage) => string | null;
  /** This process's number among PATCHBAY_WORKERS, when it is one. */
  worker?: number;
}

export type RequestFinished = (record: RequestRecord, req: IncomingMessage, res: ServerResponse, durationMs: number) => void;

export function accessLog(options: AccessLogOptions): RequestFinished {
  const { logger } = options;
  return (record, req, res, durationMs) => {
    const completed = res.writableFinished;
    const status = completed ? res.statusCode : 499;
    const method = req.method === "GET" || req.method === "POST" || req.method === "HEAD" ? req.method : "OTHER";
    metrics.httpRequests.inc({ route: record.route, method, status: String(status) });
    metrics.httpDuration.observe({ route: record.route }, durationMs / 1000);
    if (record.route === "graphql") countGraphQL(record, status, durationMs);

    const level = QUIET_ROUTES.has(record.route) || (record.route === "web" && status < 400) ? "debug" : "info";
    if (logger.enabled && !logger.enabled(level)) return;
    logger[level]("request", {
      method: req.method,
      route: record.route,
      status,
      ...(completed ? {} : { aborted: true }),
      durationMs: Math.round(durationMs * 10) / 10,
      ...(record.operationName ? { operation: record.operationName } : {}),
      ...(record.operationType ? { operationType: record.operationType } : {}),
      ...(record.fields ? { fields: record.fields } : {}),
      ...(record.errorCodes?.length ? { errors: record.errorCodes } : {}),
      ...(record.actor ? { actor: record.actor } : {}),
      client: options.clientAddress(req),
      ...requestIdOf(req),
      ...(record.span ? { traceId: record.span.span.spanContext().traceId } : {}),
      ...(record.db ? { db: { statements: record.db.statements, ms: Math.round(record.db.ms * 10) / 10 } } : {}),
      ...(options.worker === undefined ? {} : { worker: options.worker }),
    });
  };
}

function requestIdOf(req: IncomingMessage): { requestId?: string } {
  const id = req.headers["x-request-id"];
  return typeof id === "string" && REQUEST_ID.test(id) ? { requestId: id } : {};
}

function countGraphQL(record: RequestRecord, status: number, durationMs: number): void {
  const fields = record.fields ?? [];
  const operation = fields.length === 1 ? fields[0] : fields.length > 1 ? "(multiple)" : "(none)";
  const type = record.operationType ?? "unknown";
  const outcome = record.errorCodes?.[0] ?? (status >= 400 ? `HTTP_${status}` : "ok");
  metrics.graphqlOperations.inc({ operation, type, outcome });
  metrics.graphqlDuration.observe({ operation, type }, durationMs / 1000);
}
