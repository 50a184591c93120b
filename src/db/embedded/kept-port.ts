/**
 * The embedded PostgreSQL's port, picked free on first start and kept in `<data dir>/pg-port`
 * so connections made to it (the README's walk-through makes one) survive a restart.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort, portIsFree } from "../../net/free-port";
import { EmbeddedPostgresError } from "./errors";

export const PORT_FILE = "pg-port";

export async function keptPort(dataDir: string): Promise<number> {
  const path = join(dataDir, PORT_FILE);
  const text = await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (text === null) {
    const port = await freePort();
    await writeFile(path, `${port}\n`, { mode: 0o644 });
    return port;
  }
  const port = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || port < 1024 || port > 65535) {
    throw new EmbeddedPostgresError(`${path} must hold a port number from 1024 to 65535; delete it to pick a free port.`);
  }
  return port;
}

export async function ensurePortFree(dataDir: string, port: number): Promise<void> {
  if (await portIsFree(port)) return;
  throw new EmbeddedPostgresError(
    `port ${port} on 127.0.0.1, kept for the embedded PostgreSQL in ${join(dataDir, PORT_FILE)}, is taken by another program: ` +
      `stop that program, or put another port in that file (delete it to pick a free one; connections made to the old port then need the new one).`,
  );
}
