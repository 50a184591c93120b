/**
 * Usage counts live in memory between writes (services/connections/usage.ts): what a reader
 * sees meanwhile, what the database holds after a clean shutdown, and that a resolve leaves
 * the connection's row alone.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

const RESOLVE = `query($n: String!) { resolveConnection(name: $n) { password } }`;
const USAGE = `query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) {
  updatedAt version lastUsedAt usage { actorKind count }
} } }`;

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let resolver: GraphQLClient;

beforeAll(async () => {
  app = await startTestApp();
  const anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  workspace = await createWorkspace(owner.client);
  resolver = anonymous.as((await createApiToken(owner.client, workspace.id, ["RESOLVE"], "resolver")).token);
});

afterAll(async () => {
  await app?.stop();
});

async function writtenCounts(databaseUrl: string, connectionId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ total: number | null }>(`SELECT sum("count")::int AS total FROM "ConnectionUsage" WHERE "connectionId" = $1`, [connectionId]);
    return rows[0].total ?? 0;
  } finally {
    await client.end();
  }
}

async function tokenLastUsedAt(databaseUrl: string, tokenId: string): Promise<Date | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ lastUsedAt: Date | null }>(`SELECT "lastUsedAt" FROM "ApiToken" WHERE "id" = $1`, [tokenId]);
    return rows[0].lastUsedAt;
  } finally {
    await client.end();
  }
}

describe("usage counts", () => {
  it("are seen at once by this process, written or not, and add up across writes", async () => {
    const conn = await createConnection(owner.client, workspace.id, { name: "counted_now" });
    for (let i = 0; i < 3; i++) await resolver.ok(RESOLVE, { n: "counted_now" });
    let data = await owner.client.ok(USAGE, { s: workspace.slug, n: "counted_now" });
    expect(data.workspace.connection.usage).toEqual([{ actorKind: "API_TOKEN", count: 3 }]);
    expect(data.workspace.connection.lastUsedAt).not.toBeNull();

    await app.services.connections.usage.flush();
    expect(await writtenCounts(app.databaseUrl, conn.id)).toBe(3);
    await resolver.ok(RESOLVE, { n: "counted_now" });
    data = await owner.client.ok(USAGE, { s: workspace.slug, n: "counted_now" });
    expect(data.workspace.connection.usage).toEqual([{ actorKind: "API_TOKEN", count: 4 }]);
  });

  it("leave the connection's row alone: a resolve changes neither updatedAt nor version", async () => {
    await createConnection(owner.client, workspace.id, { name: "untouched" });
    const before = (await owner.client.ok(USAGE, { s: workspace.slug, n: "untouched" })).workspace.connection;
    expect(before.lastUsedAt).toBeNull();
    await resolver.ok(RESOLVE, { n: "untouched" });
    await app.services.connections.usage.flush();
    const after = (await owner.client.ok(USAGE, { s: workspace.slug, n: "untouched" })).workspace.connection;
    expect(after).toMatchObject({ updatedAt: before.updatedAt, version: before.version });
    expect(new Date(after.lastUsedAt).getTime()).toBeGreaterThanOrEqual(new Date(before.updatedAt).getTime());
  });

  it("show on the connection page as lastUsedAt", async () => {
    const ws = await createWorkspace(owner.client);
    const token = new GraphQLClient(app.url).as((await createApiToken(owner.client, ws.id, ["RESOLVE"], "paged")).token);
    await createConnection(owner.client, ws.id, { name: "a_used" });
    await createConnection(owner.client, ws.id, { name: "b_unused" });
    await token.ok(RESOLVE, { n: "a_used" });
    const page = `query($s: String!) { workspace(slug: $s) { connections { nodes { name lastUsedAt } } } }`;
    const nodes = (await owner.client.ok(page, { s: ws.slug })).workspace.connections.nodes;
    expect(nodes[0].name).toBe("a_used");
    expect(nodes[0].lastUsedAt).not.toBeNull();
    expect(nodes[1]).toEqual({ name: "b_unused", lastUsedAt: null });
  });

  it("survive a clean shutdown: every count is in the database after close()", async () => {
    const own = await startTestApp();
    let databaseUrl = own.databaseUrl;
    try {
      const anonymous = new GraphQLClient(own.url);
      const person = await signUp(anonymous, "closer");
      const ws = await createWorkspace(person.client);
      const created = await createApiToken(person.client, ws.id, ["RESOLVE"], "closer");
      const token = anonymous.as(created.token);
      const conn = await createConnection(person.client, ws.id, { name: "closing" });
      for (let i = 0; i < 5; i++) await token.ok(RESOLVE, { n: "closing" });
      // Well inside the first second: nothing has been written by the timer yet.
      await own.close();
      databaseUrl = own.databaseUrl;
      expect(await writtenCounts(databaseUrl, conn.id)).toBe(5);
      // The token's last use is noted off the request path and written at shutdown too.
      expect(await tokenLastUsedAt(databaseUrl, created.id)).not.toBeNull();
    } finally {
      await own.stop();
    }
  });
});
