/**
 * The key rotation job (DESIGN.md, Keys over time): after `rotateWorkspaceKey` added version
 * n+1, rewrites every value sealed under an older version (each entry of SEALED_COLUMNS) in
 * small batches, one transaction each, then destroys the versions nothing names any more.
 *
 * - The rows are the progress: a batch claims rows whose key-version column is below the
 *   workspace's newest with `FOR UPDATE SKIP LOCKED`, re-seals them and sets that column in the
 *   same transaction. A process killed mid-batch rolls the batch back; whichever process runs
 *   next (this one after a restart, or another) finds those rows still pending. A row is never
 *   sealed twice for one rotation: it is rewritten only while it still names an older version,
 *   under its row lock, and several processes claim disjoint rows.
 * - Readers need nothing from the job: a ciphertext names the version that opens it, and a
 *   version is destroyed only once no row names it and the newest version has sealed
 *   everything new for `destroyAfterMs` (so a request that read a row just before it was
 *   rewritten still finds the old key). The deferred foreign key from each sealed table to
 *   "WorkspaceKey" makes the database refuse the destruction if a row still names it.
 * - A value that does not open (damaged, or moved in SQL) is left as it is and logged by id;
 *   its version then stays, since destroying it would lose the value for good.
 */
import type pg from "pg";
import type { Invalidation, InvalidationListener } from "../cache/invalidation";
import type { InvalidationBus } from "../cache/invalidation-bus";
import type { Db } from "../db/prisma";
import type { Sql } from "../db/sql";
import type { Logger } from "../log";
import type { Keyring } from "./keyring";
import { ident, SEALED_COLUMNS, type SealedColumns, type SealedRow } from "./sealed-columns";

export interface ReencryptionOptions {
  /** Rows per transaction. */
  batchSize: number;
  /** How long the newest version must have been in force before older ones are destroyed. */
  destroyAfterMs: number;
  logger: Logger;
}

export interface ReencryptionPass {
  reencrypted: number;
  destroyed: number;
  /** Values that would not open and were left as they are. */
  unreadable: number;
  /** When another pass is due (rows left, or a version waiting to be destroyed); null if none. */
  againInMs: number | null;
}

interface RotatingWorkspace {
  workspaceId: string;
  current: number;
  currentSince: Date;
}

export class Reencryption implements InvalidationListener {
  /** Set by the runner: asks for a pass soon. */
  onWork: () => void = () => {};
  /** Values reencrypted since start (metrics and tests). */
  total = 0;
  private halted = false;

  constructor(
    private readonly sql: Sql,
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly bus: InvalidationBus,
    private readonly options: ReencryptionOptions,
    private readonly entries: readonly SealedColumns[] = SEALED_COLUMNS,
  ) {}

  /** A rotation here or in another process: start re-encrypting now. */
  invalidate(change: Invalidation): void {
    if (change.kind === "workspace-keys") this.onWork();
  }

  reset(): void {
    this.onWork();
  }

  /** Ends the pass in progress after its current batch (shutdown); the next start carries on. */
  halt(): void {
    this.halted = true;
  }

  /** Sealed values of the workspace still under an older key version. */
  async pending(workspaceId: string, client: pg.Pool | pg.PoolClient = this.sql.pool): Promise<number> {
    let total = 0;
    for (const entry of this.entries) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${ident(entry.table)}
          WHERE ${ident(entry.workspaceColumn)} = $1
            AND ${ident(entry.keyVersionColumn)} < (SELECT max("version") FROM "WorkspaceKey" WHERE "workspaceId" = $1)`,
        [workspaceId],
      );
      total += Number(rows[0].n);
    }
    return total;
  }

  /** One pass over every workspace with more than one key version. */
  async runOnce(): Promise<ReencryptionPass> {
    const startedAt = performance.now();
    const pass: ReencryptionPass = { reencrypted: 0, destroyed: 0, unreadable: 0, againInMs: null };
    const again = (ms: number) => (pass.againInMs = pass.againInMs === null ? ms : Math.min(pass.againInMs, ms));
    const { rows } = await this.sql.pool.query<{ workspaceId: string; current: number; currentSince: Date }>(
      `SELECT "workspaceId", max("version") AS "current",
              (array_agg("createdAt" ORDER BY "version" DESC))[1]::text AS "currentSince"
         FROM "WorkspaceKey" GROUP BY "workspaceId" HAVING count(*) > 1`,
    );
    for (const row of rows) {
      if (this.halted) break;
      const workspace = { ...row, currentSince: new Date(`${String(row.currentSince).replace(" ", "T")}Z`) };
      let unreadable = 0;
      try {
        for (const entry of this.entries) {
          const done = await this.reencryptEntry(entry, workspace);
          pass.reencrypted += done.reencrypted;
          unreadable += done.unreadable;
        }
      } catch (error) {
        // E.g. the newest key does not unwrap: this workspace waits, the others go on.
        this.options.logger.error("re-encrypting a workspace's values failed; retried on the next pass", { workspaceId: workspace.workspaceId, error });
        continue;
      }
      pass.unreadable += unreadable;
      const pending = await this.pending(workspace.workspaceId);
      if (pending > unreadable) again(1_000); // rows another process held, or written meanwhile
      if (pending > 0) continue;
      const waitMs = workspace.currentSince.getTime() + this.options.destroyAfterMs - Date.now();
      if (waitMs > 0) {
        again(waitMs + 50);
        continue;
      }
      const destroyed = await this.destroyOldVersions(workspace);
      if (destroyed === null) again(1_000);
      else pass.destroyed += destroyed;
    }
    this.total += pass.reencrypted;
    if (pass.reencrypted || pass.destroyed || pass.unreadable) {
      this.options.logger.info("key rotation pass", { ...pass, ms: Math.round(performance.now() - startedAt) });
    }
    return pass;
  }

  /**
   * Re-encrypts one table's pending rows of a workspace, batch by batch, until a batch claims
   * nothing: each batch takes rows still under an older version (by the index on workspace and
   * key version) that no other process holds, and rewrites them, so they leave the pending set.
   * Rows that do not open are excluded from the later batches of this pass.
   */
  private async reencryptEntry(entry: SealedColumns, workspace: RotatingWorkspace): Promise<{ reencrypted: number; unreadable: number }> {
    const keys = entry.keyColumns;
    const context = (entry.contextColumns ?? []).filter((c) => !keys.some((k) => k.name === c));
    const rowKey = keys.map((k) => `${ident(k.name)}::text`).join(` || '/' || `);
    const select = [
      ...keys.map((k) => ident(k.name)),
      `${ident(entry.workspaceColumn)} AS "workspaceId"`,
      `${ident(entry.keyVersionColumn)} AS "keyVersion"`,
      ...context.map((c) => ident(c)),
      ...entry.ciphertextColumns.map((c) => ident(c)),
    ].join(", ");
    const claim = `SELECT ${select} FROM ${ident(entry.table)}
        WHERE ${ident(entry.workspaceColumn)} = $1 AND ${ident(entry.keyVersionColumn)} < $2 AND (${rowKey}) <> ALL($3::text[])
        LIMIT $4 FOR UPDATE SKIP LOCKED`;
    const columns = entry.ciphertextColumns;
    const arrays = [...keys.map((k) => `${k.type}[]`), ...columns.map(() => "bytea[]")];
    const aliases = [...keys.map((_, i) => `k${i}`), ...columns.map((_, i) => `c${i}`)];
    const update = `UPDATE ${ident(entry.table)} AS t SET ${ident(entry.keyVersionColumn)} = $2,
        ${columns.map((c, i) => `${ident(c)} = v.c${i}`).join(", ")}
        FROM unnest(${arrays.map((type, i) => `$${i + 3}::${type}`).join(", ")}) AS v(${aliases.join(", ")})
        WHERE ${keys.map((k, i) => `t.${ident(k.name)} = v.k${i}`).join(" AND ")} AND t.${ident(entry.workspaceColumn)} = $1`;

    const newKey = await this.keyring.version(workspace.workspaceId, workspace.current);
    const failed: string[] = [];
    let reencrypted = 0;
    while (!this.halted) {
      const batch = await this.sql.transaction(async (client) => {
        const { rows } = await client.query<SealedRow & { keyVersion: number }>(claim, [
          workspace.workspaceId,
          workspace.current,
          failed,
          this.options.batchSize,
        ]);
        const keyValues: unknown[][] = keys.map(() => []);
        const blobs: Array<Array<Buffer | null>> = columns.map(() => []);
        const unopened: string[] = [];
        for (const row of rows) {
          const resealed = await this.reseal(entry, row, workspace, newKey);
          if (!resealed) {
            unopened.push(keys.map((k) => String(row[k.name])).join("/"));
            continue;
          }
          keys.forEach((k, i) => keyValues[i].push(row[k.name]));
          resealed.forEach((blob, i) => blobs[i].push(blob));
        }
        if (keyValues[0].length > 0) await client.query(update, [workspace.workspaceId, workspace.current, ...keyValues, ...blobs]);
        return { claimed: rows.length, done: keyValues[0].length, unopened };
      });
      reencrypted += batch.done;
      if (batch.unopened.length > 0) {
        failed.push(...batch.unopened);
        this.options.logger.warn("sealed values that do not open were left under their old key version", {
          table: entry.table,
          workspaceId: workspace.workspaceId,
          ids: batch.unopened,
        });
      }
      if (batch.claimed === 0) break;
    }
    return { reencrypted, unreadable: failed.length };
  }

  /** The row's ciphertext columns sealed under the newest version; null if one does not open. */
  private async reseal(entry: SealedColumns, row: SealedRow & { keyVersion: number }, workspace: RotatingWorkspace, newKey: Buffer) {
    try {
      const oldKey = await this.keyring.version(workspace.workspaceId, row.keyVersion);
      return entry.ciphertextColumns.map((column) => {
        const blob = row[column];
        if (blob === null || blob === undefined) return null;
        const plaintext = entry.open(oldKey, Buffer.from(blob as Uint8Array), row, column);
        return entry.seal(newKey, workspace.current, row, column, plaintext);
      });
    } catch {
      return null;
    }
  }

  /**
   * Deletes the versions below the newest that no row names, announcing it so every process
   * drops its unwrapped copy. The NOT EXISTS guards avoid a foreign key error in the common
   * case; the foreign key itself covers a row written meanwhile.
   */
  private async destroyOldVersions(workspace: RotatingWorkspace): Promise<number | null> {
    const unused = this.entries
      .map(
        (e) => `AND NOT EXISTS (SELECT 1 FROM ${ident(e.table)} s
                  WHERE s.${ident(e.workspaceColumn)} = k."workspaceId" AND s.${ident(e.keyVersionColumn)} = k."version")`,
      )
      .join("\n");
    try {
      return await this.bus.transaction(this.db, async (tx, announce) => {
        const destroyed = await tx.$executeRawUnsafe(
          `DELETE FROM "WorkspaceKey" k WHERE k."workspaceId" = $1 AND k."version" < $2 ${unused}`,
          workspace.workspaceId,
          workspace.current,
        );
        if (destroyed > 0) await announce({ kind: "workspace-keys", workspaceId: workspace.workspaceId });
        return destroyed;
      });
    } catch (error) {
      // A row sealed under an old version committed meanwhile: the next pass re-encrypts it.
      this.options.logger.warn("an old key version is still in use; it will be destroyed later", { workspaceId: workspace.workspaceId, error });
      return null;
    }
  }
}
