/**
 * Key rotation progress read from the rows themselves (DESIGN.md, Keys over time): a sealed row
 * whose keyVersion is below its workspace's newest key still waits for re-encryption. Only
 * workspaces holding more than one key version can have such rows, so the count walks the
 * (workspaceId, keyVersion) index of those workspaces alone, and it is cached briefly so
 * frequent scrapes cost one statement per interval.
 */
import type pg from "pg";
import type { KeyRotationProgress } from "./metrics";

/**
 * The tables holding values sealed with a workspace key, each with its key-version column and
 * an index on (workspaceId, keyVersion). A new sealed table belongs here too.
 */
const SEALED_TABLES = ["Connection", "ConnectionVersion", "AccessToken"] as const;

const PENDING = `
WITH rotated AS (
  SELECT "workspaceId", max(version) AS current FROM "WorkspaceKey" GROUP BY "workspaceId" HAVING count(*) > 1
), pending AS (
${SEALED_TABLES.map(
  (table) => `  SELECT t."workspaceId" FROM rotated JOIN "${table}" t ON t."workspaceId" = rotated."workspaceId" AND t."keyVersion" < rotated.current`,
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
