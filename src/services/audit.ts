/**
 * The audit log: who did what to which object, when, from where. Events are written in the
 * same transaction as the change they describe, and never carry a secret value.
 */
import { randomUUID } from "node:crypto";
import { actorId, actorLabel } from "../auth/actor";
import type { DbOrTx } from "../db/prisma";
import type { Caller } from "../policy/caller";
import type { Prisma } from "../generated/prisma/client";

export interface AuditEntry {
  workspaceId: string;
  action: string;
  targetType?: string;
  targetId?: string;
  details?: Prisma.InputJsonValue;
}

export async function recordAudit(db: DbOrTx, caller: Caller, entry: AuditEntry): Promise<void> {
  const actor = caller.actor;
  await db.auditEvent.create({
    data: {
      id: randomUUID(),
      workspaceId: entry.workspaceId,
      action: entry.action,
      actorKind: actor?.kind ?? null,
      actorId: actor ? actorId(actor) : null,
      actorLabel: actor ? actorLabel(actor) : "anonymous",
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      clientIp: caller.clientIp,
      details: entry.details,
    },
  });
}
