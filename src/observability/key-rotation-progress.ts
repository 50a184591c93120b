/**
 * Key rotation progress read from the rows themselves (DESIGN.md, Keys over time): a sealed row
 * whose keyVersion is below its workspace's newest key still waits for re-encryption. Only
 * workspaces holding more than one key version can have such rows, so the count walks the
 * (workspace, key version) index of those workspaces alone, in every table of
 * src/crypto/sealed-columns.ts, and it is cached briefly so
 * frequent scrapes cost one statement per interval.
 */
import type pg from "pg";
import { ident, SEALED_COLUMNS } from "../crypto/sealed-columns";
import type { KeyRotationProgress } from "./metrics";

const PENDING = `
WITH rotated AS (
  SELECT "workspaceId", max(version) AS current FROM "WorkspaceKey" GROUP BY "workspaceId" HAVING count(*) > 1
), pending AS (
${SEALED_COLUMNS.map(
  (e) =>
    `  SELECT t.${ident(e.workspaceColumn)} AS "workspaceId" FROM rotated JOIN ${ident(e.table)} t ` +
    `ON t.${ident(e.workspaceColumn)} = rotated."workspaceId" AND t.${ident(e.keyVersionColumn)} < rotated.current`,
).join("\n  UNION ALL\n")}
)
SELECT count(*)::int AS "pendingRows", count(DISTINCT "workspaceId")::int AS workspaces FROM pending`;

export function keyRotationProgressFromDatabase(pool: pg.Pool, cacheMs = 10_000): () => Promise<KeyRotationProgress> {
  let cached: { at: number; value: Promise<KeyRotationProgress> } | null = null;
  return () => {
    const now = Date.now();
    if (cached && now - cached.at < cacheMs) return cached.value;
    const value = pool.query<KeyRotationProgress>(PENDING).then((result) => result.rows[0]);
    // A failure is not cached: the next scrape asks again.
    value.catch(() => (cached = null));
    cached = { at: now, value };
    return value;
  };
}
