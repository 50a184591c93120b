/**
 * Former names (DESIGN.md, "Aliases"). A renamed connection keeps its old name as an alias for
 * a grace period: resolving the old name still works (audited as a resolve through the alias)
 * and no other connection may take the name meanwhile. Expired aliases count as absent
 * everywhere; a periodic sweep deletes their rows.
 *
 * A name lives in two tables (Connection, ConnectionAlias), so no unique index can keep one
 * name to one owner. Every transaction that takes or gives up a name first takes a
 * transaction-scoped advisory lock per (workspace, name), in one order: a create of a name that
 * a concurrent rename is turning into an alias waits for it, then sees the alias.
 */
import type { Db, DbOrTx } from "../../db/prisma";
import { type Sql, type Statement, utc } from "../../db/sql";
import { BadUserInputError, ConflictError } from "../../errors";

export const DEFAULT_KEEP_ALIAS_DAYS = 7;
/** A year: long enough for any migration of pipelines, short enough that a name comes back. */
export const MAX_KEEP_ALIAS_DAYS = 365;
/** Live aliases one connection may hold: renaming in a loop must not squat every name. */
export const MAX_LIVE_ALIASES = 20;

const DAY_MS = 86_400_000;
// The advisory lock space for names (two-key form, so it cannot meet Prisma's migration lock).
const NAME_LOCK = 1885498989;

export interface AliasData {
  name: string;
  expiresAt: Date;
}

/** keepAliasDays as given, or BAD_USER_INPUT. */
export function checkKeepAliasDays(days: number): number {
  if (!Number.isInteger(days) || days < 0 || days > MAX_KEEP_ALIAS_DAYS) {
    throw new BadUserInputError(`keepAliasDays is a whole number of days from 0 (no alias) to ${MAX_KEEP_ALIAS_DAYS}.`, "keepAliasDays");
  }
  return days;
}

/** A name a change takes (a create's name, a rename's new name), for the checks below. */
export interface NameClaim {
  workspaceId: string;
  name: string;
  /** The connection taking it: its own aliases do not stand in its way. */
  connectionId: string;
  /** The input field that carries the name, for the CONFLICT (default "name"). */
  field?: string;
}

/**
 * Locks the names in `tx` until it ends, in one statement and a fixed order (so two
 * transactions locking overlapping names cannot deadlock).
 */
export async function lockNames(tx: DbOrTx, names: ReadonlyArray<{ workspaceId: string; name: string }>): Promise<void> {
  if (names.length === 0) return;
  const keys = names.map((n) => `${n.workspaceId}:${n.name}`);
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${NAME_LOCK}::int, h)
    FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(${keys}::text[]) AS k ORDER BY h) AS names`;
}

/** CONFLICT when a claimed name is another connection's live alias. Call with the names locked. */
export async function assertNamesFree(tx: DbOrTx, claims: readonly NameClaim[], now: Date): Promise<void> {
  if (claims.length === 0) return;
  const held = await tx.connectionAlias.findMany({
    where: {
      OR: claims.map((c) => ({ workspaceId: c.workspaceId, name: c.name })),
      expiresAt: { gt: now },
    },
    include: { connection: { select: { name: true } } },
  });
  for (const alias of held) {
    const claim = claims.find((c) => c.workspaceId === alias.workspaceId && c.name === alias.name);
    if (!claim || claim.connectionId === alias.connectionId) continue;
    throw new ConflictError(
      `${alias.name} is a former name of ${alias.connection.name}, kept so that code using it keeps working until ${alias.expiresAt.toISOString()}; ` +
        "choose another name, or rename that connection with keepAliasDays: 0 first.",
      { field: claim.field ?? "name" },
    );
  }
}

/**
 * After a connection changed name in `tx`: the new name stops being an alias of it, and the old
 * name becomes one for `keepDays` days (none with 0). Expired rows in the way are removed.
 */
export async function moveName(
  tx: DbOrTx,
  move: { workspaceId: string; connectionId: string; from: string; to: string; keepDays: number; now: Date },
): Promise<AliasData | null> {
  const { workspaceId, connectionId, from, to, keepDays, now } = move;
  await tx.connectionAlias.deleteMany({
    where: { workspaceId, name: { in: [from, to] }, OR: [{ connectionId }, { expiresAt: { lte: now } }] },
  });
  if (keepDays === 0) return null;
  const live = await tx.connectionAlias.count({ where: { workspaceId, connectionId, expiresAt: { gt: now } } });
  if (live >= MAX_LIVE_ALIASES) {
    throw new ConflictError(
      `This connection already has ${MAX_LIVE_ALIASES} former names that still resolve; rename it with keepAliasDays: 0, or wait until one expires.`,
      { field: "keepAliasDays" },
    );
  }
  const expiresAt = new Date(now.getTime() + keepDays * DAY_MS);
  await tx.connectionAlias.create({ data: { workspaceId, name: from, connectionId, expiresAt } });
  return { name: from, expiresAt };
}

const SWEEP_EXPIRED_ALIASES: Statement = {
  name: "alias-sweep-expired",
  text: `DELETE FROM "ConnectionAlias" WHERE "expiresAt" <= $1::timestamptz AT TIME ZONE 'UTC' RETURNING 1`,
};

export class ConnectionAliases {
  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
  ) {}

  /** Live aliases of connections the caller may see, newest expiry first. */
  async listOf(connections: ReadonlyArray<{ id: string; workspaceId: string }>): Promise<AliasData[][]> {
    if (connections.length === 0) return [];
    const rows = await this.db.connectionAlias.findMany({
      where: { OR: connections.map((c) => ({ connectionId: c.id, workspaceId: c.workspaceId })), expiresAt: { gt: new Date() } },
      orderBy: [{ expiresAt: "desc" }, { name: "asc" }],
    });
    return connections.map((c) => rows.filter((r) => r.connectionId === c.id).map((r) => ({ name: r.name, expiresAt: r.expiresAt })));
  }

  /**
   * The current name of the connection a live alias names, in its workspace; null when the
   * name is no alias. Resolving then reads the connection by that name as usual, so the
   * fallback fits any way the hot path reads a connection by name.
   */
  async currentName(workspaceId: string, name: string): Promise<string | null> {
    const alias = await this.db.connectionAlias.findFirst({
      where: { workspaceId, name, expiresAt: { gt: new Date() }, connection: { workspaceId } },
      select: { connection: { select: { name: true } } },
    });
    return alias?.connection.name ?? null;
  }

  /** Which of these names are live aliases, and of which connection (by its current name). */
  async holders(workspaceId: string, names: readonly string[]): Promise<Map<string, { of: string; expiresAt: Date; connectionId: string }>> {
    if (names.length === 0) return new Map();
    const rows = await this.db.connectionAlias.findMany({
      where: { workspaceId, name: { in: [...names] }, expiresAt: { gt: new Date() } },
      include: { connection: { select: { name: true } } },
    });
    return new Map(rows.map((r) => [r.name, { of: r.connection.name, expiresAt: r.expiresAt, connectionId: r.connectionId }]));
  }

  /** Deletes expired aliases (they already count as absent); returns how many. */
  async sweepExpired(now = new Date()): Promise<number> {
    // On the pg pool: the hourly sweep runs at start, and Prisma's engine need not be loaded for it (issue 10, RSS).
    const rows = await this.sql.rows(SWEEP_EXPIRED_ALIASES, [utc(now)]);
    return rows.length;
  }
}
