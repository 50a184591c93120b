/**
 * A TCP proxy between Patchbay and its PostgreSQL that the test controls: it passes bytes
 * both ways untouched until told to cut the next transaction's commit, then drops the
 * connection that sends a `COMMIT` (simple query protocol, as pg sends it) at one of two
 * moments: before the COMMIT reaches the server (nothing is committed), or after the server
 * received it but before its answer reaches Patchbay (the commit may have happened; Patchbay
 * cannot know). Listens on 127.0.0.1 only.
 */
import net from "node:net";

/** `before`: the COMMIT never reaches the server; `after`: it does, its answer never returns. */
export type CutMoment = "before" | "after";

export interface CuttingProxy {
  port: number;
  /** Cuts every connection that sends `marker` while armed; `cuts` counts them. */
  arm(moment: CutMoment, marker: string): void;
  disarm(): void;
  cuts: number;
  close(): Promise<void>;
}

export async function startCuttingProxy(target: { host: string; port: number }): Promise<CuttingProxy> {
  let armed: CutMoment | null = null;
  let marker = Buffer.alloc(0);
  const sockets = new Set<net.Socket>();
  const state = { cuts: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let awaitingAnswer = false;
    const cut = () => {
      state.cuts += 1;
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk: Buffer) => {
      if (armed && chunk.includes(marker)) {
        if (armed === "before") return cut();
        awaitingAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (awaitingAnswer) return cut();
      client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arm: (moment, bytes) => {
      marker = Buffer.from(bytes);
      armed = moment;
    },
    disarm: () => (armed = null),
    get cuts() {
      return state.cuts;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
