/**
 * What one process tells the others when something cached changed (DESIGN.md, "Caches agree
 * across processes"). Each kind names the rows that changed; a cache drops what it derived
 * from them. Who announces what:
 *
 * | kind             | announced by                                   | dropped from                    |
 * |------------------|------------------------------------------------|---------------------------------|
 * | workspace-keys   | key rotation, old key destroyed, master re-wrap | unwrapped data keys (Keyring)   |
 * | api-token        | revocation                                     | verified API tokens             |
 * | membership       | role change, member added or removed           | roles; tokens the member created |
 * | workspace        | workspace deletion                             | everything of that workspace    |
 * | session          | logOut                                         | that session                    |
 * | user-sessions    | changePassword                                 | every session of that user      |
 *
 * Expiry needs no announcement: cached tokens and sessions carry their expiry and are checked
 * against it on every use.
 */
export type Invalidation =
  | { kind: "workspace-keys"; workspaceId: string }
  | { kind: "api-token"; tokenId: string }
  | { kind: "membership"; workspaceId: string; userId: string }
  | { kind: "workspace"; workspaceId: string }
  | { kind: "session"; sessionId: string }
  | { kind: "user-sessions"; userId: string };

export const INVALIDATION_KINDS: ReadonlySet<Invalidation["kind"]> = new Set([
  "workspace-keys",
  "api-token",
  "membership",
  "workspace",
  "session",
  "user-sessions",
]);

/** A cache that follows invalidations. */
export interface InvalidationListener {
  /** Drop what this change makes stale. */
  invalidate(change: Invalidation): void;
  /** Drop everything: notifications may have been missed. */
  reset(): void;
}

/**
 * Parses one notification's payload, `{"o": origin process, "c": [changes]}`; anything
 * malformed is null (and the caller resets).
 */
export function parseInvalidations(payload: string): { origin: string; changes: Invalidation[] } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== "object") return null;
  const { o: origin, c: list } = parsed as { o?: unknown; c?: unknown };
  if (typeof origin !== "string" || !Array.isArray(list)) return null;
  const out: Invalidation[] = [];
  for (const item of list) {
    if (!item || typeof item !== "object" || !INVALIDATION_KINDS.has((item as Invalidation).kind)) return null;
    const values = Object.entries(item as Record<string, unknown>);
    if (!values.every(([key, value]) => typeof value === "string" && (key === "kind" || value.length <= 200))) return null;
    out.push(item as Invalidation);
  }
  return { origin, changes: out };
}
