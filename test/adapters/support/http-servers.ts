/**
 * Real HTTP(S) servers for adapter tests, on a free port of 127.0.0.1 (or another loopback
 * address), recording every request and every accepted TCP connection, so a test can check
 * what was sent, to whom, and that nothing connected at all.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  /** The SNI name the client sent, for HTTPS. */
  servername: string | null;
}

export interface TestHttpServer {
  port: number;
  host: string;
  /** e.g. http://127.0.0.1:1234 */
  origin: string;
  requests: RecordedRequest[];
  /** TCP connections accepted, whether or not a request followed. */
  connections(): number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, server: TestHttpServer) => void;

export interface ServerOptions {
  host?: string;
  tls?: { cert: string; key: string };
}

export async function startHttpServer(handler: Handler, options: ServerOptions = {}): Promise<TestHttpServer> {
  const host = options.host ?? "127.0.0.1";
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
  const self: TestHttpServer = {
    port: 0,
    host,
    origin: "",
    requests,
    connections: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on("connection", (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const servername = (req.socket as TLSSocket).servername;
    requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, servername: servername || null });
    handler(req, res, self);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  self.port = address.port;
  self.origin = `${options.tls ? "https" : "http"}://${host}:${address.port}`;
  return self;
}

/** Answers `status` with a small body. */
export function respond(res: ServerResponse, status: number, body = "", headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "text/plain", ...headers });
  res.end(body);
}
