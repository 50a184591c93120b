/**
 * The instance's own purpose keys (session signing, the API token hash, rate-limit keys, the invitation hash).
 * Each is derived from the master key the first time it is needed (deriveSubkey) and stored
 * wrapped by it in "InstanceKey"; from then on it is read back, not derived again. So a master
 * key rotation re-wraps these keys (src/crypto/master-rotation.ts) instead of changing them,
 * and API tokens, sessions and rate-limit counters survive it.
 */
import type { Sql } from "../db/sql";
import { unwrapDataKey, wrapDataKey } from "./key-wrap";
import type { MasterKeys } from "./keyring";
import { deriveSubkey, MasterKeyError } from "./master-key";

export type InstanceKeyPurpose = "session-signing" | "api-token-hash" | "rate-limit-keys" | "invitation-hash";

/**
 * The stored key for each purpose, creating what is missing. A database from before these were
 * stored used keys derived from the master key in use then: the previous key during a
 * rotation, else the current one; that is what gets stored, so nothing issued before changes.
 */
export async function loadInstanceKeys<P extends InstanceKeyPurpose>(
  sql: Sql,
  keys: MasterKeys,
  purposes: readonly P[],
): Promise<Record<P, Buffer>> {
  const origin = keys.previous ?? keys.current;
  await sql.pool.query(
    `INSERT INTO "InstanceKey" ("purpose", "wrappedKey", "masterKeyFingerprint")
     SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[]) ON CONFLICT ("purpose") DO NOTHING`,
    [
      purposes,
      purposes.map((p) => wrapDataKey(keys.current, `instance:${p}`, 0, deriveSubkey(origin, p))),
      purposes.map(() => keys.currentFingerprint),
    ],
  );
  const { rows } = await sql.pool.query<{ purpose: P; wrappedKey: Buffer; masterKeyFingerprint: string }>(
    `SELECT "purpose", "wrappedKey", "masterKeyFingerprint" FROM "InstanceKey" WHERE "purpose" = ANY($1::text[])`,
    [purposes],
  );
  const out = {} as Record<P, Buffer>;
  for (const row of rows) {
    const kek = keys.byFingerprint(row.masterKeyFingerprint);
    if (!kek) throw new MasterKeyError(`The instance key ${row.purpose} is wrapped by master key ${row.masterKeyFingerprint}, which this process does not have.`);
    out[row.purpose] = unwrapDataKey(kek, `instance:${row.purpose}`, 0, Buffer.from(row.wrappedKey));
  }
  return out;
}
