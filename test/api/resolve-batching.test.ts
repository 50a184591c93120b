/**
 * Resolves share commits (resolve-batch.ts): concurrent resolves are audited in a few
 * statements, each committed once for all of them, and a batch stuck behind a locked audit
 * chain does not hold up resolves in other workspaces.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sql } from "../../src/db/sql";
import { ResolveBatcher } from "../../src/services/connections/resolve-batch";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";

const CONNECTIONS = 24;

let app: TestApp;
let busy: { id: string; token: string };
let other: { id: string; token: string };

async function workspaceWithConnections(owner: GraphQLClient, count: number): Promise<{ id: string; token: string }> {
  const workspace = await createWorkspace(owner);
  for (let i = 0; i < count; i++) await createConnection(owner, workspace.id, { name: `db-${i}`, password: `secret-${i}-Pa55` });
  return { id: workspace.id, token: (await createApiToken(owner, workspace.id, ["RESOLVE"], "batching")).token };
}

function resolve(token: string, name: string): Promise<Response> {
  return fetch(`${app.url}/api/v1/connections/${name}`, { headers: { authorization: `Bearer ${token}` } });
}

async function withDatabase<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  app = await startTestApp();
  const owner = await signUp(new GraphQLClient(app.url), "batching");
  busy = await workspaceWithConnections(owner.client, CONNECTIONS);
  other = await workspaceWithConnections(owner.client, 1);
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

describe("resolves under concurrency", () => {
  it("audits a burst of concurrent resolves in a few shared commits, each answer with its own secret", async () => {
    // Warm the token and key caches so the burst reaches the batcher together.
    expect((await resolve(busy.token, "db-0")).status).toBe(200);
    const since = new Date();
    const answers = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => resolve(busy.token, `db-${i}`)));
    const bodies = await Promise.all(answers.map((answer) => answer.json() as Promise<{ password?: string }>));
    expect(answers.map((answer) => answer.status)).toEqual(Array(CONNECTIONS).fill(200));
    expect(bodies.map((body) => body.password)).toEqual(Array.from({ length: CONNECTIONS }, (_, i) => `secret-${i}-Pa55`));

    const { events, commits } = await withDatabase(async (client) => {
      const { rows } = await client.query<{ events: number; commits: number }>(
        `SELECT count(*)::int AS events, count(DISTINCT xmin::text)::int AS commits FROM "AuditEvent"
         WHERE "workspaceId" = $1 AND "action" = 'connection.resolve' AND "at" >= $2::timestamptz AT TIME ZONE 'UTC'`,
        [busy.id, since.toISOString()],
      );
      return rows[0];
    });
    expect(events).toBe(CONNECTIONS);
    // How many share a commit depends on how fast the requests arrive; one each would be 24.
    expect(commits).toBeLessThan(CONNECTIONS);
  });

  it("sends resolves queued while a statement is in flight as one statement after it, not one each", async () => {
    const pool = new pg.Pool({ connectionString: app.databaseUrl, max: 2 });
    try {
      let statements = 0;
      const batcher = new ResolveBatcher(new Sql(pool, { onQuery: () => (statements += 1) }), async (row) => row.name);
      const event = { action: "connection.resolve", actorKind: "API_TOKEN" as const, actorId: "batching-test", actorLabel: "batching test", clientIp: null };
      const names = Array.from({ length: CONNECTIONS }, (_, i) => `db-${i}`);
      const resolved = await Promise.all(names.map((name) => batcher.resolve({ workspaceId: busy.id, name, event })));
      expect(resolved.map((found) => found?.opened)).toEqual(names);
      // The first is sent at once; the other 23 wait for it and share the next statement.
      expect(statements).toBe(2);
    } finally {
      await pool.end();
    }
  });

  it("answers resolves in another workspace while one workspace's audit chain is locked", async () => {
    await withDatabase(async (locker) => {
      await locker.query("BEGIN");
      await locker.query(`SELECT 1 FROM "AuditChainHead" WHERE "chainId" = $1 FOR UPDATE`, [busy.id]);
      let stuckSettled = false;
      const stuck = resolve(busy.token, "db-1").finally(() => (stuckSettled = true));
      try {
        await new Promise((wait) => setTimeout(wait, 100));
        const elsewhere = await resolve(other.token, "db-0");
        expect(elsewhere.status).toBe(200);
        expect(((await elsewhere.json()) as { password: string }).password).toBe("secret-0-Pa55");
        expect(stuckSettled).toBe(false);
      } finally {
        await locker.query("ROLLBACK");
      }
      const released = await stuck;
      expect(released.status).toBe(200);
      expect(((await released.json()) as { password: string }).password).toBe("secret-1-Pa55");
    });
  });
});
