/**
 * Connection.health: the last N test results summarised, through the API. An http connection
 * to a server this test starts and stops on 127.0.0.1 gives real successes and failures.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { summariseHealth } from "../../src/services/connections/health";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

describe("summariseHealth", () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
  it("says what the status is, since when, and how the window went", () => {
    const newestFirst = [
      { status: "FAILURE" as const, testedAt: at(4), latencyMs: 10 },
      { status: "FAILURE" as const, testedAt: at(3), latencyMs: 10 },
      { status: "SUCCESS" as const, testedAt: at(2), latencyMs: 30 },
      { status: "SUCCESS" as const, testedAt: at(1), latencyMs: 50 },
    ];
    expect(summariseHealth(newestFirst)).toEqual({
      status: "FAILURE",
      results: 4,
      successes: 2,
      failures: 2,
      successRate: 0.5,
      consecutiveFailures: 2,
      since: at(3),
      lastSuccessAt: at(2),
      lastFailureAt: at(4),
      averageLatencyMs: 40,
    });
    expect(summariseHealth([])).toMatchObject({ status: null, results: 0, successRate: null, since: null, consecutiveFailures: 0 });
  });
});

describe("Connection.health", () => {
  let app: TestApp;
  let owner: SignedUp;
  let server: http.Server;

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUp(new GraphQLClient(app.url), "health");
    server = http.createServer((_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await app?.stop();
  });

  it("summarises the newest results: up twice, then down twice", async () => {
    const workspace = await createWorkspace(owner.client);
    const port = (server.address() as AddressInfo).port;
    const connection = await createConnection(owner.client, workspace.id, { type: "http", host: "127.0.0.1", port, schema: "http", login: null, password: null });
    const test = () => owner.client.ok(`mutation($id: ID!) { testConnection(id: $id) { status } }`, { id: connection.id });
    const health = async (last?: number) =>
      (
        await owner.client.ok(
          `query($s: String!, $n: String!, $last: Int) { workspace(slug: $s) { connection(name: $n) {
            health(last: $last) { status results successes failures successRate consecutiveFailures since lastSuccessAt lastFailureAt averageLatencyMs }
          } } }`,
          { s: workspace.slug, n: connection.name, last },
        )
      ).workspace.connection.health;

    expect(await health()).toMatchObject({ status: null, results: 0, successRate: null });
    expect((await test()).testConnection.status).toBe("SUCCESS");
    expect((await test()).testConnection.status).toBe("SUCCESS");
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    expect((await test()).testConnection.status).toBe("FAILURE");
    expect((await test()).testConnection.status).toBe("FAILURE");

    const summary = await health();
    expect(summary).toMatchObject({ status: "FAILURE", results: 4, successes: 2, failures: 2, successRate: 0.5, consecutiveFailures: 2 });
    expect(new Date(summary.since).getTime()).toBeLessThanOrEqual(new Date(summary.lastFailureAt).getTime());
    expect(new Date(summary.lastSuccessAt).getTime()).toBeLessThan(new Date(summary.since).getTime() + 1);
    expect(summary.averageLatencyMs).toBeGreaterThanOrEqual(0);
    expect(await health(2)).toMatchObject({ status: "FAILURE", results: 2, successes: 0, successRate: 0, lastSuccessAt: null });
    // The test server is gone; reopen it for afterAll.
    server = http.createServer((_request, response) => response.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
});
