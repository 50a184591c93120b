/**
 * Staged imports: a file bigger than one importConnections request, staged batch by batch and
 * committed in ONE transaction (beginImport, stageImportBatch, commitImport, abortImport).
 * All or nothing across batches, the same lines as importConnections, staged content sealed,
 * bounded, expiring, visible only to the actor that began it, and one database shared by two
 * server instances behaving as one.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, startApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/log";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient, responseLog } from "../support/client";
import { addMember, createApiToken, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { findSecrets } from "../support/secrets";

let app: TestApp;
let owner: SignedUp;
let anonymous: GraphQLClient;

/** The tests that import over a thousand connections, several times, on a loaded 2-core machine. */
const HEAVY_MS = 180_000;

const LIMITS = {
  PATCHBAY_IMPORT_MAX_CONNECTIONS: "2500",
  PATCHBAY_IMPORT_MAX_BYTES: String(1024 * 1024),
  PATCHBAY_IMPORT_SESSIONS_PER_WORKSPACE: "3",
};

const BEGIN = `mutation($w: ID!, $f: ImportFormat!, $o: OnConflict, $m: Boolean) {
  beginImport(workspaceId: $w, format: $f, onConflict: $o, clearMissingSecrets: $m) { id format onConflict batches connections bytes maxConnections maxBytes expiresAt }
}`;
const STAGE = `mutation($s: ID!, $q: Int!, $c: String!) { stageImportBatch(sessionId: $s, seq: $q, content: $c) { id batches connections bytes } }`;
const COMMIT = `mutation($s: ID!, $d: Boolean) { commitImport(sessionId: $s, dryRun: $d) { applied lines { name outcome message warnings } } }`;
const ABORT = `mutation($s: ID!) { abortImport(sessionId: $s) }`;
const COUNT = `query($s: String!) { workspace(slug: $s) { connections(first: 1) { totalCount } } }`;
const RESOLVE = `query($n: String!, $w: String) { resolveConnection(name: $n, workspace: $w) { host password extra } }`;

/** A .env file of n postgres connections, each with its own password. */
function envFile(n: number, prefix = "c"): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}=postgres://etl:pw-${prefix}${i}-staged-secret@db${i}.example.com:5432/dw?sslmode=require`);
}

/** Lines in batches of at most `size`, as the CLI splits a file. */
function batches(lines: string[], size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += size) out.push(lines.slice(i, i + size).join("\n") + "\n");
  return out;
}

async function begin(client: GraphQLClient, workspaceId: string, extra: Record<string, unknown> = {}) {
  return (await client.ok(BEGIN, { w: workspaceId, f: "AIRFLOW_ENV", ...extra })).beginImport;
}

async function stageAll(client: GraphQLClient, sessionId: string, contents: string[]) {
  let last;
  for (const [i, content] of contents.entries()) last = (await client.ok(STAGE, { s: sessionId, q: i + 1, c: content })).stageImportBatch;
  return last;
}

async function count(client: GraphQLClient, slug: string): Promise<number> {
  return (await client.ok(COUNT, { s: slug })).workspace.connections.totalCount;
}

beforeAll(async () => {
  app = await startTestApp(LIMITS);
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
});

afterAll(async () => {
  // Staged content is secrets too: never in a log line (responses hold them only where a test resolves).
  expect(findSecrets({ logs: app.logs }, ["staged-secret"])).toEqual([]);
  expect(findSecrets({ responses: responseLog })).toEqual([]);
  await app?.stop();
});

describe("a file bigger than one request", () => {
  it("imports all or nothing: a bad line in the last batch leaves nothing written; fixed, everything is, once", async () => {
    const ws = await createWorkspace(owner.client);
    const lines = envFile(1100);
    lines[1050] = "c1050=notatype://h/d";
    const session = await begin(owner.client, ws.id);
    expect(session).toMatchObject({ format: "AIRFLOW_ENV", onConflict: "FAIL", batches: 0, connections: 0, maxConnections: 2500 });
    const contents = batches(lines, 400);
    expect(contents).toHaveLength(3);
    const staged = await stageAll(owner.client, session.id, contents);
    expect(staged).toMatchObject({ batches: 3, connections: 1100 });

    const dry = (await owner.client.ok(COMMIT, { s: session.id, d: true })).commitImport;
    expect(dry.applied).toBe(false);
    expect(dry.lines).toHaveLength(1100);
    // The file's order, one line per conn_id, and the one ERROR where it is.
    expect(dry.lines.map((l: any) => l.name)).toEqual(lines.map((l) => l.slice(0, l.indexOf("="))));
    expect(dry.lines.filter((l: any) => l.outcome === "ERROR").map((l: any) => l.name)).toEqual(["c1050"]);

    const failed = (await owner.client.ok(COMMIT, { s: session.id })).commitImport;
    expect(failed.applied).toBe(false);
    expect(failed.lines.find((l: any) => l.name === "c1050")).toMatchObject({ outcome: "ERROR" });
    expect(failed.lines.filter((l: any) => l.outcome === "CREATED")).toHaveLength(1099);
    expect(await count(owner.client, ws.slug)).toBe(0);

    // The session survives a failed commit: stage the last batch again, fixed, and commit.
    lines[1050] = "c1050=postgres://etl:pw-c1050-staged-secret@db1050.example.com:5432/dw";
    expect((await owner.client.ok(STAGE, { s: session.id, q: 3, c: batches(lines, 400)[2] })).stageImportBatch).toMatchObject({ batches: 3, connections: 1100 });
    const done = (await owner.client.ok(COMMIT, { s: session.id })).commitImport;
    expect(done.applied).toBe(true);
    expect(new Set(done.lines.map((l: any) => l.outcome))).toEqual(new Set(["CREATED"]));
    expect(await count(owner.client, ws.slug)).toBe(1100);
    const one = (await owner.client.ok(RESOLVE, { n: "c1099", w: ws.slug })).resolveConnection;
    expect(one).toMatchObject({ host: "db1099.example.com", password: "pw-c1099-staged-secret", extra: { sslmode: "require" } });

    // An applied commit ends the session, with its sealed batches.
    expect(await owner.client.fails(COMMIT, { s: session.id })).toMatchObject({ code: "NOT_FOUND" });
    expect(await app.prisma.importBatch.count({ where: { sessionId: session.id } })).toBe(0);
  }, HEAVY_MS);

  it("answers as importConnections does: conflicts per onConflict, a stub's secrets kept, UNCHANGED", async () => {
    const ws = await createWorkspace(owner.client);
    const lines = envFile(1050, "s");
    const first = await begin(owner.client, ws.id);
    await stageAll(owner.client, first.id, batches(lines, 600));
    expect((await owner.client.ok(COMMIT, { s: first.id })).commitImport.applied).toBe(true);

    // The same file again: FAIL refuses every existing name; OVERWRITE finds nothing changed.
    const again = await begin(owner.client, ws.id);
    await stageAll(owner.client, again.id, batches(lines, 600));
    const refused = (await owner.client.ok(COMMIT, { s: again.id })).commitImport;
    expect(refused.applied).toBe(false);
    expect(refused.lines.every((l: any) => l.outcome === "ERROR" && l.message.includes("onConflict"))).toBe(true);
    await owner.client.ok(ABORT, { s: again.id });

    const stub = lines.map((l) => l.replace(/:pw-[^@]*@/, "@"));
    const overwrite = await begin(owner.client, ws.id, { o: "OVERWRITE" });
    await stageAll(owner.client, overwrite.id, batches(stub, 600));
    const unchanged = (await owner.client.ok(COMMIT, { s: overwrite.id })).commitImport;
    expect(unchanged.applied).toBe(true);
    expect(new Set(unchanged.lines.map((l: any) => l.outcome))).toEqual(new Set(["UNCHANGED"]));
    expect((await owner.client.ok(RESOLVE, { n: "s1049", w: ws.slug })).resolveConnection.password).toBe("pw-s1049-staged-secret");
  }, HEAVY_MS);

  it("a conn_id in two batches is one ERROR line, and nothing is written", async () => {
    const ws = await createWorkspace(owner.client);
    const session = await begin(owner.client, ws.id);
    await stageAll(owner.client, session.id, ["a=postgres://h/d\nb=postgres://h/d\n", "c=postgres://h/d\na=postgres://h2/d\n"]);
    const report = (await owner.client.ok(COMMIT, { s: session.id })).commitImport;
    expect(report.applied).toBe(false);
    expect(report.lines.map((l: any) => [l.name, l.outcome])).toEqual([
      ["a", "ERROR"],
      ["b", "CREATED"],
      ["c", "CREATED"],
    ]);
    expect(report.lines[0].message).toContain("batches 1, 2");
    expect(await count(owner.client, ws.slug)).toBe(0);
    await owner.client.ok(ABORT, { s: session.id });
  });
});

describe("sealed, bounded, expiring", () => {
  it("keeps staged content sealed in the database, never in the clear", async () => {
    const ws = await createWorkspace(owner.client);
    const session = await begin(owner.client, ws.id);
    await owner.client.ok(STAGE, { s: session.id, q: 1, c: "x=postgres://u:pw-x-staged-secret@h/d\n" });
    const rows = await app.prisma.importBatch.findMany({ where: { sessionId: session.id } });
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].ciphertext).includes(Buffer.from("staged-secret"))).toBe(false);
    expect(Buffer.from(rows[0].ciphertext).includes(Buffer.from("postgres://"))).toBe(false);
    await owner.client.ok(ABORT, { s: session.id });
    expect(await app.prisma.importBatch.count({ where: { sessionId: session.id } })).toBe(0);
  });

  it("an expired session is gone for every operation, and the sweep deletes it with its batches", async () => {
    const ws = await createWorkspace(owner.client);
    const session = await begin(owner.client, ws.id);
    await owner.client.ok(STAGE, { s: session.id, q: 1, c: "x=postgres://h/d\n" });
    await app.prisma.importSession.update({ where: { id: session.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    for (const [query, variables] of [
      [STAGE, { s: session.id, q: 2, c: "y=postgres://h/d\n" }],
      [COMMIT, { s: session.id }],
      [ABORT, { s: session.id }],
    ] as const) {
      expect(await owner.client.fails(query, variables)).toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await count(owner.client, ws.slug)).toBe(0);
    // Expired sessions do not count against the workspace's open sessions.
    const live = await Promise.all([1, 2, 3].map(() => begin(owner.client, ws.id)));
    expect(await app.services.stagedImports.sweepExpired()).toBeGreaterThanOrEqual(1);
    expect(await app.prisma.importSession.count({ where: { id: session.id } })).toBe(0);
    expect(await app.prisma.importBatch.count({ where: { sessionId: session.id } })).toBe(0);
    for (const s of live) await owner.client.ok(ABORT, { s: s.id });
  });

  it("bounds sessions per workspace, connections and bytes per session, and each batch as importConnections does", async () => {
    const ws = await createWorkspace(owner.client);
    const sessions = await Promise.all([1, 2, 3].map(() => begin(owner.client, ws.id)));
    expect(await owner.client.fails(BEGIN, { w: ws.id, f: "AIRFLOW_ENV" })).toMatchObject({ code: "CONFLICT" });
    await owner.client.ok(ABORT, { s: sessions[2].id });
    sessions[2] = await begin(owner.client, ws.id);

    // Connections: 1000 + 1000 fit under 2500, a third 1000 does not; the session is as it was.
    const [a, b, c] = sessions;
    const thousand = batches(envFile(3000, "n"), 1000);
    await stageAll(owner.client, a.id, thousand.slice(0, 2));
    const over = await owner.client.fails(STAGE, { s: a.id, q: 3, c: thousand[2] });
    expect(over).toMatchObject({ code: "BAD_USER_INPUT", field: "content" });
    expect(over.message).toContain("2500");
    expect(await app.prisma.importSession.findUnique({ where: { id: a.id } })).toMatchObject({ batches: 2, connections: 2000 });

    // One batch: at most 1,000 connections, as one importConnections request.
    expect(await owner.client.fails(STAGE, { s: b.id, q: 1, c: batches(envFile(1001, "m"), 1001)[0] })).toMatchObject({ code: "BAD_USER_INPUT", field: "content" });

    // Bytes: 1 MiB per session here; three batches of ~400 KiB do not fit.
    const fat = (k: number) => Array.from({ length: 80 }, (_, i) => `f${k}_${i}=postgres://u:${"x".repeat(5000)}@h/d`).join("\n") + "\n";
    await stageAll(owner.client, c.id, [fat(1), fat(2)]);
    expect(await owner.client.fails(STAGE, { s: c.id, q: 3, c: fat(3) })).toMatchObject({ code: "BAD_USER_INPUT", field: "content" });
    for (const s of sessions) await owner.client.ok(ABORT, { s: s.id });
  });
});

describe("hostile input", () => {
  it("refuses bad seq, unreadable content and nothing staged with a code and a field, writing nothing", async () => {
    const ws = await createWorkspace(owner.client);
    const session = await begin(owner.client, ws.id);
    expect(await owner.client.fails(COMMIT, { s: session.id })).toMatchObject({ code: "BAD_USER_INPUT", field: "sessionId" });
    for (const q of [0, -1, 1001, 2, 2 ** 31 - 1]) {
      expect(await owner.client.fails(STAGE, { s: session.id, q, c: "x=postgres://h/d\n" })).toMatchObject({ code: "BAD_USER_INPUT", field: "seq" });
    }
    expect(await owner.client.fails(STAGE, { s: session.id, q: 1, c: "x=postgres://h/d\0\n" })).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(await owner.client.fails(STAGE, { s: session.id, q: 1, c: "x=postgres://h/d\ud800\n" })).toMatchObject({ code: "BAD_USER_INPUT" });
    const json = await begin(owner.client, ws.id, { f: "AIRFLOW_JSON" });
    for (const c of ["{", "[1, 2]", '{"__proto__": {"conn_type": "postgres"}}', "[".repeat(5000) + "]".repeat(5000)]) {
      const error = await owner.client.fails(STAGE, { s: json.id, q: 1, c });
      expect(error.code).toBe("BAD_USER_INPUT");
    }
    expect(await app.prisma.importSession.findUnique({ where: { id: json.id } })).toMatchObject({ batches: 0, connections: 0, bytes: 0 });
    for (const s of ["", "nope", "'; DROP TABLE \"ImportSession\"; --", "__proto__", "x".repeat(5000)]) {
      expect((await owner.client.fails(COMMIT, { s })).code).toMatch(/^(NOT_FOUND|BAD_USER_INPUT)$/);
    }
    await owner.client.ok(ABORT, { s: session.id });
    await owner.client.ok(ABORT, { s: json.id });
    expect(await count(owner.client, ws.slug)).toBe(0);
  });

  it("one staged batch or commit per request: many aliases are refused before anything runs", async () => {
    const ws = await createWorkspace(owner.client);
    const session = await begin(owner.client, ws.id);
    // Twenty trips the aliases limit, three the bulk operations cap: both refuse the whole request.
    const stages = Array.from({ length: 20 }, (_, i) => `s${i}: stageImportBatch(sessionId: $s, seq: 1, content: "a${i}=postgres://h/d") { batches }`).join("\n");
    const staged = await owner.client.request(`mutation($s: ID!) { ${stages} }`, { s: session.id });
    expect(staged.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_LIMIT_EXCEEDED", limit: "aliases" });
    const three = stages.split("\n").slice(0, 3).join("\n");
    const staged3 = await owner.client.request(`mutation($s: ID!) { ${three} }`, { s: session.id });
    expect(staged3.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_LIMIT_EXCEEDED", limit: "bulkOperations" });
    expect(await app.prisma.importSession.findUnique({ where: { id: session.id } })).toMatchObject({ batches: 0 });
    await owner.client.ok(STAGE, { s: session.id, q: 1, c: "a=postgres://h/d\n" });
    const commits = await owner.client.request(`mutation($s: ID!) { a: commitImport(sessionId: $s) { applied } b: commitImport(sessionId: $s) { applied } }`, { s: session.id });
    expect(commits.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_LIMIT_EXCEEDED", limit: "bulkOperations" });
    expect(await count(owner.client, ws.slug)).toBe(0);
    await owner.client.ok(ABORT, { s: session.id });
  });
});

describe("who may touch a session", () => {
  it("only the actor that began it: another workspace, another admin, another token of the workspace get NOT_FOUND and change nothing", async () => {
    const ws = await createWorkspace(owner.client);
    const session = await begin(owner.client, ws.id);
    await owner.client.ok(STAGE, { s: session.id, q: 1, c: "x=postgres://u:pw-x-staged-secret@h/d\n" });

    const stranger = await signUp(anonymous, "stranger");
    await createWorkspace(stranger.client);
    const admin = await signUp(anonymous, "admin");
    await addMember(owner.client, ws.id, admin.email, "ADMIN");
    const writer = anonymous.as((await createApiToken(owner.client, ws.id, ["READ", "WRITE"], "writer")).token);
    for (const other of [stranger.client, admin.client, writer]) {
      expect(await other.fails(STAGE, { s: session.id, q: 2, c: "y=postgres://h/d\n" })).toMatchObject({ code: "NOT_FOUND" });
      expect(await other.fails(COMMIT, { s: session.id })).toMatchObject({ code: "NOT_FOUND" });
      expect(await other.fails(COMMIT, { s: session.id, d: true })).toMatchObject({ code: "NOT_FOUND" });
      expect(await other.fails(ABORT, { s: session.id })).toMatchObject({ code: "NOT_FOUND" });
    }
    expect(await app.prisma.importSession.findUnique({ where: { id: session.id } })).toMatchObject({ batches: 1, connections: 1 });
    // Nor may another workspace's admin begin one in this workspace; a VIEWER may not either.
    expect(await stranger.client.fails(BEGIN, { w: ws.id, f: "AIRFLOW_ENV" })).toMatchObject({ code: "NOT_FOUND" });
    const viewer = await signUp(anonymous, "viewer");
    await addMember(owner.client, ws.id, viewer.email, "VIEWER");
    expect(await viewer.client.fails(BEGIN, { w: ws.id, f: "AIRFLOW_ENV" })).toMatchObject({ code: "FORBIDDEN" });

    // The token's own session is its own: the person who made the token does not see it either.
    const own = (await writer.ok(BEGIN, { w: ws.id, f: "AIRFLOW_ENV" })).beginImport;
    expect(await owner.client.fails(ABORT, { s: own.id })).toMatchObject({ code: "NOT_FOUND" });
    expect((await writer.ok(ABORT, { s: own.id })).abortImport).toBe(true);
    await owner.client.ok(ABORT, { s: session.id });
  });
});

describe("two server instances on one database", () => {
  let second: App;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "patchbay-app-"));
    const config = loadConfig({
      PORT: "0",
      DATABASE_URL: app.databaseUrl,
      PATCHBAY_DATA_DIR: dataDir,
      PATCHBAY_MASTER_KEY: app.masterKey,
      ...LIMITS,
    });
    second = await startApp(config, { logger: createLogger({ level: "error", sink: () => {} }) });
  });

  afterAll(async () => {
    await second?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("batches staged through one commit through the other; two commits racing write once", async () => {
    const ws = await createWorkspace(owner.client);
    const there = new GraphQLClient(second.url, owner.token);
    const session = await begin(owner.client, ws.id);
    const contents = batches(envFile(300, `r${randomBytes(2).toString("hex")}_`), 100);
    await owner.client.ok(STAGE, { s: session.id, q: 1, c: contents[0] });
    await there.ok(STAGE, { s: session.id, q: 2, c: contents[1] });
    await owner.client.ok(STAGE, { s: session.id, q: 3, c: contents[2] });
    expect((await there.ok(COMMIT, { s: session.id, d: true })).commitImport.lines).toHaveLength(300);

    const results = await Promise.all([owner.client.request(COMMIT, { s: session.id }), there.request(COMMIT, { s: session.id })]);
    const applied = results.filter((r) => r.data?.commitImport?.applied === true);
    expect(applied).toHaveLength(1);
    const loser = results.find((r) => r !== applied[0])!;
    expect(loser.errors?.[0]?.extensions?.code).toMatch(/^(CONFLICT|NOT_FOUND)$/);
    expect(await count(owner.client, ws.slug)).toBe(300);
  });
});
