/**
 * Starts a throwaway redis-server for a test file, following shared/recipes/test-services.md:
 * a free port on 127.0.0.1, no persistence, a temp directory as its working directory, a
 * password for the default user (requirepass) and, optionally, ACL users. With `tls`, it
 * listens for TLS only, on the returned port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/net/free-port";
import { findProgram } from "./availability";

export interface RedisOptions {
  /** The default user's password (requirepass); null: no password at all. */
  requirepass: string | null;
  /** ACL rules per user name, e.g. `{ app: ">secret on ~* +@all" }`. */
  users?: Record<string, string>;
  /** PEM files; the server then speaks TLS only (no client certificates asked for). */
  tls?: { certFile: string; keyFile: string };
  startTimeoutMs?: number;
}

export interface RedisHandle {
  host: "127.0.0.1";
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(options: RedisOptions): Promise<RedisHandle> {
  const server = findProgram("redis-server");
  if (!server) throw new Error("redis-server is not installed");

  const dir = await mkdtemp(join(tmpdir(), "patchbay-redis-"));
  const port = await freePort();
  const listen = options.tls
    ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", options.tls.certFile, "--tls-key-file", options.tls.keyFile, "--tls-auth-clients", "no"]
    : ["--port", String(port)];
  const args = [
    ...listen,
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "no",
    "--dir", dir,
    "--logfile", join(dir, "log"),
    ...(options.requirepass === null ? [] : ["--requirepass", options.requirepass]),
    // `--user` takes the name and each rule as separate arguments.
    ...Object.entries(options.users ?? {}).flatMap(([name, rules]) => ["--user", name, ...rules.split(/\s+/)]),
  ];
  const child = spawn(server, args, { stdio: "ignore", cwd: dir });
  try {
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}; see ${dir}/log`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPong(port, Boolean(options.tls), options.startTimeoutMs ?? 10_000), exited]);
    return {
      host: "127.0.0.1",
      port,
      async stop() {
        await stopProcess(child);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Resolves once the server answers PING (with PONG, or NOAUTH when it wants a password). */
async function waitForPong(port: number, tls: boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await answers(port, tls)) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function answers(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls
      ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => socket.write("PING\r\n"))
      : connect({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
    const done = (ready: boolean) => {
      socket.destroy();
      resolve(ready);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("data", (chunk) => done(/^(\+PONG|-NOAUTH)/.test(chunk.toString("latin1"))));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(killer);
}
