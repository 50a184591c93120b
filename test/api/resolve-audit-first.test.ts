/**
 * A resolve's secret never leaves before its audit event is committed (DESIGN.md, "Audit
 * before the secret leaves"). Patchbay reaches its database through a proxy this test
 * controls, which drops the database connection at the statement that reads the connection
 * and appends its audit event (committed on its own, resolve-batch.ts): before it reaches
 * PostgreSQL, and after it did but before the answer came back. Either way no secret is in
 * the answer, and the audit chain stays intact.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { verifyWorkspaceChain } from "../../src/audit/verify";
import { Caller } from "../../src/policy/caller";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";
import { type CuttingProxy, startCuttingProxy } from "../support/cutting-proxy";

const PASSWORD = "audit-first-Pa55word!";
// The prepared statement's name: in every Bind message of it.
const STATEMENT = "resolve-read-and-audit";

let proxy: CuttingProxy;
let app: TestApp;
let token: string;
let workspaceId: string;
let connectionId: string;

beforeAll(async () => {
  const admin = new URL(inject("pgAdminUrl"));
  proxy = await startCuttingProxy({ host: admin.hostname, port: Number(admin.port) });
  app = await startTestApp({}, {
    serverDatabaseUrl: (direct) => {
      const url = new URL(direct);
      url.port = String(proxy.port);
      return url.toString();
    },
  });
  const owner = await signUp(new GraphQLClient(app.url), "audit-first");
  const workspace = await createWorkspace(owner.client);
  workspaceId = workspace.id;
  connectionId = (await createConnection(owner.client, workspace.id, { name: "guarded", password: PASSWORD })).id;
  token = (await createApiToken(owner.client, workspace.id, ["RESOLVE"], "audit-first")).token;
}, 60_000);

afterAll(async () => {
  proxy?.disarm();
  await app?.stop();
  await proxy?.close();
});

async function resolveEvents(): Promise<number> {
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "AuditEvent" WHERE "workspaceId" = $1 AND "action" = 'connection.resolve' AND "targetId" = $2`,
      [workspaceId, connectionId],
    );
    return rows[0].n;
  } finally {
    await client.end();
  }
}

function restResolve(): Promise<Response> {
  return fetch(`${app.url}/api/v1/connections/guarded`, { headers: { authorization: `Bearer ${token}` } });
}

function graphqlResolve(): Promise<Response> {
  return fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ query: `{ resolveConnection(name: "guarded") { password } }` }),
  });
}

describe("a resolve whose database connection is lost at the statement that audits it", () => {
  it("works through the proxy while nothing is cut", async () => {
    const answer = await restResolve();
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain(PASSWORD);
  });

  for (const moment of ["before", "after"] as const) {
    it(`returns no secret when the connection drops ${moment} the statement reaches PostgreSQL`, async () => {
      // Warm: the token is verified and cached, so the cut hits the resolve's own transaction.
      expect((await restResolve()).status).toBe(200);
      const eventsBefore = await resolveEvents();
      const cutsBefore = proxy.cuts;
      proxy.arm(moment, STATEMENT);
      let answers: Array<{ status: number; body: string }>;
      try {
        // Several at once: they share statements (group commit), and every one of them is cut.
        answers = await Promise.all(
          [restResolve(), restResolve(), graphqlResolve(), graphqlResolve(), restResolve()].map(async (pending) => {
            const response = await pending;
            return { status: response.status, body: await response.text() };
          }),
        );
      } finally {
        proxy.disarm();
      }
      expect(proxy.cuts).toBeGreaterThan(cutsBefore);
      for (const answer of answers) {
        expect(answer.body).not.toContain(PASSWORD);
        if (answer.status === 200) {
          // GraphQL answers errors with HTTP 200 when no status is mapped: the data must be null.
          expect(JSON.parse(answer.body)).toMatchObject({ data: null, errors: [expect.anything()] });
        } else {
          expect(answer.status).toBeGreaterThanOrEqual(500);
        }
      }
      const eventsAfter = await resolveEvents();
      if (moment === "before") expect(eventsAfter).toBe(eventsBefore);
      else expect(eventsAfter).toBeGreaterThanOrEqual(eventsBefore);
      expect(app.logs.join("\n")).not.toContain(PASSWORD);

      // The pool recovers by itself; the chain has no fork and no gap.
      const again = await restResolve();
      expect(again.status).toBe(200);
      expect(await again.text()).toContain(PASSWORD);
      expect(await resolveEvents()).toBe(eventsAfter + 1);
      const report = await verifyWorkspaceChain(app.prisma, workspaceId);
      expect(report).toMatchObject({ intact: true });
    });
  }
});

describe("concurrent resolves", () => {
  it("share statements (group commit), each with its own event, in one intact chain", async () => {
    const actor = await app.services.apiTokens.authenticate(token);
    const caller = new Caller(actor, "127.0.0.1", app.services.workspaces);
    const eventsBefore = await resolveEvents();
    const { result, statements } = await app.countQueries(() =>
      Promise.all(Array.from({ length: 20 }, () => app.services.resolution.resolve(caller, "guarded"))),
    );
    expect(result.every((resolved) => resolved.password === PASSWORD)).toBe(true);
    expect(await resolveEvents()).toBe(eventsBefore + 20);
    // The first two start alone (two batches may be in flight); the other 18 share the next.
    expect(statements.filter((text) => text.includes('INSERT INTO "AuditEvent"')).length).toBeLessThanOrEqual(3);
    expect(await verifyWorkspaceChain(app.prisma, workspaceId)).toMatchObject({ intact: true });
  });

  it("answer NOT_FOUND for a missing name without writing an event, beside ones that are found", async () => {
    const actor = await app.services.apiTokens.authenticate(token);
    const caller = new Caller(actor, "127.0.0.1", app.services.workspaces);
    const eventsBefore = await resolveEvents();
    const outcomes = await Promise.allSettled(
      ["guarded", "missing", "guarded", "missing"].map((name) => app.services.resolution.resolve(caller, name)),
    );
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ extensions: { code: "NOT_FOUND" } });
    expect(await resolveEvents()).toBe(eventsBefore + 2);
  });
});

describe("events written by the database", () => {
  it("hash exactly as the chain's canonical form says, whatever the token's name holds", async () => {
    const owner = await signUp(new GraphQLClient(app.url), "audit-names");
    const workspace = await createWorkspace(owner.client);
    await createConnection(owner.client, workspace.id, { name: "named" });
    const name = 'Ünïcødé "quoted" \\ back\tslash 😀 \u2028 line';
    const odd = (await createApiToken(owner.client, workspace.id, ["RESOLVE"], name)).token;
    const client = new GraphQLClient(app.url, odd);
    await Promise.all(Array.from({ length: 5 }, () => client.ok(`{ resolveConnection(name: "named") { name } }`)));
    expect(await verifyWorkspaceChain(app.prisma, workspace.id)).toMatchObject({ intact: true, checked: expect.any(Number) });
  });
});
