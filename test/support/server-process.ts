/**
 * `npm start` as a real process: spawned in its own process group, as a terminal would run
 * it (so a test can signal the whole group, as Ctrl-C does), with its stderr captured and
 * parsed, and killed with its whole group if a test leaves it running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { tmpdir } from "node:os";

// What `npm start` runs.
export const START_ARGS = ["--import", "tsx", "src/main.ts"];

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  stderr(): string;
  stdout(): string;
  /** stderr's JSON log lines, parsed; a line that is not JSON throws. */
  logLines(): Array<Record<string, any>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
  /** SIGKILL to its process group, if still running. */
  kill(): Promise<void>;
}

export function spawnServer(options: {
  cwd: string;
  env: Record<string, string>;
  args?: string[];
  /** What node runs instead of the sources through tsx, e.g. the compiled dist/main.js (support/compiled-server.ts). */
  entry?: string[];
}): ServerProcess {
  // Only what the server needs, so nothing from the test runner's environment leaks in.
  const child = spawn(process.execPath, [...(options.entry ?? START_ARGS), ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? tmpdir(), ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let stderr = "";
  let stdout = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    stdout: () => stdout,
    logLines: () =>
      stderr
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, any>;
          } catch {
            throw new Error(`stderr line is not JSON: ${line}`);
          }
        }),
    exited,
    hasExited: () => done,
    async kill() {
      if (done) return;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* already gone */
      }
      await within(exited, 5_000, "the killed server to exit");
    },
  };
}

export async function within<T>(promise: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${typeof what === "function" ? what() : what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `check` returns a value (not undefined), or fails with the server's stderr. */
export async function waitFor<T>(server: ServerProcess, what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (server.hasExited()) throw new Error(`the server exited while waiting for ${what}:\n${server.stderr()}`);
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}:\n${server.stderr()}`);
}

export async function probe(url: string): Promise<{ status: number; body: any } | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: response.status, body: await response.json() };
  } catch {
    return null;
  }
}

export function waitUntilReady(url: string, server: ServerProcess, ms: number): Promise<void> {
  return waitFor(server, `${url}/readyz to answer 200`, ms, async () => ((await probe(`${url}/readyz`))?.status === 200 ? true : undefined)).then(() => {});
}
