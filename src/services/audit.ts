/**
 * The audit log: who did what to which object, when, from where. Events are written in the
 * same transaction as the change they describe, as its last write (src/audit/append.ts says
 * why), never carry a secret value, and are chained per workspace so that editing or deleting
 * one is detected (verifyAuditChain).
 */
import { actorId, actorLabel } from "../auth/actor";
import { appendAuditEvents, INSTANCE_CHAIN, type NewAuditEvent } from "../audit/append";
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

type Db = DbOrTx & { $connect?: unknown; $transaction?: unknown };

/** Records one event; outside a transaction (`db` is the client) it opens its own. */
export async function recordAudit(db: Db, caller: Caller, entry: AuditEntry): Promise<void> {
  await recordAudits(db, caller, [entry]);
}

/** Records events of one or more workspaces, in order, each chain appended once. */
export async function recordAudits(db: Db, caller: Caller, entries: readonly AuditEntry[]): Promise<void> {
  const byWorkspace = new Map<string, NewAuditEvent[]>();
  for (const entry of entries) {
    const events = byWorkspace.get(entry.workspaceId) ?? [];
    events.push(eventOf(caller, entry));
    byWorkspace.set(entry.workspaceId, events);
  }
  // Chains in a fixed order, so two transactions touching the same two chains cannot deadlock.
  const chains = [...byWorkspace.keys()].sort();
  await inTransaction(db, async (tx) => {
    for (const chain of chains) await appendAuditEvents(tx, chain, byWorkspace.get(chain)!);
  });
}

/** Records an event in the instance's chain: it outlives any workspace (e.g. a deletion). */
export async function recordInstanceAudit(db: Db, caller: Caller, entry: Omit<AuditEntry, "workspaceId">): Promise<void> {
  await inTransaction(db, (tx) => appendAuditEvents(tx, INSTANCE_CHAIN, [eventOf(caller, entry)]));
}

/** The event an entry stands for, with the caller as its actor. */
export function eventOf(caller: Caller, entry: Omit<AuditEntry, "workspaceId">): NewAuditEvent {
  const actor = caller.actor;
  return {
    action: entry.action,
    actorKind: actor?.kind ?? null,
    actorId: actor ? actorId(actor) : null,
    actorLabel: actor ? actorLabel(actor) : "anonymous",
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    clientIp: caller.clientIp,
    details: entry.details,
  };
}

/**
 * Runs `fn` in `db` when it is already a transaction, else in a new one. (A transaction client
 * has no $connect; its $transaction would open a savepoint, which is not needed here.)
 */
async function inTransaction<T>(db: Db, fn: (tx: DbOrTx) => Promise<T>): Promise<T> {
  if (typeof db.$connect === "function" && typeof db.$transaction === "function") {
    return (db as unknown as { $transaction<R>(f: (tx: DbOrTx) => Promise<R>): Promise<R> }).$transaction(fn);
  }
  return fn(db);
}
