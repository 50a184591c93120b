/**
 * Servers that are not what a connection test expects, on 127.0.0.1 and a free port: one
 * that accepts and never answers, one that answers like another protocol, one that speaks
 * TLS with a certificate nobody trusts. Each records how its accepted sockets ended, so a
 * test can check that the adapter closed its connection.
 */
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, TLSSocket } from "node:tls";

export interface FakeServer {
  port: number;
  /** Resolves once every socket accepted so far has closed. */
  allClosed(): Promise<void>;
  /** How many connections were accepted. */
  accepted(): number;
  close(): Promise<void>;
}

async function listen(onConnection: (socket: Socket) => void): Promise<FakeServer> {
  const closed: Promise<void>[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    closed.push(new Promise((resolve) => socket.once("close", () => resolve())));
    socket.once("close", () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    allClosed: async () => void (await Promise.all(closed)),
    accepted: () => closed.length,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts connections, reads and discards what the client sends, and never sends a byte. */
export function silentServer(): Promise<FakeServer> {
  // Reading matters: a paused socket never sees the client's FIN, so would never close.
  return listen((socket) => socket.resume());
}

/** Sends `banner` (after the client's first bytes, or at once) and closes, like an HTTP server. */
export function bannerServer(banner: string, when: "at-once" | "after-request" = "after-request"): Promise<FakeServer> {
  return listen((socket) => {
    if (when === "at-once") socket.end(banner);
    else socket.once("data", () => socket.end(banner));
  });
}

/**
 * Answers PostgreSQL's SSLRequest with "S" and then speaks TLS with the given certificate,
 * sending nothing after the handshake.
 */
export function postgresTlsServer(tls: { cert: string; key: string }): Promise<FakeServer> {
  return listen((socket) => {
    socket.once("data", () => {
      socket.write("S");
      const secure = new TLSSocket(socket, { isServer: true, cert: tls.cert, key: tls.key });
      secure.on("error", () => {});
    });
  });
}

/** Speaks TLS from the first byte with the given certificate, and says nothing after the handshake. */
export async function tlsServer(tls: { cert: string; key: string; ALPNProtocols?: string[] }): Promise<FakeServer> {
  const server = createTlsServer(tls, (socket) => socket.on("error", () => {}));
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    allClosed: async () => {},
    accepted: () => 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
