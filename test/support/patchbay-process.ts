/**
 * Patchbay as a running child process on a free port, for tests that need a second process
 * on the same database or a SIGKILL in the middle of something (built on server-process.ts).
 */
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/net/free-port";
import { type ServerProcess, spawnServer, waitUntilReady, within } from "./server-process";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningServer extends ServerProcess {
  url: string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts the server with only the given environment (plus PATH and HOME) and waits for /readyz. */
export async function startServerProcess(env: Record<string, string>, readyWithinMs = 60_000): Promise<RunningServer> {
  const port = await freePort();
  const server = spawnServer({ cwd: ROOT, env: { PORT: String(port), ...env } });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, server, readyWithinMs);
  } catch (error) {
    await server.kill();
    throw error;
  }
  return {
    ...server,
    url,
    async stop() {
      if (server.hasExited()) return;
      process.kill(-server.pid, "SIGTERM");
      await within(server.exited, 15_000, "the server to exit after SIGTERM").catch(() => server.kill());
    },
  };
}

/** Starts a server that must refuse to start; resolves with its exit code and stderr. */
export async function refusedStart(env: Record<string, string>, withinMs = 60_000): Promise<{ code: number | null; stderr: string }> {
  const port = await freePort();
  const server = spawnServer({ cwd: ROOT, env: { PORT: String(port), ...env } });
  const exit = await within(server.exited, withinMs, () => `the server to refuse to start:\n${server.stderr()}`).catch(async (error) => {
    await server.kill();
    throw error;
  });
  return { code: exit.code, stderr: server.stderr() };
}
