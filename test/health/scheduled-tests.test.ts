/**
 * Scheduled re-tests: two Patchbay processes on one database (this test's server and a child
 * process), both ticking every 100 ms, and each due run tests its connection exactly once,
 * stored as a test result like a manual one. The connections point to a TCP listener of this
 * test on 127.0.0.1 that counts the connections it accepts. Also: the schedule is off by
 * default, ADMIN and above set it, hostile input and other workspaces' ids are refused.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createConnection, createWorkspace, signUp } from "../support/factories";
import { type RunningServer, startServerProcess } from "../support/patchbay-process";

const FAST_TICK = { PATCHBAY_SCHEDULER_TICK_MS: "100" };
const SET = `mutation($w: ID!, $m: Int!, $c: ID) { setTestSchedule(workspaceId: $w, everyMinutes: $m, connectionId: $c) { id connectionId everyMinutes nextRunAt } }`;
const REMOVE = `mutation($w: ID!, $c: ID) { removeTestSchedule(workspaceId: $w, connectionId: $c) }`;
const LIST = `query($s: String!) { workspace(slug: $s) { testSchedules { id connectionId everyMinutes } } }`;

let first: TestApp;
let second: RunningServer;
let secondDir: string;
let listener: Server;
let port: number;
let accepted = 0;
const sockets = new Set<Socket>();

beforeAll(async () => {
  listener = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.end(); // a closed connection: every test fails quickly, and is still a result
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  port = (listener.address() as { port: number }).port;
  first = await startTestApp(FAST_TICK);
  secondDir = await mkdtemp(join(tmpdir(), "patchbay-sched-"));
  second = await startServerProcess({
    DATABASE_URL: first.databaseUrl,
    PATCHBAY_MASTER_KEY: first.masterKey,
    PATCHBAY_DATA_DIR: secondDir,
    ...FAST_TICK,
  });
}, 120_000);

afterAll(async () => {
  await second?.stop();
  await first?.stop();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => listener?.close(resolve));
  if (secondDir) await rm(secondDir, { recursive: true, force: true });
});

async function resultsOf(connectionIds: string[]): Promise<Map<string, number>> {
  const rows = await first.prisma.testResult.groupBy({ by: ["connectionId"], where: { connectionId: { in: connectionIds } }, _count: { _all: true } });
  return new Map(connectionIds.map((id) => [id, rows.find((r) => r.connectionId === id)?._count._all ?? 0]));
}

async function until(check: () => Promise<boolean>, limitMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const local = (name: string) => ({ name, host: "127.0.0.1", port, schema: "app" });

describe("scheduled re-tests across two processes", () => {
  it("runs each due test exactly once, whichever process claims it, stored as a result", async () => {
    const owner = await signUp(new GraphQLClient(first.url), "sched-owner");
    const workspace = await createWorkspace(owner.client);
    const single: string[] = [];
    for (let i = 0; i < 8; i++) single.push((await createConnection(owner.client, workspace.id, local(`single_${i}`))).id);
    // Another workspace scheduled as a whole: every connection of it, once.
    const whole = await createWorkspace(owner.client);
    const all: string[] = [];
    for (let i = 0; i < 4; i++) all.push((await createConnection(owner.client, whole.id, local(`all_${i}`))).id);
    expect([...(await resultsOf([...single, ...all])).values()].every((n) => n === 0)).toBe(true); // off by default

    const acceptedBefore = accepted;
    for (const id of single) await owner.client.ok(SET, { w: workspace.id, m: 60, c: id });
    await owner.client.ok(SET, { w: whole.id, m: 60 });

    const ids = [...single, ...all];
    await until(async () => [...(await resultsOf(ids)).values()].every((n) => n >= 1));
    // Both processes keep ticking ten times a second: nothing runs a second time.
    await new Promise((r) => setTimeout(r, 1_500));
    const counts = await resultsOf(ids);
    expect([...counts.values()]).toEqual(ids.map(() => 1));
    expect(accepted - acceptedBefore).toBeGreaterThanOrEqual(ids.length); // the tests really connected

    const results = await first.prisma.testResult.findMany({ where: { connectionId: { in: ids } } });
    expect(results.every((r) => r.status === "FAILURE" && r.actorKind === "USER" && r.actorId === owner.userId)).toBe(true);

    const listed = (await owner.client.ok(LIST, { s: workspace.slug })).workspace.testSchedules;
    expect(listed).toHaveLength(8);
    expect(listed.every((s: { everyMinutes: number }) => s.everyMinutes === 60)).toBe(true);
    const events = await first.prisma.auditEvent.count({ where: { workspaceId: workspace.id, action: "test_schedule.set" } });
    expect(events).toBe(8);

    // Removed: it stops, and removing again says there was none.
    expect((await owner.client.ok(REMOVE, { w: whole.id })).removeTestSchedule).toBe(true);
    expect((await owner.client.ok(REMOVE, { w: whole.id })).removeTestSchedule).toBe(false);
    expect(await first.prisma.testSchedule.count({ where: { workspaceId: whole.id } })).toBe(0);
  });

  it("refuses hostile input, other workspaces' connections and members below ADMIN, writing nothing", async () => {
    const anonymous = new GraphQLClient(first.url);
    const owner = await signUp(anonymous, "sched-hostile");
    const member = await signUp(anonymous, "sched-member");
    const workspace = await createWorkspace(owner.client);
    await addMember(owner.client, workspace.id, member.email, "MEMBER");
    const mine = await createConnection(owner.client, workspace.id, local("mine"));
    const stranger = await signUp(anonymous, "sched-stranger");
    const theirs = await createWorkspace(stranger.client);
    const foreign = await createConnection(stranger.client, theirs.id, local("foreign"));

    for (const m of [0, -5, 1441, 2 ** 31 - 1]) {
      expect(await owner.client.fails(SET, { w: workspace.id, m, c: mine.id })).toMatchObject({ code: "BAD_USER_INPUT", field: "everyMinutes" });
    }
    expect((await owner.client.fails(SET, { w: workspace.id, m: 5, c: foreign.id })).code).toBe("NOT_FOUND");
    expect((await owner.client.fails(SET, { w: workspace.id, m: 5, c: "x".repeat(5000) })).code).toBe("NOT_FOUND");
    expect((await owner.client.fails(REMOVE, { w: workspace.id, c: foreign.id })).code).toBe("NOT_FOUND");
    expect((await stranger.client.fails(SET, { w: workspace.id, m: 5, c: mine.id })).code).toMatch(/NOT_FOUND|FORBIDDEN/);
    expect((await member.client.fails(SET, { w: workspace.id, m: 5, c: mine.id })).code).toBe("FORBIDDEN");
    expect(await first.prisma.testSchedule.count({ where: { workspaceId: { in: [workspace.id, theirs.id] } } })).toBe(0);

    // Setting twice changes the one schedule rather than adding a second.
    await owner.client.ok(SET, { w: workspace.id, m: 5, c: mine.id });
    const changed = (await owner.client.ok(SET, { w: workspace.id, m: 30, c: mine.id })).setTestSchedule;
    expect(changed.everyMinutes).toBe(30);
    expect(await first.prisma.testSchedule.count({ where: { workspaceId: workspace.id } })).toBe(1);
  });
});
