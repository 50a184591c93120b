/**
 * Closes an HTTP server the way a shutdown should: stop accepting, let every request in
 * flight finish, and close each keep-alive connection as soon as its last response is out
 * (Node's own close() waits for idle keep-alive connections to time out, ~5 s).
 */
import type { Server, ServerResponse } from "node:http";

export function gracefulCloser(server: Server): () => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  server.on("request", (_req, res: ServerResponse) => {
    // Responses written while closing say `Connection: close`, and Node ends the socket after them.
    if (closing) res.shouldKeepAlive = false;
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
  });
  return () =>
    new Promise<void>((resolve) => {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      server.close(() => resolve());
      server.closeIdleConnections();
    });
}
