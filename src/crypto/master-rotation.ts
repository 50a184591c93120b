/**
 * Master key rotation at start-up (DESIGN.md, Keys over time). With PATCHBAY_MASTER_KEY = the
 * new key and PATCHBAY_MASTER_KEY_PREVIOUS = the old one, every stored key wrapped by the old
 * one (workspace data keys and the instance's own keys) is re-wrapped by the new one; no
 * secret is re-encrypted. Each stored key records the fingerprint of the master key that
 * wrapped it, so the rows are the progress: a batch re-wraps rows still naming the old
 * fingerprint under `FOR UPDATE SKIP LOCKED`, one transaction each, and a process killed
 * midway leaves every row wrapped by exactly one of the two keys, which the next start (or
 * another process starting meanwhile) finishes.
 *
 * Start-up is refused, with one line saying what to do, when a stored key is wrapped by a
 * master key this process does not have: e.g. a start with only the old key after a rotation.
 */
import type pg from "pg";
import type { Sql } from "../db/sql";
import { unwrapDataKey, wrapDataKey } from "./key-wrap";
import type { MasterKeys } from "./keyring";
import { MasterKeyError } from "./master-key";

/** The tables holding keys wrapped by the master key, and how each binds its row into the AAD. */
const WRAPPED_TABLES = [
  {
    table: `"WorkspaceKey"`,
    key: `"workspaceId" || ':' || "version"`,
    aad: (row: WrappedRow) => ({ id: row.workspaceId!, version: row.version! }),
    columns: `"workspaceId", "version"`,
    match: `"workspaceId" = v.a AND "version" = v.b::int`,
  },
  {
    table: `"InstanceKey"`,
    key: `"purpose"`,
    aad: (row: WrappedRow) => ({ id: `instance:${row.purpose}`, version: 0 }),
    columns: `"purpose"`,
    match: `"purpose" = v.a`,
  },
] as const;

interface WrappedRow {
  workspaceId?: string;
  version?: number;
  purpose?: string;
  wrappedKey: Buffer;
  masterKeyFingerprint: string | null;
}

export interface RewrapResult {
  rewrapped: number;
  /** Keys from before fingerprints were recorded, now labelled. */
  labelled: number;
}

const WAIT_FOR_OTHERS_MS = 60_000;

/**
 * Brings every stored key under the current master key, or refuses with a MasterKeyError.
 * `batchSize` keys per transaction.
 */
export async function rewrapUnderCurrentMasterKey(sql: Sql, keys: MasterKeys, batchSize: number): Promise<RewrapResult> {
  const result: RewrapResult = { rewrapped: 0, labelled: 0 };
  const deadline = Date.now() + WAIT_FOR_OTHERS_MS;
  for (const spec of WRAPPED_TABLES) {
    for (;;) {
      const batch = await sql.transaction(async (client) => {
        // Rows not under the current key, except ones under a key we do not have (refused below).
        const known = [keys.previousFingerprint].filter((f): f is string => f !== null);
        const { rows } = await client.query<WrappedRow>(
          `SELECT ${spec.columns}, "wrappedKey", "masterKeyFingerprint" FROM ${spec.table}
            WHERE "masterKeyFingerprint" IS NULL OR "masterKeyFingerprint" = ANY($1::text[])
            ORDER BY ${spec.key} LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [known, batchSize],
        );
        return rewrapRows(client, spec, rows, keys);
      });
      result.rewrapped += batch.rewrapped;
      result.labelled += batch.labelled;
      if (batch.claimed > 0) continue;
      // Nothing claimable: done, or another process holds the rest (wait for it to commit).
      const left = await countLeft(sql.pool, spec.table, keys);
      if (left === 0) break;
      if (Date.now() > deadline) throw new MasterKeyError(`Timed out waiting for another process to finish re-wrapping ${left} keys; start again.`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await refuseUnknownMasterKeys(sql.pool, keys);
  return result;
}

async function rewrapRows(
  client: pg.PoolClient,
  spec: (typeof WRAPPED_TABLES)[number],
  rows: WrappedRow[],
  keys: MasterKeys,
): Promise<{ claimed: number; rewrapped: number; labelled: number }> {
  const a: string[] = [];
  const b: string[] = [];
  const wrapped: Buffer[] = [];
  let rewrapped = 0;
  let labelled = 0;
  for (const row of rows) {
    const { id, version } = spec.aad(row);
    const stored = Buffer.from(row.wrappedKey);
    const candidates = row.masterKeyFingerprint === null ? [keys.current, keys.previous] : [keys.byFingerprint(row.masterKeyFingerprint)];
    let key: Buffer | null = null;
    let opener: Buffer | null = null;
    for (const kek of candidates) {
      if (!kek) continue;
      try {
        key = unwrapDataKey(kek, id, version, stored);
        opener = kek;
        break;
      } catch {
        /* try the next */
      }
    }
    if (!key || !opener) {
      throw new MasterKeyError(
        "The master key does not open this database's keys: PATCHBAY_MASTER_KEY (or the data directory's master.key) is not the key this database was created with" +
          (keys.previous ? ", and neither is PATCHBAY_MASTER_KEY_PREVIOUS." : "."),
      );
    }
    a.push(row.workspaceId ?? row.purpose!);
    b.push(String(row.version ?? 0));
    if (opener === keys.current) {
      wrapped.push(stored);
      labelled += 1;
    } else {
      wrapped.push(wrapDataKey(keys.current, id, version, key));
      rewrapped += 1;
    }
    key.fill(0);
  }
  if (a.length > 0) {
    await client.query(
      `UPDATE ${spec.table} SET "wrappedKey" = v.w, "masterKeyFingerprint" = $4
         FROM unnest($1::text[], $2::text[], $3::bytea[]) AS v(a, b, w) WHERE ${spec.match}`,
      [a, b, wrapped, keys.currentFingerprint],
    );
  }
  return { claimed: rows.length, rewrapped, labelled };
}

async function countLeft(pool: pg.Pool, table: string, keys: MasterKeys): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${table} WHERE "masterKeyFingerprint" IS NULL OR "masterKeyFingerprint" = $1`,
    [keys.previousFingerprint ?? ""],
  );
  return Number(rows[0].n);
}

/** Refuses to start when a stored key is wrapped by a master key other than the current one. */
async function refuseUnknownMasterKeys(pool: pg.Pool, keys: MasterKeys): Promise<void> {
  const { rows } = await pool.query<{ fingerprint: string }>(
    `SELECT DISTINCT "masterKeyFingerprint" AS fingerprint FROM "WorkspaceKey" WHERE "masterKeyFingerprint" <> $1
     UNION SELECT DISTINCT "masterKeyFingerprint" FROM "InstanceKey" WHERE "masterKeyFingerprint" <> $1`,
    [keys.currentFingerprint],
  );
  if (rows.length === 0) return;
  const theirs = rows.map((r) => r.fingerprint).join(", ");
  throw new MasterKeyError(
    `This database's keys are wrapped by master key ${theirs}, not by PATCHBAY_MASTER_KEY (${keys.currentFingerprint}): ` +
      "if the master key was rotated, start with the new key; to rotate to this key, also set PATCHBAY_MASTER_KEY_PREVIOUS to the key in use.",
  );
}
