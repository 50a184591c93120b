/**
 * Many connections at once, written straight into the database the way the server writes
 * them (sealed with the workspace's current data key), for tests that need thousands: through
 * the API that would take most of a test's time budget.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type pg from "pg";
import { unwrapDataKey } from "../../src/crypto/key-wrap";
import { sealSecrets } from "../../src/crypto/sealed-secrets";

export interface SeededConnection {
  id: string;
  name: string;
  password: string;
}

export async function seedConnections(db: pg.Client | pg.Pool, masterKeyBase64: string, workspaceId: string, count: number, prefix = "seed"): Promise<SeededConnection[]> {
  const { rows } = await db.query<{ version: number; wrappedKey: Buffer }>(
    `SELECT "version", "wrappedKey" FROM "WorkspaceKey" WHERE "workspaceId" = $1 ORDER BY "version" DESC LIMIT 1`,
    [workspaceId],
  );
  const { version, wrappedKey } = rows[0];
  const dek = unwrapDataKey(Buffer.from(masterKeyBase64, "base64"), workspaceId, version, wrappedKey);
  const seeded: SeededConnection[] = [];
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      id: randomUUID(),
      name: `${prefix}_${start + i}`,
      password: `pw-${randomBytes(9).toString("base64url")}`,
    }));
    await db.query(
      `INSERT INTO "Connection" ("id", "workspaceId", "name", "type", "host", "port", "login", "secretFields", "secretCiphertext", "keyVersion", "updatedAt")
       SELECT v.id, $1, v.name, 'postgres', 'db.example.com', 5432, 'reporter', ARRAY['password'], v.blob, $2, now()
         FROM unnest($3::text[], $4::text[], $5::bytea[]) AS v(id, name, blob)`,
      [
        workspaceId,
        version,
        batch.map((c) => c.id),
        batch.map((c) => c.name),
        batch.map((c) => sealSecrets(dek, version, { workspaceId, connectionId: c.id }, { password: c.password })),
      ],
    );
    seeded.push(...batch);
  }
  return seeded;
}
