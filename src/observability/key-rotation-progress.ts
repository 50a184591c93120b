/**
 * Key rotation progress read from the rows themselves (DESIGN.md, Keys over time): a sealed row
 * whose keyVersion is below its workspace's newest key still waits for re-encryption. Only
 * workspaces holding more than one key version can have such rows, so the count walks the
 * (workspaceId, keyVersion) index of those workspaces alone, and it is cached briefly so
 * frequent scrapes cost one statement per interval.
 */
import type pg from "pg";
import type { KeyRotationProgress } from "./metrics";

const PENDING = `
WITH rotated AS (
  SELECT "workspaceId", max(version) AS current FROM "WorkspaceKey" GROUP BY "workspaceId" HAVING count(*) > 1
)
SELECT count(*)::int AS "pendingRows", count(DISTINCT c."workspaceId")::int AS workspaces
FROM rotated JOIN "Connection" c ON c."workspaceId" = rotated."workspaceId" AND c."keyVersion" < rotated.current`;

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
