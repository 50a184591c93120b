/**
 * GET /metrics: the registry in Prometheus' text format. With PATCHBAY_METRICS_TOKEN it needs
 * `Authorization: Bearer <token>` (compared in constant time); with PATCHBAY_METRICS_LISTEN it
 * is served on a listener of its own (an address only the monitoring network reaches) and
 * the API's port does not answer it.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { MetricsAccess } from "../config";
import { registry } from "./metrics";

/** What a scrape answers: this process's registry, or (PATCHBAY_WORKERS) every worker's, added up. */
export type RenderMetrics = () => Promise<{ text: string; contentType: string }>;

const ownRegistry: RenderMetrics = async () => ({ text: await registry.metrics(), contentType: registry.contentType });

export function metricsHandler(access: Pick<MetricsAccess, "token">, render: RenderMetrics = ownRegistry) {
  const expected = access.token === null ? null : digest(access.token);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("Only GET is supported here.\n");
      return;
    }
    if (expected !== null) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
      if (!match || !timingSafeEqual(digest(match[1]), expected)) {
        res.writeHead(401, { "www-authenticate": 'Bearer realm="patchbay-metrics"', "content-type": "text/plain; charset=utf-8" });
        res.end("Send the metrics token as 'Authorization: Bearer <token>'.\n");
        return;
      }
    }
    const { text, contentType } = await render();
    res.writeHead(200, { "content-type": contentType, "cache-control": "no-store", "content-length": Buffer.byteLength(text) });
    res.end(req.method === "HEAD" ? undefined : text);
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** The listener of PATCHBAY_METRICS_LISTEN: /metrics and nothing else. */
export async function listenForMetrics(access: MetricsAccess & { listen: { host: string; port: number } }, render?: RenderMetrics): Promise<Server> {
  const handler = metricsHandler(access, render);
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
      res.end("Metrics are at /metrics.\n");
      return;
    }
    handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(access.listen.port, access.listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
