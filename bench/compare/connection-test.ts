/**
 * P3: testing a saved PostgreSQL connection through Patchbay (GraphQL testConnection with a
 * TEST token, end to end as a client sees it) against what the test has to do at least: a
 * raw `pg` connect to the same PostgreSQL with the same credentials (SCRAM over TCP),
 * `SELECT 1`, and close, from this process. One at a time, interleaved in rounds.
 */
import pg from "pg";
import { gql } from "./graphql";
import type { Manifest } from "./seed";

export interface ConnectionTestResult {
  rawMs: number[];
  patchbayMs: number[];
  /** What Patchbay itself recorded as the test's latency (latencyMs). */
  reportedMs: number[];
}

export interface LocalPostgres {
  port: number;
  password: string;
  database: string;
}

export async function measureConnectionTest(url: string, manifest: Manifest, local: LocalPostgres, rounds: number, perRound = 10): Promise<ConnectionTestResult> {
  const { testWorkspace } = manifest;
  // The cluster may be on another port than last run: upsert points the connection at this one.
  const upserted = await gql(
    url,
    testWorkspace.writeToken,
    `mutation($w: ID!, $i: [ConnectionInput!]!) { upsertConnections(workspaceId: $w, inputs: $i) { connections { id } } }`,
    {
      w: testWorkspace.id,
      i: [{ name: "pg-local", type: "postgres", host: "127.0.0.1", port: local.port, schema: local.database, login: "postgres", password: local.password, extra: { sslmode: "disable" } }],
    },
  );
  const id = upserted.upsertConnections.connections[0].id as string;

  const raw = async () => {
    const started = performance.now();
    const client = new pg.Client({ host: "127.0.0.1", port: local.port, user: "postgres", password: local.password, database: local.database, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      await client.query("SELECT 1");
    } finally {
      await client.end();
    }
    return performance.now() - started;
  };
  const viaPatchbay = async () => {
    const started = performance.now();
    const data = await gql(url, testWorkspace.testToken, `mutation($id: ID!) { testConnection(id: $id) { status errorCode message latencyMs } }`, { id });
    const elapsed = performance.now() - started;
    const result = data.testConnection;
    if (result.status !== "SUCCESS") throw new Error(`testConnection failed: ${result.errorCode} ${result.message}`);
    return { elapsed, reported: result.latencyMs as number };
  };

  for (let i = 0; i < 3; i++) {
    await raw();
    await viaPatchbay();
  }
  const out: ConnectionTestResult = { rawMs: [], patchbayMs: [], reportedMs: [] };
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < perRound; i++) out.rawMs.push(await raw());
    for (let i = 0; i < perRound; i++) {
      const { elapsed, reported } = await viaPatchbay();
      out.patchbayMs.push(elapsed);
      out.reportedMs.push(reported);
    }
  }
  return out;
}
