/**
 * Servers as separate processes, started the way a person would start them: a shell command
 * in a directory with an environment. Each runs in its own process group so that stopping it
 * reaches whatever the command started (npm, a cluster's workers), and nothing else.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync, readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface ServerSpec {
  name: string;
  command: string;
  cwd: string;
  env: Record<string, string>;
  port: number;
  logPath: string;
  /** How long start-up may take before the run gives up. */
  readyTimeoutMs?: number;
}

export interface RunningServer {
  name: string;
  url: string;
  pid: number;
  /** Milliseconds from spawn to the first 200 from GET /readyz. */
  readyMs: number;
  /** Resident memory of the process and all its descendants, in bytes. */
  rss(): number;
  /** CPU time used so far by the process and all its descendants, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** The environment a child gets: only what it needs, never the caller's DATABASE_URL or keys. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG"]) if (process.env[name]) env[name] = process.env[name]!;
  return env;
}

export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const log = openSync(spec.logPath, "a");
  // exec: a plain command then is the process itself, not a shell waiting for it.
  const simple = !/[;&|<>()`$\n]/.test(spec.command);
  const started = performance.now();
  const child = spawn("sh", ["-c", simple ? `exec ${spec.command}` : spec.command], {
    cwd: spec.cwd,
    env: { ...spec.env, PORT: String(spec.port), HOST: "127.0.0.1" },
    stdio: ["ignore", log, log],
    detached: true,
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${spec.port}`;
  const deadline = started + (spec.readyTimeoutMs ?? 60_000);
  let readyMs = -1;
  while (readyMs < 0) {
    if (gone) throw new Error(`${spec.name} exited before it was ready; its log: ${spec.logPath}\n${tail(spec.logPath)}`);
    if (performance.now() > deadline) {
      await stopGroup(child, exited);
      throw new Error(`${spec.name} was not ready within ${spec.readyTimeoutMs ?? 60_000} ms; its log: ${spec.logPath}\n${tail(spec.logPath)}`);
    }
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) readyMs = performance.now() - started;
    } catch {
      // not listening yet
    }
    if (readyMs < 0) await sleep(10);
  }
  const pid = child.pid!;
  return {
    name: spec.name,
    url,
    pid,
    readyMs,
    rss: () => treeRss(pid),
    cpuMs: () => treeCpuMs(pid),
    stop: () => stopGroup(child, exited),
  };
}

async function stopGroup(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const done = await Promise.race([exited.then(() => true), sleep(12_000).then(() => false)]);
  if (!done) {
    signal("SIGKILL");
    await exited;
  }
}

/** A process and its descendants (Linux /proc). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statFields(Number(entry));
    if (!stat) continue;
    const ppid = Number(stat[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** /proc/<pid>/stat from the state field on (the command name may hold spaces), or null once gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** Sum of VmRSS over a process and its descendants. */
export function treeRss(root: number): number {
  let total = 0;
  for (const pid of processTree(root)) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU milliseconds (user + system, reaped children included) of a process and its descendants so far. */
export function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const f = statFields(pid);
    // utime, stime, cutime, cstime: fields 14-17 of stat, 11-14 counted from the state field.
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "";
  }
}
