/**
 * Two Patchbay processes on one database agree at once: what one changes (a revoked token, a
 * changed role, a rotated key, a deleted workspace, an ended session) is in force in the other
 * within a second, although the
 * other caches tokens, sessions and roles for ten minutes here. The second process is a real
 * child process; the first is this test's own server.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";
import { type RunningServer, startServerProcess } from "../support/patchbay-process";

const LONG_CACHE = { PATCHBAY_CACHE_SECONDS: "600", PATCHBAY_KEY_CACHE_SECONDS: "600" };

let first: TestApp;
let second: RunningServer;
let secondDir: string;

beforeAll(async () => {
  first = await startTestApp(LONG_CACHE);
  secondDir = await mkdtemp(join(tmpdir(), "patchbay-second-"));
  second = await startServerProcess({
    DATABASE_URL: first.databaseUrl,
    PATCHBAY_MASTER_KEY: first.masterKey,
    PATCHBAY_DATA_DIR: secondDir,
    ...LONG_CACHE,
  });
}, 120_000);

afterAll(async () => {
  await second?.stop();
  await first?.stop();
  if (secondDir) await rm(secondDir, { recursive: true, force: true });
});

/** Polls until `refused()` holds; returns how long it took after the change, in ms. */
async function msUntil(refused: () => Promise<boolean>, limitMs = 5_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    if (await refused()) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`still not in force after ${limitMs} ms`);
}

function record(context: TestContext, name: string, ms: number): void {
  (context.task.meta as Record<string, unknown>)[name] = Math.round(ms);
}

describe("two processes on one database", () => {
  it("a token revoked in one is refused by the other within a second", async (context) => {
    const owner = await signUp(new GraphQLClient(first.url), "two-revoke");
    const workspace = await createWorkspace(owner.client);
    await createConnection(owner.client, workspace.id, { name: "warehouse" });
    const { token, id } = await createApiToken(owner.client, workspace.id, ["READ", "RESOLVE"]);
    const there = new GraphQLClient(second.url, token);
    // The other process has verified (and cached) the token.
    for (let i = 0; i < 3; i++) expect((await there.ok(`{ resolveConnection(name: "warehouse") { name } }`)).resolveConnection.name).toBe("warehouse");

    await owner.client.ok(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id });
    const ms = await msUntil(async () => (await there.request(`{ viewer { apiToken { id } } }`)).errors?.[0]?.extensions?.code === "UNAUTHENTICATED");
    record(context, "revocationMs", ms);
    expect(ms).toBeLessThan(1_000);
  });

  it("a role lowered in one is in force in the other within a second", async (context) => {
    const anonymous = new GraphQLClient(first.url);
    const owner = await signUp(anonymous, "two-role");
    const admin = await signUp(anonymous, "two-role-admin");
    const workspace = await createWorkspace(owner.client);
    await first.prisma.membership.create({ data: { workspaceId: workspace.id, userId: admin.userId, role: "ADMIN" } });
    const there = new GraphQLClient(second.url, admin.token);
    const listTokens = `query($s: String!) { workspace(slug: $s) { apiTokens { id } } }`;
    for (let i = 0; i < 3; i++) await there.ok(listTokens, { s: workspace.slug });

    await owner.client.ok(`mutation($w: ID!, $u: ID!) { setMemberRole(workspaceId: $w, userId: $u, role: VIEWER) { role } }`, {
      w: workspace.id,
      u: admin.userId,
    });
    const ms = await msUntil(async () => (await there.request(listTokens, { s: workspace.slug })).errors?.[0]?.extensions?.code === "FORBIDDEN");
    record(context, "roleChangeMs", ms);
    expect(ms).toBeLessThan(1_000);

    // Removed altogether: the workspace is not found there any more.
    await owner.client.ok(`mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }`, { w: workspace.id, u: admin.userId });
    const gone = await msUntil(async () => (await there.ok(`query($s: String!) { workspace(slug: $s) { id } }`, { s: workspace.slug })).workspace === null);
    expect(gone).toBeLessThan(1_000);
  });

  it("a key rotated in one seals new secrets in the other within a second", async (context) => {
    const owner = await signUp(new GraphQLClient(first.url), "two-rotate");
    const workspace = await createWorkspace(owner.client);
    const there = new GraphQLClient(second.url, owner.token);
    const keyVersionOf = async (id: string) => (await first.prisma.connection.findUniqueOrThrow({ where: { id } })).keyVersion;
    // The other process has the current key version cached.
    expect(await keyVersionOf((await createConnection(there, workspace.id)).id)).toBe(1);

    await owner.client.ok(`mutation($w: ID!) { rotateWorkspaceKey(workspaceId: $w) { currentVersion } }`, { w: workspace.id });
    const ms = await msUntil(async () => (await keyVersionOf((await createConnection(there, workspace.id)).id)) === 2);
    record(context, "rotationMs", ms);
    expect(ms).toBeLessThan(1_000);
  });

  it("a workspace deleted in one is gone in the other within a second: tokens refused, members find nothing", async (context) => {
    const anonymous = new GraphQLClient(first.url);
    const owner = await signUp(anonymous, "two-delete");
    const workspace = await createWorkspace(owner.client);
    await createConnection(owner.client, workspace.id, { name: "warehouse" });
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "RESOLVE"]);
    const byToken = new GraphQLClient(second.url, token);
    const bySession = new GraphQLClient(second.url, owner.token);
    const resolve = `query($s: String) { resolveConnection(name: "warehouse", workspace: $s) { name } }`;
    for (let i = 0; i < 3; i++) {
      expect((await byToken.ok(resolve)).resolveConnection.name).toBe("warehouse");
      expect((await bySession.ok(resolve, { s: workspace.slug })).resolveConnection.name).toBe("warehouse");
    }

    await owner.client.ok(`mutation($id: ID!, $s: String!) { deleteWorkspace(id: $id, confirmSlug: $s) }`, { id: workspace.id, s: workspace.slug });
    const ms = await msUntil(async () => (await byToken.request(resolve)).errors?.[0]?.extensions?.code === "UNAUTHENTICATED");
    record(context, "deletionMs", ms);
    expect(ms).toBeLessThan(1_000);
    expect((await bySession.request(resolve, { s: workspace.slug })).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("a session ended in one is refused by the other within a second", async (context) => {
    const person = await signUp(new GraphQLClient(first.url), "two-logout");
    const there = new GraphQLClient(second.url, person.token);
    for (let i = 0; i < 3; i++) expect((await there.ok(`{ viewer { user { id } } }`)).viewer.user.id).toBe(person.userId);

    await person.client.ok(`mutation { logOut }`);
    const ms = await msUntil(async () => (await there.request(`{ viewer { user { id } } }`)).errors?.[0]?.extensions?.code === "UNAUTHENTICATED");
    record(context, "logOutMs", ms);
    expect(ms).toBeLessThan(1_000);
  });
});
