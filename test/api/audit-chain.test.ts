/**
 * The audit log is a hash chain per workspace: an event edited or deleted in SQL is reported
 * by verifyAuditChain as the first broken one, a truncated tail is detected, and 50
 * concurrent writers leave one intact chain (no fork, no gap).
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/log";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

const VERIFY = `query($s: String!, $seq: String, $hash: String) {
  workspace(slug: $s) { verifyAuditChain(knownHeadSeq: $seq, knownHeadHash: $hash) { intact checked firstBrokenEventId reason head { seq hash } } }
}`;
const EVENTS = `query($s: String!) { workspace(slug: $s) { auditEvents(first: 200) { nodes { id action seq hash } } } }`;

let app: TestApp;
let sql: pg.Client;
let anonymous: GraphQLClient;

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
  sql = new pg.Client({ connectionString: app.databaseUrl });
  await sql.connect();
});

afterAll(async () => {
  await sql?.end();
  await app?.stop();
});

async function workspaceWithEvents(label: string, connections = 4): Promise<{ owner: SignedUp; workspace: { id: string; slug: string } }> {
  const owner = await signUp(anonymous, label);
  const workspace = await createWorkspace(owner.client);
  for (let i = 0; i < connections; i++) await createConnection(owner.client, workspace.id, { name: `c${i}` });
  return { owner, workspace };
}

async function verify(client: GraphQLClient, slug: string, known?: { seq: string; hash: string }) {
  const data = await client.ok(VERIFY, { s: slug, seq: known?.seq ?? null, hash: known?.hash ?? null });
  return data.workspace.verifyAuditChain;
}

/** The workspace's events in chain order. */
async function chain(workspaceId: string): Promise<Array<{ id: string; seq: string; prevHash: string; hash: string }>> {
  const { rows } = await sql.query(`SELECT id, seq::text AS seq, "prevHash", hash FROM "AuditEvent" WHERE "workspaceId" = $1 ORDER BY "AuditEvent".seq`, [workspaceId]);
  return rows;
}

describe("verifyAuditChain", () => {
  it("reports an untouched chain as intact, with its head", async () => {
    const { owner, workspace } = await workspaceWithEvents("chain-ok");
    const events = await chain(workspace.id);
    expect(events.map((e) => e.seq)).toEqual(["1", "2", "3", "4", "5"]);
    expect(events[0].prevHash).toBe("0".repeat(64));
    for (let i = 1; i < events.length; i++) expect(events[i].prevHash).toBe(events[i - 1].hash);

    const report = await verify(owner.client, workspace.slug);
    expect(report).toEqual({ intact: true, checked: 5, firstBrokenEventId: null, reason: null, head: { seq: "5", hash: events[4].hash } });
    // The list shows each event's place in the chain.
    const listed = (await owner.client.ok(EVENTS, { s: workspace.slug })).workspace.auditEvents.nodes;
    expect(listed.find((e: { id: string }) => e.id === events[2].id)).toMatchObject({ seq: "3", hash: events[2].hash });
  });

  it.each([
    ["its details", `UPDATE "AuditEvent" SET details = jsonb_set(details, '{name}', '"innocent"') WHERE id = $1`],
    ["its actor", `UPDATE "AuditEvent" SET "actorLabel" = 'someone-else@example.com' WHERE id = $1`],
    ["its time", `UPDATE "AuditEvent" SET "at" = "at" - interval '1 day' WHERE id = $1`],
    ["its action", `UPDATE "AuditEvent" SET action = 'connection.test' WHERE id = $1`],
  ])("reports an event whose %s was edited in SQL as the first broken one", async (_what, statement) => {
    const { owner, workspace } = await workspaceWithEvents("chain-edit");
    const events = await chain(workspace.id);
    await sql.query(statement, [events[2].id]);
    const report = await verify(owner.client, workspace.slug);
    expect(report).toMatchObject({ intact: false, checked: 2, firstBrokenEventId: events[2].id });
    expect(report.reason).toMatch(/changed/);
  });

  it("reports the event after one deleted in SQL, even when its hash was recomputed to hide the edit", async () => {
    const { owner, workspace } = await workspaceWithEvents("chain-delete");
    const events = await chain(workspace.id);
    await sql.query(`DELETE FROM "AuditEvent" WHERE id = $1`, [events[1].id]);
    const report = await verify(owner.client, workspace.slug);
    expect(report).toMatchObject({ intact: false, firstBrokenEventId: events[2].id });

    // Renumbering the rest to close the gap still breaks the link to the event before.
    await sql.query(`UPDATE "AuditEvent" SET seq = seq - 1 WHERE "workspaceId" = $1 AND seq > 2`, [workspace.id]);
    expect(await verify(owner.client, workspace.slug)).toMatchObject({ intact: false, firstBrokenEventId: events[2].id });
  });

  it("detects a truncated tail through the head row, and through an exported head when the head row was rewritten too", async () => {
    const { owner, workspace } = await workspaceWithEvents("chain-tail");
    const exported = (await verify(owner.client, workspace.slug)).head;
    const events = await chain(workspace.id);
    await sql.query(`DELETE FROM "AuditEvent" WHERE id = $1`, [events[4].id]);
    const truncated = await verify(owner.client, workspace.slug);
    expect(truncated).toMatchObject({ intact: false, checked: 4, firstBrokenEventId: null });
    expect(truncated.reason).toMatch(/removed from the end/);

    // A careful intruder also moves the head back: only the exported head tells.
    await sql.query(`UPDATE "AuditChainHead" SET seq = 4, hash = $2 WHERE "chainId" = $1`, [workspace.id, events[3].hash]);
    expect(await verify(owner.client, workspace.slug)).toMatchObject({ intact: true, checked: 4 });
    const againstExport = await verify(owner.client, workspace.slug, exported);
    expect(againstExport).toMatchObject({ intact: false, firstBrokenEventId: null });
    expect(againstExport.reason).toMatch(/exported head/);
    // An exported head that is still there checks out.
    expect(await verify(owner.client, workspace.slug, { seq: "3", hash: events[2].hash })).toMatchObject({ intact: true });
    // A head that does not match what is stored at its position is not believed.
    expect(await verify(owner.client, workspace.slug, { seq: "3", hash: events[1].hash })).toMatchObject({
      intact: false,
      firstBrokenEventId: events[2].id,
    });
  });

  it("refuses a malformed exported head", async () => {
    const { owner, workspace } = await workspaceWithEvents("chain-bad-head", 0);
    const bad = await owner.client.fails(VERIFY, { s: workspace.slug, seq: "0", hash: "0".repeat(64) });
    expect(bad).toMatchObject({ code: "BAD_USER_INPUT", field: "knownHeadSeq" });
    const badHash = await owner.client.fails(VERIFY, { s: workspace.slug, seq: "1", hash: "XYZ" });
    expect(badHash).toMatchObject({ code: "BAD_USER_INPUT", field: "knownHeadHash" });
  });

  it("is for ADMIN and above; another workspace's chain is not found", async () => {
    const { owner, workspace } = await workspaceWithEvents("chain-perm", 0);
    const member = await signUp(anonymous, "chain-member");
    await app.prisma.membership.create({ data: { workspaceId: workspace.id, userId: member.userId, role: "MEMBER" } });
    const refused = await member.client.fails(VERIFY, { s: workspace.slug });
    expect(refused.code, refused.message).toBe("FORBIDDEN");
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "WRITE", "RESOLVE", "TEST"]);
    expect((await anonymous.as(token).fails(VERIFY, { s: workspace.slug })).code).toBe("FORBIDDEN");
    const stranger = await signUp(anonymous, "chain-stranger");
    expect((await stranger.client.ok(VERIFY, { s: workspace.slug })).workspace).toBeNull();
  });
});

describe("appending under concurrency", () => {
  it("50 concurrent writers leave one intact chain: no fork, no gap", async () => {
    const owner = await signUp(anonymous, "chain-50");
    const workspace = await createWorkspace(owner.client);
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "WRITE", "RESOLVE", "TEST"]);
    const writer = anonymous.as(token);
    // Nothing listens there: each test fails at once, and its result is stored with its event all the same.
    const shared = await createConnection(owner.client, workspace.id, { name: "shared", host: "127.0.0.1", port: 1 });
    // 50 at once, of four kinds: creations, resolutions (read plus audit), token creations and
    // connection tests (a stored result plus its event, in one statement).
    const tests: Array<Promise<{ testConnection: { id: string } }>> = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        if (i % 4 === 0) return createConnection(writer, workspace.id, { name: `w${i}` });
        if (i % 4 === 1) return writer.ok(`{ resolveConnection(name: "shared") { name } }`);
        if (i % 4 === 2) return createApiToken(owner.client, workspace.id, ["READ"], `t${i}`);
        const test = writer.ok<{ testConnection: { id: string } }>(`mutation($id: ID!) { testConnection(id: $id) { id } }`, { id: shared.id });
        tests.push(test);
        return test;
      }),
    );
    const tested = await Promise.all(tests);
    const stored = await sql.query(`SELECT id FROM "TestResult" WHERE "connectionId" = $1`, [shared.id]);
    expect(stored.rows.map((r) => r.id).sort()).toEqual(tested.map((t) => t.testConnection.id).sort());
    const events = await chain(workspace.id);
    const count = events.length;
    expect(count).toBe(1 + 1 + 1 + 50); // workspace, token, "shared", the 50
    expect(events.map((e) => Number(e.seq))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(new Set(events.map((e) => e.prevHash)).size).toBe(count);
    const report = await verify(owner.client, workspace.slug);
    expect(report).toMatchObject({ intact: true, checked: count, head: { seq: String(count) } });
  });
});

describe("events from before the chain", () => {
  it("are chained at start-up, in the order they were written, after what the chain holds", async () => {
    const { owner, workspace } = await workspaceWithEvents("chain-legacy", 1);
    // Rows as an older Patchbay wrote them: no position, no hashes.
    const legacy = [randomUUID(), randomUUID()];
    for (const [i, id] of legacy.entries()) {
      await sql.query(
        `INSERT INTO "AuditEvent" (id, "workspaceId", action, "actorLabel", details, at) VALUES ($1, $2, 'connection.resolve', 'old@example.com', $3, now() - interval '1 minute' * $4)`,
        [id, workspace.id, JSON.stringify({ name: "c0", n: i }), 2 - i],
      );
    }
    const before = await verify(owner.client, workspace.slug);
    expect(before).toMatchObject({ intact: false, firstBrokenEventId: legacy[0] });

    const restarted = await startApp(
      loadConfig({ PORT: "0", DATABASE_URL: app.databaseUrl, PATCHBAY_MASTER_KEY: app.masterKey, PATCHBAY_DATA_DIR: "/nonexistent" }),
      { logger: createLogger({ level: "error", sink: () => {} }) },
    );
    await restarted.close();
    const events = await chain(workspace.id);
    expect(events.slice(-2).map((e) => e.id)).toEqual(legacy);
    expect(await verify(owner.client, workspace.slug)).toMatchObject({ intact: true, checked: 4 });
  });
});
