/**
 * A schedule runs on behalf of the admin who set it, and only while they are ADMIN or OWNER:
 * demoting or removing them pauses it at once (Workspace.testSchedules says why) and it makes
 * no more tests as them; another admin setting it again takes it over. A membership that
 * disappears without the member service (an account deleted, a row removed by hand) pauses it
 * at its next claim. The scheduler ticks every 100 ms; the connections point at a local TCP
 * listener that closes every connection (each test fails fast and is still a result).
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAUSED_DEMOTED, PAUSED_REMOVED } from "../../src/services/health/schedules";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createConnection, createWorkspace, signUp } from "../support/factories";

const SET = `mutation($w: ID!, $m: Int!, $c: ID) { setTestSchedule(workspaceId: $w, everyMinutes: $m, connectionId: $c) { id createdById pausedAt } }`;
const LIST = `query($s: String!) { workspace(slug: $s) { testSchedules { id connectionId createdById pausedAt pausedReason } } }`;
const ROLE = `mutation($w: ID!, $u: ID!, $r: Role!) { setMemberRole(workspaceId: $w, userId: $u, role: $r) { role } }`;
const REMOVE_MEMBER = `mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }`;

let app: TestApp;
let listener: Server;
let port: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  listener = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.end();
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  port = (listener.address() as { port: number }).port;
  app = await startTestApp({ PATCHBAY_SCHEDULER_TICK_MS: "100" });
}, 120_000);

afterAll(async () => {
  await app?.stop();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => listener?.close(resolve));
});

async function until(check: () => Promise<boolean>, limitMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const results = (connectionId: string, actorId?: string) => app.prisma.testResult.count({ where: { connectionId, ...(actorId ? { actorId } : {}) } });
/** Makes every schedule of the workspace due now, as time passing would. */
const dueNow = (workspaceId: string) => app.prisma.testSchedule.updateMany({ where: { workspaceId }, data: { nextRunAt: new Date(Date.now() - 1000) } });
const local = (name: string) => ({ name, host: "127.0.0.1", port, schema: "app" });

describe("a schedule's authority", () => {
  it("pauses when its admin is demoted or removed, says why, and resumes under the admin who sets it again", async () => {
    const anonymous = new GraphQLClient(app.url);
    const owner = await signUp(anonymous, "auth-owner");
    const alice = await signUp(anonymous, "auth-alice");
    const bob = await signUp(anonymous, "auth-bob");
    const workspace = await createWorkspace(owner.client);
    await addMember(owner.client, workspace.id, alice.email, "ADMIN");
    await addMember(owner.client, workspace.id, bob.email, "ADMIN");
    const first = await createConnection(owner.client, workspace.id, local("first"));
    const second = await createConnection(owner.client, workspace.id, local("second"));

    await alice.client.ok(SET, { w: workspace.id, m: 60, c: first.id });
    await until(async () => (await results(first.id, alice.userId)) === 1);

    // Demoted to MEMBER: paused in the same transaction, visible at once, and it runs no more.
    await owner.client.ok(ROLE, { w: workspace.id, u: alice.userId, r: "MEMBER" });
    let [listed] = (await owner.client.ok(LIST, { s: workspace.slug })).workspace.testSchedules;
    expect(listed).toMatchObject({ connectionId: first.id, createdById: alice.userId, pausedReason: PAUSED_DEMOTED });
    expect(listed.pausedAt).not.toBeNull();
    await dueNow(workspace.id);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await results(first.id)).toBe(1);

    // Bob sets it again: his now, running again on his behalf.
    const taken = (await bob.client.ok(SET, { w: workspace.id, m: 60, c: first.id })).setTestSchedule;
    expect(taken).toMatchObject({ createdById: bob.userId, pausedAt: null });
    await until(async () => (await results(first.id, bob.userId)) === 1);
    expect(await results(first.id, alice.userId)).toBe(1);

    // Bob is removed: both of his schedules pause, saying he left.
    await bob.client.ok(SET, { w: workspace.id, m: 60, c: second.id });
    await until(async () => (await results(second.id, bob.userId)) === 1);
    expect((await owner.client.ok(REMOVE_MEMBER, { w: workspace.id, u: bob.userId })).removeMember).toBe(true);
    const schedules = (await owner.client.ok(LIST, { s: workspace.slug })).workspace.testSchedules;
    expect(schedules.map((s: any) => s.pausedReason)).toEqual([PAUSED_REMOVED, PAUSED_REMOVED]);
    await dueNow(workspace.id);
    await new Promise((r) => setTimeout(r, 1_000));
    expect([await results(first.id), await results(second.id)]).toEqual([2, 1]);

    // The owner takes one over; the other stays paused.
    await owner.client.ok(SET, { w: workspace.id, m: 60, c: second.id });
    await until(async () => (await results(second.id, owner.userId)) === 1);
    [listed] = (await owner.client.ok(LIST, { s: workspace.slug })).workspace.testSchedules.filter((s: any) => s.connectionId === first.id);
    expect(listed.pausedReason).toBe(PAUSED_REMOVED);
  }, 60_000);

  it("a membership gone without the member service pauses the schedule at its next claim, before it runs", async () => {
    const anonymous = new GraphQLClient(app.url);
    const owner = await signUp(anonymous, "auth-owner2");
    const carol = await signUp(anonymous, "auth-carol");
    const workspace = await createWorkspace(owner.client);
    await addMember(owner.client, workspace.id, carol.email, "ADMIN");
    const conn = await createConnection(owner.client, workspace.id, local("conn"));
    await carol.client.ok(SET, { w: workspace.id, m: 60, c: conn.id });
    await until(async () => (await results(conn.id, carol.userId)) === 1);

    await app.prisma.membership.delete({ where: { workspaceId_userId: { workspaceId: workspace.id, userId: carol.userId } } });
    await dueNow(workspace.id);
    await until(async () => (await app.prisma.testSchedule.findFirstOrThrow({ where: { workspaceId: workspace.id } })).pausedAt !== null);
    const [listed] = (await owner.client.ok(LIST, { s: workspace.slug })).workspace.testSchedules;
    expect(listed.pausedReason).toBe(PAUSED_REMOVED);
    await new Promise((r) => setTimeout(r, 500));
    expect(await results(conn.id)).toBe(1);
  }, 60_000);
});
