/**
 * Who resolved which connection, counted per actor and UTC day: written on every
 * resolution, read for Connection.usage (30 days) and the delete guard (7 days).
 */
import type { Actor } from "../../auth/actor";
import { actorId } from "../../auth/actor";
import type { DbOrTx } from "../../db/prisma";
import type { ActorKind } from "../../generated/prisma/enums";

export interface UsageRow {
  connectionId: string;
  actorKind: ActorKind;
  actorId: string;
  count: number;
  lastUsedAt: Date;
}

export async function recordUsage(db: DbOrTx, workspaceId: string, connectionId: string, actor: Actor, at: Date): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "ConnectionUsage" ("connectionId", "actorKind", "actorId", "day", "workspaceId", "count", "lastUsedAt")
    VALUES (${connectionId}, ${actor.kind}::"ActorKind", ${actorId(actor)}, (${at}::timestamptz AT TIME ZONE 'UTC')::date, ${workspaceId}, 1, ${at})
    ON CONFLICT ("connectionId", "actorKind", "actorId", "day")
    DO UPDATE SET "count" = "ConnectionUsage"."count" + 1, "lastUsedAt" = GREATEST("ConnectionUsage"."lastUsedAt", EXCLUDED."lastUsedAt")`;
}

/** Usage per connection and actor over the last `days` days (today included), most recent first. */
export async function usageSince(db: DbOrTx, connectionIds: readonly string[], days: number): Promise<UsageRow[]> {
  if (connectionIds.length === 0) return [];
  return db.$queryRaw<UsageRow[]>`
    SELECT "connectionId", "actorKind", "actorId", SUM("count")::int AS "count", MAX("lastUsedAt") AS "lastUsedAt"
    FROM "ConnectionUsage"
    WHERE "connectionId" = ANY(${[...connectionIds]}::text[])
      AND "day" > ((now() AT TIME ZONE 'UTC')::date - ${days}::int)
    GROUP BY "connectionId", "actorKind", "actorId"
    ORDER BY MAX("lastUsedAt") DESC`;
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
