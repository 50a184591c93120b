/**
 * Testing connections through the API against a real PostgreSQL: saved connections (with
 * history), unsaved edits and unsaved input, and the audit trail they leave.
 */
import { createServer, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient, responseLog } from "../support/client";
import { createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { createPgTarget, type PgTarget } from "../support/pg-target";
import { findSecrets } from "../support/secrets";

const PASSWORD = "s3cret-Pa55word!";
let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let target: PgTarget;
let silent: Server;
let silentPort: number;
const sockets: Socket[] = [];

const TEST = `mutation($id: ID!, $patch: ConnectionPatch) { testConnection(id: $id, patch: $patch) { id status errorCode message latencyMs serverVersion testedAt } }`;
const TEST_INPUT = `mutation($w: ID!, $i: ConnectionInput!) { testConnectionInput(workspaceId: $w, input: $i) { status errorCode message serverVersion } }`;

beforeAll(async () => {
  // A short deadline keeps the never-answering case quick.
  app = await startTestApp({ PATCHBAY_TEST_TIMEOUT_MS: "1500" });
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
  target = await createPgTarget(PASSWORD);
  silent = createServer((socket) => sockets.push(socket));
  silentPort = await new Promise((resolve) => silent.listen(0, "127.0.0.1", () => resolve((silent.address() as any).port)));
});

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  silent.close();
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  const stored = await client.query(`SELECT message, "serverVersion" FROM "TestResult"`);
  const audit = await client.query(`SELECT details::text AS d FROM "AuditEvent"`);
  await client.end();
  expect(
    findSecrets({
      responses: responseLog,
      logs: app.logs,
      testResults: stored.rows.map((r) => JSON.stringify(r)),
      audit: audit.rows.map((r) => r.d),
    }),
  ).toEqual([]);
  await app.stop();
});

describe("a saved connection", () => {
  it("succeeds with the right password, reports the server version and keeps history", async () => {
    const conn = await createConnection(owner.client, workspace.id, { ...target });
    const first = (await owner.client.ok(TEST, { id: conn.id })).testConnection;
    expect(first).toMatchObject({ status: "SUCCESS", errorCode: null });
    expect(first.serverVersion).toMatch(/PostgreSQL 1\d/);
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);

    await owner.client.ok(`mutation($id: ID!) { updateConnection(id: $id, patch: { password: "wrong-password" }) { version } }`, { id: conn.id });
    const second = (await owner.client.ok(TEST, { id: conn.id })).testConnection;
    expect(second).toMatchObject({ status: "FAILURE", errorCode: "AUTH_FAILED" });

    const read = await owner.client.ok(
      `query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) { lastTest { id status } testResults(first: 5) { id status } } } }`,
      { s: workspace.slug, n: conn.name },
    );
    expect(read.workspace.connection.lastTest).toEqual({ id: second.id, status: "FAILURE" });
    expect(read.workspace.connection.testResults).toEqual([
      { id: second.id, status: "FAILURE" },
      { id: first.id, status: "SUCCESS" },
    ]);
  });

  it("tells a missing database, a closed port and an unknown host apart", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ schema: "no_such_database" }, "NOT_FOUND"],
      [{ port: await freePort() }, "CONNECTION_REFUSED"],
      [{ host: "no-such-host.invalid" }, "DNS_ERROR"],
    ];
    for (const [override, code] of cases) {
      const conn = await createConnection(owner.client, workspace.id, { ...target, ...override });
      const result = (await owner.client.ok(TEST, { id: conn.id })).testConnection;
      expect(result, JSON.stringify(result)).toMatchObject({ status: "FAILURE", errorCode: code });
    }
  });

  it("gives up on a server that accepts and never answers at the deadline", async () => {
    const conn = await createConnection(owner.client, workspace.id, { ...target, port: silentPort });
    const started = Date.now();
    const result = (await owner.client.ok(TEST, { id: conn.id })).testConnection;
    expect(result).toMatchObject({ status: "FAILURE", errorCode: "TIMEOUT" });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("tests unsaved edits without recording them", async () => {
    const conn = await createConnection(owner.client, workspace.id, { ...target, password: "not-the-password" });
    const patched = (await owner.client.ok(TEST, { id: conn.id, patch: { password: PASSWORD } })).testConnection;
    expect(patched.status).toBe("SUCCESS");
    const read = await owner.client.ok(
      `query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) { version lastTest { id } secretFields } } }`,
      { s: workspace.slug, n: conn.name },
    );
    expect(read.workspace.connection).toEqual({ version: 1, lastTest: null, secretFields: ["password"] });
  });

  it("reports a configuration the type refuses as INVALID_CONFIG", async () => {
    const conn = await createConnection(owner.client, workspace.id, { ...target });
    const result = (await owner.client.ok(TEST, { id: conn.id, patch: { host: "/var/run/postgresql" } })).testConnection;
    expect(result).toMatchObject({ status: "FAILURE", errorCode: "INVALID_CONFIG" });
  });
});

describe("unsaved input", () => {
  it("tests a configuration before it is saved and stores nothing", async () => {
    const ok = await owner.client.ok(TEST_INPUT, { w: workspace.id, i: { name: "draft", type: "postgres", ...target } });
    expect(ok.testConnectionInput).toMatchObject({ status: "SUCCESS", errorCode: null });
    const bad = await owner.client.ok(TEST_INPUT, { w: workspace.id, i: { name: "draft", type: "postgres", ...target, password: "nope-nope" } });
    expect(bad.testConnectionInput).toMatchObject({ status: "FAILURE", errorCode: "AUTH_FAILED" });
    expect(bad.testConnectionInput.message).not.toContain("nope-nope");
    const list = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "draft") { id } } }`, { s: workspace.slug });
    expect(list.workspace.connection).toBeNull();
  });
});

describe("the audit trail", () => {
  it("records every mutation and test with actor, target and client address, newest first, paged", async () => {
    const ws = await createWorkspace(owner.client);
    const conn = await createConnection(owner.client, ws.id, { ...target });
    await owner.client.ok(TEST, { id: conn.id });
    await owner.client.ok(`mutation($id: ID!) { updateConnection(id: $id, patch: { password: "rotated-Pa55word#2" }) { version } }`, { id: conn.id });
    await owner.client.ok(TEST_INPUT, { w: ws.id, i: { name: "draft", type: "postgres", ...target } });
    await owner.client.ok(`mutation($id: ID!) { deleteConnection(id: $id) }`, { id: conn.id });

    const AUDIT = `query($s: String!, $after: String) { workspace(slug: $s) { auditEvents(first: 2, after: $after) {
      nodes { action actor targetType targetId at clientIp details } pageInfo { hasNextPage endCursor } } } }`;
    const events: any[] = [];
    let after: string | null = null;
    do {
      const data: any = await owner.client.ok(AUDIT, { s: ws.slug, after });
      events.push(...data.workspace.auditEvents.nodes);
      after = data.workspace.auditEvents.pageInfo.hasNextPage ? data.workspace.auditEvents.pageInfo.endCursor : null;
    } while (after);

    expect(events.map((e) => e.action)).toEqual([
      "connection.delete",
      "connection.test_input",
      "connection.update",
      "connection.test",
      "connection.create",
      "workspace.create",
    ]);
    for (const event of events) {
      expect(event.actor).toBe(owner.email);
      expect(event.clientIp).toMatch(/127\.0\.0\.1/);
    }
    expect(events[2]).toMatchObject({ targetType: "Connection", targetId: conn.id, details: { changed: ["password"] } });
  });
});
