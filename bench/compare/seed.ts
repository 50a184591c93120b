/**
 * Seeds one database for both servers. People, workspaces and API tokens go through
 * Patchbay's GraphQL API, as a team would make them. Connections and their test history are
 * many, so they are written in bulk: Patchbay's rows through its own draft validation and
 * sealing (ConnectionSecrets with the workspace's data key) and Prisma's createMany, the
 * floor's rows into its own schema (bench_floor) with the floor's own sealing. Both get the
 * same names, plain fields, passwords and test history.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { Keyring, MasterKeys } from "../../src/crypto/keyring";
import { createPool } from "../../src/db/pool";
import { createPrisma } from "../../src/db/prisma";
import type { Prisma } from "../../src/generated/prisma/client";
import type { TestStatus } from "../../src/generated/prisma/enums";
import { ConnectionSecrets } from "../../src/services/connections/secrets";
import { draftFromInput } from "../../src/services/connections/draft";
import { plainColumns } from "../../src/services/connections/columns";
import { generateKey, sealSecrets, wrapKey } from "../floor/crypto.mjs";
import { connectionInput, testHistory, workspaceSlug } from "./dataset";
import { gql, inParallel } from "./graphql";
import type { Scale } from "./options";
import type { RunningServer } from "./processes";

export interface SeededWorkspace {
  id: string;
  slug: string;
  /** scopes [RESOLVE] */
  resolveToken: string;
  /** scopes [READ] */
  readToken: string;
}

export interface Manifest {
  format: 1;
  scaleId: string;
  workspaces: number;
  connectionsPerWorkspace: number;
  createdAt: string;
  masterKey: string;
  floorMasterKey: string;
  passwordSeed: string;
  userId: string;
  /** Index 0 is the `bench` workspace. */
  seeded: SeededWorkspace[];
  /**
   * P3's own workspace, apart so the pages keep their counts: [WRITE] to (re)point its one
   * connection at this run's PostgreSQL, [TEST] to test it.
   */
  testWorkspace: { id: string; writeToken: string; testToken: string };
  /**
   * The bench person's email and password (a throwaway account on 127.0.0.1), so
   * --during-rotation can log in and rotate a workspace key. Absent in data sets seeded before.
   */
  person?: { email: string; password: string };
  /** Start-up on the empty database, migrations included, when it was seeded. */
  freshStartMs: number;
  seedSeconds: number;
}

const MANIFEST = "bench-manifest.json";

export async function readManifest(dataDir: string): Promise<Manifest | null> {
  const path = join(dataDir, MANIFEST);
  if (!existsSync(path)) return null;
  return JSON.parse(await readFile(path, "utf8")) as Manifest;
}

export interface SeedInput {
  dataDir: string;
  scaleId: string;
  scale: Scale;
  databaseUrl: string;
  /** Starts Patchbay on the (empty) database with the given master key and extra environment. */
  startPatchbay: (masterKey: string, extraEnv: Record<string, string>) => Promise<RunningServer>;
  log: (line: string) => void;
}

export async function seed(input: SeedInput): Promise<Manifest> {
  const started = performance.now();
  const { scale, log } = input;
  const masterKey = randomBytes(32).toString("base64");
  const passwordSeed = randomBytes(16).toString("hex");

  // One person creates every workspace here; the abuse limits meant for people would stop at 10 an hour.
  const server = await input.startPatchbay(masterKey, {
    PATCHBAY_SIGNUP: "open",
    PATCHBAY_WORKSPACE_CREATIONS_PER_USER_PER_HOUR: "1000000",
    PATCHBAY_MAX_WORKSPACES_PER_USER: "1000000",
  });
  const freshStartMs = server.readyMs;
  let manifest: Manifest;
  try {
    log(`seeding: Patchbay started on the empty database in ${Math.round(freshStartMs)} ms; creating ${scale.workspaces} workspace(s) and their tokens`);
    const person = { email: "bench@example.com", password: randomBytes(18).toString("base64url") };
    const signUp = await gql(server.url, null, `mutation($e: String!, $p: String!) { signUp(email: $e, password: $p) { token user { id } } }`, {
      e: person.email,
      p: person.password,
    });
    const session = signUp.signUp.token as string;
    const token = async (workspaceId: string, name: string, scopes: string[]) =>
      (
        await gql(server.url, session, `mutation($w: ID!, $n: String!, $s: [TokenScope!]!) { createApiToken(workspaceId: $w, name: $n, scopes: $s) { token } }`, {
          w: workspaceId,
          n: name,
          s: scopes,
        })
      ).createApiToken.token as string;
    const seeded = await inParallel(Array.from({ length: scale.workspaces }, (_, i) => i), 8, async (i) => {
      const slug = workspaceSlug(i);
      const created = await gql(server.url, session, `mutation($s: String!, $n: String!) { createWorkspace(slug: $s, name: $n) { id } }`, {
        s: slug,
        n: `Bench ${i}`,
      });
      const id = created.createWorkspace.id as string;
      return { id, slug, resolveToken: await token(id, "bench resolve", ["RESOLVE"]), readToken: await token(id, "bench read", ["READ"]) };
    });
    manifest = {
      format: 1,
      scaleId: input.scaleId,
      workspaces: scale.workspaces,
      connectionsPerWorkspace: scale.connectionsPerWorkspace,
      createdAt: new Date().toISOString(),
      masterKey,
      floorMasterKey: randomBytes(32).toString("base64"),
      passwordSeed,
      userId: signUp.signUp.user.id,
      person,
      seeded,
      testWorkspace: await (async () => {
        const created = await gql(server.url, session, `mutation { createWorkspace(slug: "bench-p3", name: "Bench P3") { id } }`);
        const id = created.createWorkspace.id as string;
        return { id, writeToken: await token(id, "bench write", ["WRITE"]), testToken: await token(id, "bench test", ["TEST"]) };
      })(),
      freshStartMs,
      seedSeconds: 0,
    };
  } finally {
    await server.stop();
  }
  log("seeding: workspaces and tokens created");

  log(`seeding: ${scale.workspaces * scale.connectionsPerWorkspace} connections with their test history, for Patchbay and the floor`);
  await createFloorSchema(input.databaseUrl);
  const pool = createPool({ databaseUrl: input.databaseUrl, deadlines: { connectTimeoutMs: 10_000, statementTimeoutMs: 120_000 } });
  const prisma = createPrisma({ pool });
  try {
    const secrets = new ConnectionSecrets(new Keyring(prisma, new MasterKeys(Buffer.from(masterKey, "base64")), 3_600_000));
    const floorMaster = Buffer.from(manifest.floorMasterKey, "base64");
    const now = Date.now();
    const db = await floorClient(input.databaseUrl);
    try {
      // Rows are written in batches across workspaces: a round trip per workspace adds minutes at 1,000 of them.
      let connections: Prisma.ConnectionCreateManyInput[] = [];
      let floorRows: FloorRow[] = [];
      let tests: FloorTest[] = [];
      const flush = async () => {
        for (const chunk of chunks(connections, 1000)) await prisma.connection.createMany({ data: chunk });
        for (const chunk of chunks(tests, 3000)) {
          await prisma.testResult.createMany({ data: chunk.map((t) => ({ ...t, status: t.status as TestStatus, actorKind: "USER" as const, actorId: manifest.userId })) });
        }
        await insertFloorRows(db, floorRows, tests);
        connections = [];
        floorRows = [];
        tests = [];
      };
      for (let w = 0; w < scale.workspaces; w++) {
        const workspaceId = manifest.seeded[w].id;
        const floorKey = generateKey();
        await db.query("INSERT INTO bench_floor.workspace_key (workspace_id, wrapped) VALUES ($1, $2)", [workspaceId, wrapKey(floorMaster, workspaceId, floorKey)]);
        for (let i = 0; i < scale.connectionsPerWorkspace; i++) {
          const draft = draftFromInput(connectionInput(passwordSeed, w, i));
          const id = randomUUID();
          const sealed = await secrets.seal(workspaceId, id, draft.secrets);
          const columns = plainColumns(draft);
          connections.push({ id, workspaceId, ...columns, ...sealed });
          floorRows.push({ id, workspaceId, ...columns, secretFields: sealed.secretFields, sealed: sealSecrets(floorKey, workspaceId, id, draft.secrets) });
          for (const t of testHistory(i, now)) tests.push({ id: randomUUID(), workspaceId, connectionId: id, ...t });
        }
        if (connections.length >= 5000) await flush();
        if (scale.workspaces > 1 && (w + 1) % 200 === 0) log(`seeding: ${w + 1} of ${scale.workspaces} workspaces`);
      }
      await flush();
    } finally {
      await db.end();
    }
  } finally {
    await prisma.$disconnect();
    await pool.end();
  }
  // Fresh statistics and visibility maps, and no checkpoint left over to land in a measurement.
  const db = await floorClient(input.databaseUrl);
  try {
    await db.query("VACUUM ANALYZE");
    await db.query("CHECKPOINT");
  } finally {
    await db.end();
  }
  manifest.seedSeconds = (performance.now() - started) / 1000;
  await writeFile(join(input.dataDir, MANIFEST), JSON.stringify(manifest, null, 2), { mode: 0o600 });
  return manifest;
}

async function floorClient(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, statement_timeout: 600_000, connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}

async function createFloorSchema(databaseUrl: string): Promise<void> {
  const db = await floorClient(databaseUrl);
  try {
    await db.query(`
      DROP SCHEMA IF EXISTS bench_floor CASCADE;
      CREATE SCHEMA bench_floor;
      CREATE TABLE bench_floor.workspace_key (workspace_id text PRIMARY KEY, wrapped bytea NOT NULL);
      CREATE TABLE bench_floor.connection (
        id text PRIMARY KEY, workspace_id text NOT NULL, name text NOT NULL, type text NOT NULL,
        description text, host text, port int, schema text, login text,
        extra jsonb NOT NULL DEFAULT '{}', secret_fields text[] NOT NULL DEFAULT '{}', sealed bytea,
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (workspace_id, name));
      CREATE TABLE bench_floor.test_result (
        id text PRIMARY KEY, workspace_id text NOT NULL,
        connection_id text NOT NULL REFERENCES bench_floor.connection (id) ON DELETE CASCADE,
        status text NOT NULL, error_code text, message text NOT NULL, latency_ms int NOT NULL,
        server_version text, tested_at timestamptz NOT NULL);
      CREATE INDEX ON bench_floor.test_result (connection_id, tested_at DESC);
    `);
  } finally {
    await db.end();
  }
}

interface FloorRow {
  id: string;
  workspaceId: string;
  name: string;
  type: string;
  description: string | null;
  host: string | null;
  port: number | null;
  schema: string | null;
  login: string | null;
  extra: unknown;
  secretFields: string[];
  sealed: Buffer;
}

interface FloorTest {
  id: string;
  workspaceId: string;
  connectionId: string;
  status: string;
  errorCode: string | null;
  message: string;
  latencyMs: number;
  serverVersion: string | null;
  testedAt: Date;
}

async function insertFloorRows(db: pg.Client, rows: FloorRow[], tests: FloorTest[]): Promise<void> {
  for (const chunk of chunks(rows, 1000)) {
    if (chunk.some((r) => r.secretFields.join() !== "password")) throw new Error("The floor stores one secret field, password.");
    await db.query(
      `INSERT INTO bench_floor.connection (id, workspace_id, name, type, description, host, port, schema, login, extra, secret_fields, sealed)
       SELECT id, ws, name, type, description, host, port, schema, login, extra::jsonb, ARRAY['password'], sealed
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::text[], $11::bytea[])
           AS t(id, ws, name, type, description, host, port, schema, login, extra, sealed)`,
      [
        chunk.map((r) => r.id),
        chunk.map((r) => r.workspaceId),
        chunk.map((r) => r.name),
        chunk.map((r) => r.type),
        chunk.map((r) => r.description),
        chunk.map((r) => r.host),
        chunk.map((r) => r.port),
        chunk.map((r) => r.schema),
        chunk.map((r) => r.login),
        chunk.map((r) => JSON.stringify(r.extra)),
        chunk.map((r) => r.sealed),
      ],
    );
  }
  for (const chunk of chunks(tests, 3000)) {
    await db.query(
      `INSERT INTO bench_floor.test_result (id, workspace_id, connection_id, status, error_code, message, latency_ms, server_version, tested_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::timestamptz[])`,
      [
        chunk.map((t) => t.id),
        chunk.map((t) => t.workspaceId),
        chunk.map((t) => t.connectionId),
        chunk.map((t) => t.status),
        chunk.map((t) => t.errorCode),
        chunk.map((t) => t.message),
        chunk.map((t) => t.latencyMs),
        chunk.map((t) => t.serverVersion),
        chunk.map((t) => t.testedAt),
      ],
    );
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
