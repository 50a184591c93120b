/**
 * A server that keeps a connection busy without ever finishing an answer: it sends one byte
 * at a time, forever, so socket inactivity timers never fire. A test that still ends on time
 * shows the deadline, not the driver, is in charge.
 */
import { createServer, type Socket } from "node:net";

export interface TrickleServer {
  port: number;
  /** How many connections were accepted. */
  accepted(): number;
  /** Resolves once every socket accepted so far has closed. */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

/** Sends `prefix` at once, then `text` one character every `everyMs`, repeating it, until the client goes away. */
export async function trickleServer(text: string, everyMs = 50, prefix = ""): Promise<TrickleServer> {
  const sockets = new Set<Socket>();
  const closed: Promise<void>[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.resume();
    if (prefix) socket.write(prefix);
    let next = 0;
    const timer = setInterval(() => {
      socket.write(text[next % text.length]);
      next++;
    }, everyMs);
    closed.push(
      new Promise((resolve) =>
        socket.once("close", () => {
          clearInterval(timer);
          sockets.delete(socket);
          resolve();
        }),
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    accepted: () => closed.length,
    allClosed: async () => void (await Promise.all(closed)),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
