/**
 * Who resolved which connection, counted per actor and UTC day (DESIGN.md, "Usage is a count,
 * not a record"). A resolve adds to a count in this process's memory; the counts are written
 * in one statement about every second (and on a clean shutdown), so resolving writes nothing
 * of its own. A crash loses at most the counts of that last second; the audit log, written
 * before any secret leaves, still has every resolve. Readers here see this process's unwritten
 * counts too; other processes see them once written.
 *
 * A connection's lastUsedAt derives from these counts (the newest use), so a read never
 * updates the connection's row (nor its updatedAt).
 */
import type { Actor } from "../../auth/actor";
import { actorId } from "../../auth/actor";
import type { DbOrTx } from "../../db/prisma";
import type { Sql, Statement } from "../../db/sql";
import type { ActorKind } from "../../generated/prisma/enums";

export interface UsageRow {
  connectionId: string;
  actorKind: ActorKind;
  actorId: string;
  count: number;
  lastUsedAt: Date;
}

interface PendingCount {
  workspaceId: string;
  connectionId: string;
  actorKind: ActorKind;
  actorId: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  count: number;
  lastUsedAt: Date;
}

/** Rows whose connection is gone (deleted meanwhile) are skipped, not a failed batch. */
const FLUSH: Statement = {
  name: "usage-flush",
  text: `
    INSERT INTO "ConnectionUsage" ("connectionId", "actorKind", "actorId", "day", "workspaceId", "count", "lastUsedAt")
    SELECT u.connection_id, u.actor_kind::"ActorKind", u.actor_id, u.day::date, u.workspace_id, u.count, u.last_used_at::timestamptz AT TIME ZONE 'UTC'
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[])
      AS u(connection_id, actor_kind, actor_id, day, workspace_id, count, last_used_at)
    JOIN "Connection" c ON c."id" = u.connection_id AND c."workspaceId" = u.workspace_id
    ORDER BY u.connection_id, u.actor_kind, u.actor_id, u.day
    ON CONFLICT ("connectionId", "actorKind", "actorId", "day")
    DO UPDATE SET "count" = "ConnectionUsage"."count" + EXCLUDED."count",
                  "lastUsedAt" = GREATEST("ConnectionUsage"."lastUsedAt", EXCLUDED."lastUsedAt")`,
};

const LAST_USES: Statement = {
  name: "usage-last-uses",
  text: `
    SELECT u."connectionId", max(u."lastUsedAt") AS "lastUsedAt"
    FROM unnest($1::text[], $2::text[]) AS wanted(id, workspace_id)
    JOIN "ConnectionUsage" u ON u."connectionId" = wanted.id AND u."workspaceId" = wanted.workspace_id
    GROUP BY u."connectionId"`,
};

const FOREIGN_KEY_VIOLATION = "23503";

export class UsageCounter {
  /** By connection id, then by actor and day. */
  private pending = new Map<string, Map<string, PendingCount>>();
  private flushing: Promise<void> | null = null;
  /** The counts being written right now: still counted by readers until the write is done. */
  private writing: Map<string, Map<string, PendingCount>> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly onFlushError: (error: unknown) => void = () => {},
  ) {}

  /** Flushes every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush().catch(this.onFlushError), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left (a clean shutdown loses nothing). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  record(workspaceId: string, connectionId: string, actor: Actor, at: Date): void {
    const id = actorId(actor);
    const day = at.toISOString().slice(0, 10);
    const key = `${actor.kind}\u0000${id}\u0000${day}`;
    let counts = this.pending.get(connectionId);
    if (!counts) this.pending.set(connectionId, (counts = new Map()));
    const count = counts.get(key);
    if (count) {
      count.count += 1;
      if (at > count.lastUsedAt) count.lastUsedAt = at;
    } else {
      counts.set(key, { workspaceId, connectionId, actorKind: actor.kind, actorId: id, day, count: 1, lastUsedAt: at });
    }
  }

  /** Writes the counts gathered so far in one statement; concurrent calls share one write. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => {});
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = batch;
    this.flushing = this.write([...batch.values()].flatMap((counts) => [...counts.values()]))
      .catch((error: unknown) => {
        // Kept for the next flush: a database that does not answer now loses no counts.
        for (const counts of batch.values()) for (const count of counts.values()) this.restore(count);
        throw error;
      })
      .finally(() => {
        this.flushing = null;
        this.writing = null;
      });
    await this.flushing;
  }

  /**
   * Call before reading written counts: waits for a write in flight, so that what a reader
   * then reads from the database and what pendingSince/pendingLastUse add (unwritten counts
   * and any write that starts meanwhile) neither miss nor double a count.
   */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing.catch(() => {});
  }

  /** The newest use of each connection that this process has not written yet. */
  pendingLastUse(connectionId: string): Date | null {
    let newest: Date | null = null;
    for (const count of this.unwritten(connectionId)) if (!newest || count.lastUsedAt > newest) newest = count.lastUsedAt;
    return newest;
  }

  /** Unwritten counts of these connections since `day` (YYYY-MM-DD, inclusive). */
  pendingSince(connectionIds: readonly string[], day: string): PendingCount[] {
    return connectionIds.flatMap((id) => this.unwritten(id).filter((count) => count.day >= day));
  }

  private unwritten(connectionId: string): PendingCount[] {
    return [...(this.pending.get(connectionId)?.values() ?? []), ...(this.writing?.get(connectionId)?.values() ?? [])];
  }

  /** The newest use of each connection, written or not. */
  async lastUses(connections: ReadonlyArray<{ id: string; workspaceId: string }>): Promise<Map<string, Date>> {
    await this.settled();
    const rows = await this.sql.rows<{ connectionId: string; lastUsedAt: Date }>(LAST_USES, [
      connections.map((c) => c.id),
      connections.map((c) => c.workspaceId),
    ]);
    const newest = new Map(rows.map((row) => [row.connectionId, row.lastUsedAt]));
    for (const { id } of connections) {
      const pending = this.pendingLastUse(id);
      const written = newest.get(id);
      if (pending && (!written || pending > written)) newest.set(id, pending);
    }
    return newest;
  }

  private async write(counts: PendingCount[]): Promise<void> {
    const values = [
      counts.map((c) => c.connectionId),
      counts.map((c) => c.actorKind),
      counts.map((c) => c.actorId),
      counts.map((c) => c.day),
      counts.map((c) => c.workspaceId),
      counts.map((c) => c.count),
      counts.map((c) => c.lastUsedAt.toISOString()),
    ];
    try {
      await this.sql.rows(FLUSH, values);
    } catch (error) {
      // A connection deleted between the join and the insert: the next try skips it.
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      await this.sql.rows(FLUSH, values);
    }
  }

  private restore(count: PendingCount): void {
    const key = `${count.actorKind}\u0000${count.actorId}\u0000${count.day}`;
    let counts = this.pending.get(count.connectionId);
    if (!counts) this.pending.set(count.connectionId, (counts = new Map()));
    const newer = counts.get(key);
    if (newer) {
      newer.count += count.count;
      if (count.lastUsedAt > newer.lastUsedAt) newer.lastUsedAt = count.lastUsedAt;
    } else {
      counts.set(key, count);
    }
  }
}

/** Usage per connection and actor over the last `days` days (today included), most recent first, unwritten counts included. */
export async function usageSince(db: DbOrTx, counter: UsageCounter, connectionIds: readonly string[], days: number): Promise<UsageRow[]> {
  if (connectionIds.length === 0) return [];
  await counter.settled();
  const written = await db.$queryRaw<UsageRow[]>`
    SELECT "connectionId", "actorKind", "actorId", SUM("count")::int AS "count", MAX("lastUsedAt") AS "lastUsedAt"
    FROM "ConnectionUsage"
    WHERE "connectionId" = ANY(${[...connectionIds]}::text[])
      AND "day" > ((now() AT TIME ZONE 'UTC')::date - ${days}::int)
    GROUP BY "connectionId", "actorKind", "actorId"`;
  const firstDay = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const byActor = new Map(written.map((row) => [`${row.connectionId}\u0000${row.actorKind}\u0000${row.actorId}`, row]));
  for (const count of counter.pendingSince(connectionIds, firstDay)) {
    const key = `${count.connectionId}\u0000${count.actorKind}\u0000${count.actorId}`;
    const row = byActor.get(key);
    if (!row) byActor.set(key, { connectionId: count.connectionId, actorKind: count.actorKind, actorId: count.actorId, count: count.count, lastUsedAt: count.lastUsedAt });
    else {
      row.count += count.count;
      if (count.lastUsedAt > row.lastUsedAt) row.lastUsedAt = count.lastUsedAt;
    }
  }
  return [...byActor.values()].sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime());
}

/** Names of users and tokens for display: a person's name or email, a token's name. */
export async function actorNames(db: DbOrTx, rows: readonly UsageRow[]): Promise<Map<string, string>> {
  const userIds = rows.filter((r) => r.actorKind === "USER").map((r) => r.actorId);
  const tokenIds = rows.filter((r) => r.actorKind === "API_TOKEN").map((r) => r.actorId);
  const [users, tokens] = await Promise.all([
    userIds.length ? db.user.findMany({ where: { id: { in: userIds } }, select: { id: true, email: true, name: true } }) : [],
    tokenIds.length ? db.apiToken.findMany({ where: { id: { in: tokenIds } }, select: { id: true, name: true, prefix: true } }) : [],
  ]);
  const names = new Map<string, string>();
  for (const u of users) names.set(`USER:${u.id}`, u.name ? `${u.name} <${u.email}>` : u.email);
  for (const t of tokens) names.set(`API_TOKEN:${t.id}`, `token ${t.name} (${t.prefix}…)`);
  return names;
}

export function actorNameOf(names: Map<string, string>, row: Pick<UsageRow, "actorKind" | "actorId">): string {
  return names.get(`${row.actorKind}:${row.actorId}`) ?? (row.actorKind === "USER" ? "a removed user" : "a deleted token");
}
