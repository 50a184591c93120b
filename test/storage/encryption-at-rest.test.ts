/**
 * What an attacker with a copy of the database gets: no plaintext secret in any column, and
 * sealed values that refuse to open anywhere but in the row and workspace they were sealed for.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrapDataKey, wrapDataKey } from "../../src/crypto/key-wrap";
import { SecretDecryptionError } from "../../src/crypto/sealed-secrets";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { SECRET_MARKERS } from "../support/secrets";

let app: TestApp;
let owner: SignedUp;
let db: pg.Client;
let wsA: { id: string; slug: string };
let wsB: { id: string; slug: string };

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
  wsA = await createWorkspace(owner.client);
  wsB = await createWorkspace(owner.client);
  db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db.end();
  await app.stop();
});

async function row(id: string) {
  const { rows } = await db.query(`SELECT * FROM "Connection" WHERE id = $1`, [id]);
  return rows[0];
}

async function openStored(id: string) {
  const stored = await app.prisma.connection.findUniqueOrThrow({ where: { id } });
  return app.services.connections.storedDraft(stored);
}

describe("at rest", () => {
  it("keeps no plaintext secret in any column of any table", async () => {
    await createConnection(owner.client, wsA.id, { password: SECRET_MARKERS[0] });
    await createConnection(owner.client, wsA.id, { type: "mysql", port: 3306, password: SECRET_MARKERS[2] });
    const { rows: tables } = await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    for (const { tablename } of tables) {
      const { rows } = await db.query(`SELECT * FROM "${tablename}"`);
      const dump = JSON.stringify(rows, (_k, v) => (v && v.type === "Buffer" ? Buffer.from(v.data).toString("latin1") : v));
      for (const secret of SECRET_MARKERS) expect(dump, `${tablename} holds ${secret}`).not.toContain(secret);
    }
  });

  it("opens a sealed value in its own row", async () => {
    const conn = await createConnection(owner.client, wsA.id, { password: SECRET_MARKERS[0] });
    expect((await openStored(conn.id)).secrets).toEqual({ password: SECRET_MARKERS[0] });
    expect((await row(conn.id)).keyVersion).toBe(1);
  });

  it("refuses a sealed value copied into another connection's row", async () => {
    const source = await createConnection(owner.client, wsA.id, { password: SECRET_MARKERS[0] });
    const target = await createConnection(owner.client, wsA.id, { password: SECRET_MARKERS[2] });
    await db.query(`UPDATE "Connection" SET "secretCiphertext" = $1 WHERE id = $2`, [(await row(source.id)).secretCiphertext, target.id]);
    await expect(openStored(target.id)).rejects.toBeInstanceOf(SecretDecryptionError);
  });

  it("refuses a sealed value moved into another workspace", async () => {
    const source = await createConnection(owner.client, wsA.id, { password: SECRET_MARKERS[0] });
    const victim = await createConnection(owner.client, wsB.id, { password: SECRET_MARKERS[2] });
    await db.query(`UPDATE "Connection" SET "secretCiphertext" = $1 WHERE id = $2`, [(await row(source.id)).secretCiphertext, victim.id]);
    await expect(openStored(victim.id)).rejects.toMatchObject({ reason: "AUTHENTICATION_FAILED" });
  });

  it("refuses a sealed value relabelled with another key version", async () => {
    const conn = await createConnection(owner.client, wsA.id, { password: SECRET_MARKERS[0] });
    // Version 2 holds the very same data key, so only the header in the AAD can tell.
    const kek = Buffer.from(app.masterKey, "base64");
    const { rows } = await db.query(`SELECT "wrappedKey" FROM "WorkspaceKey" WHERE "workspaceId" = $1 AND version = 1`, [wsA.id]);
    const dek = unwrapDataKey(kek, wsA.id, 1, rows[0].wrappedKey);
    await db.query(`INSERT INTO "WorkspaceKey" ("workspaceId", version, "wrappedKey") VALUES ($1, 2, $2) ON CONFLICT DO NOTHING`, [
      wsA.id,
      wrapDataKey(kek, wsA.id, 2, dek),
    ]);
    const blob: Buffer = (await row(conn.id)).secretCiphertext;
    const relabelled = Buffer.from(blob);
    relabelled.writeUInt32BE(2, 2);
    await db.query(`UPDATE "Connection" SET "secretCiphertext" = $1 WHERE id = $2`, [relabelled, conn.id]);
    await expect(openStored(conn.id)).rejects.toMatchObject({ reason: "AUTHENTICATION_FAILED" });
  });

  it("refuses a sealed value with one byte flipped, and the API masks the failure", async () => {
    const conn = await createConnection(owner.client, wsB.id, { password: SECRET_MARKERS[0] });
    const blob: Buffer = (await row(conn.id)).secretCiphertext;
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 20] ^= 0x01;
    await db.query(`UPDATE "Connection" SET "secretCiphertext" = $1 WHERE id = $2`, [flipped, conn.id]);
    await expect(openStored(conn.id)).rejects.toMatchObject({ reason: "AUTHENTICATION_FAILED" });

    const response = await owner.client.request(`mutation($id: ID!) { testConnection(id: $id) { status } }`, { id: conn.id });
    expect(response.errors?.[0]).toMatchObject({ message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });
});
