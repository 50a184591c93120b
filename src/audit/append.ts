/**
 * Appends events to an audit chain. Appends to one chain serialise on its head row
 * ("AuditChainHead"), locked by an upsert that returns the current head, and held until the
 * transaction commits; the unique (chain, seq) index makes a fork impossible even so.
 *
 * Append audit events as the LAST write of a transaction: the head lock is then always the
 * last lock a transaction takes, and no transaction holding it waits for another lock, so
 * appends never deadlock with the row locks of the change they record.
 */
import { randomUUID } from "node:crypto";
import type { DbOrTx } from "../db/prisma";
import type { ActorKind } from "../generated/prisma/enums";
import { auditEventHash, type ChainedFields, GENESIS_HASH } from "./chain-hash";

/** The instance's own chain (workspace deletions and other events outside any workspace). */
export const INSTANCE_CHAIN = "instance";

export interface NewAuditEvent {
  action: string;
  actorKind: ActorKind | null;
  actorId: string | null;
  actorLabel: string;
  targetType?: string | null;
  targetId?: string | null;
  clientIp?: string | null;
  details?: unknown;
}

export interface AppendedEvent {
  id: string;
  seq: bigint;
  hash: string;
}

/**
 * Appends events to a workspace's chain (`chainId` = the workspace id) or to the instance
 * chain, in order, inside `tx`.
 */
export async function appendAuditEvents(tx: DbOrTx, chainId: string, events: readonly NewAuditEvent[]): Promise<AppendedEvent[]> {
  if (events.length === 0) return [];
  const head = await lockChainHead(tx, chainId);
  const links = chainLinks(chainId, head, events, new Date());
  const instance = chainId === INSTANCE_CHAIN;
  for (const link of links) {
    const detailsJson = link.details === null ? null : JSON.stringify(link.details);
    if (instance) {
      await tx.$executeRaw`
        INSERT INTO "InstanceAuditEvent" ("id", "seq", "action", "actorKind", "actorId", "actorLabel", "targetType", "targetId", "clientIp", "details", "at", "prevHash", "hash")
        VALUES (${link.id}, ${link.seq}, ${link.action}, ${link.actorKind}::"ActorKind", ${link.actorId}, ${link.actorLabel}, ${link.targetType}, ${link.targetId},
                ${link.clientIp}, ${detailsJson}::jsonb, ${link.at}::timestamptz AT TIME ZONE 'UTC', ${link.prevHash}, ${link.hash})`;
    } else {
      await tx.$executeRaw`
        INSERT INTO "AuditEvent" ("id", "workspaceId", "seq", "action", "actorKind", "actorId", "actorLabel", "targetType", "targetId", "clientIp", "details", "at", "prevHash", "hash")
        VALUES (${link.id}, ${chainId}, ${link.seq}, ${link.action}, ${link.actorKind}::"ActorKind", ${link.actorId}, ${link.actorLabel}, ${link.targetType}, ${link.targetId},
                ${link.clientIp}, ${detailsJson}::jsonb, ${link.at}::timestamptz AT TIME ZONE 'UTC', ${link.prevHash}, ${link.hash})`;
    }
  }
  const last = links[links.length - 1];
  await moveChainHead(tx, chainId, last.seq, last.hash);
  return links.map(({ id, seq, hash }) => ({ id, seq, hash }));
}

/** An event placed in its chain: every hashed field, and its hash. */
export type ChainLink = ChainedFields & { hash: string };

/**
 * Places events after `head` in a chain, in order, all at time `at`: their ids, positions,
 * links and hashes, exactly as they are to be stored (pure; the caller holds the head's lock
 * and writes them, then moves the head to the last one).
 */
export function chainLinks(chainId: string, head: { seq: bigint; hash: string }, events: readonly NewAuditEvent[], at: Date): ChainLink[] {
  let { seq, hash: prevHash } = head;
  // Stored with millisecond precision: hash exactly what the database will hand back.
  const when = new Date(at.getTime());
  return events.map((event) => {
    seq += 1n;
    const fields: ChainedFields = {
      chainId,
      seq,
      prevHash,
      id: randomUUID(),
      action: event.action,
      actorKind: event.actorKind,
      actorId: event.actorId,
      actorLabel: event.actorLabel,
      targetType: event.targetType ?? null,
      targetId: event.targetId ?? null,
      clientIp: event.clientIp ?? null,
      // JSON-only values, as the database will hand them back.
      details: event.details === undefined || event.details === null ? null : JSON.parse(JSON.stringify(event.details)),
      at: when,
    };
    const hash = auditEventHash(fields);
    prevHash = hash;
    return { ...fields, hash };
  });
}

/**
 * Locks a chain's head until the transaction ends and returns it (creating it at position 0):
 * the upsert's no-op update takes the row lock and returns the latest committed head.
 */
export async function lockChainHead(tx: DbOrTx, chainId: string): Promise<{ seq: bigint; hash: string }> {
  const [head] = await tx.$queryRaw<Array<{ seq: bigint; hash: string }>>`
    INSERT INTO "AuditChainHead" ("chainId", "seq", "hash") VALUES (${chainId}, 0, ${GENESIS_HASH})
    ON CONFLICT ("chainId") DO UPDATE SET "chainId" = EXCLUDED."chainId"
    RETURNING "seq", "hash"`;
  return { seq: BigInt(head.seq), hash: head.hash };
}

export async function moveChainHead(tx: DbOrTx, chainId: string, seq: bigint, hash: string): Promise<void> {
  await tx.$executeRaw`UPDATE "AuditChainHead" SET "seq" = ${seq}, "hash" = ${hash}, "updatedAt" = now() WHERE "chainId" = ${chainId}`;
}
