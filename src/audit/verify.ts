/**
 * Recomputes an audit chain and reports the first event that does not link: an edited event
 * (its hash no longer matches its content), a deleted one (the next event's seq skips, or its
 * prevHash names a hash nobody has), or a truncated tail (the chain head records more events
 * than remain). Truncating the tail AND rewriting the head row is only detectable against a
 * head exported earlier (README, "The audit chain"): pass it as `known`.
 */
import type { DbOrTx } from "../db/prisma";
import { auditEventHash, GENESIS_HASH } from "./chain-hash";

const PAGE = 1_000;

export interface ChainReport {
  intact: boolean;
  checked: number;
  firstBrokenEventId: string | null;
  /** Why it is not intact, for a person to read. */
  reason: string | null;
  /** The newest event: export (seq, hash) now and then to detect truncation later. */
  head: { seq: bigint; hash: string } | null;
}

export interface KnownHead {
  seq: bigint;
  hash: string;
}

interface Row {
  id: string;
  seq: bigint | null;
  action: string;
  actorKind: string | null;
  actorId: string | null;
  actorLabel: string;
  targetType: string | null;
  targetId: string | null;
  clientIp: string | null;
  details: unknown;
  at: Date;
  prevHash: string | null;
  hash: string | null;
}

export async function verifyWorkspaceChain(db: DbOrTx, workspaceId: string, known?: KnownHead | null): Promise<ChainReport> {
  const unchained = await db.auditEvent.findFirst({
    where: { workspaceId, seq: null },
    orderBy: [{ at: "asc" }, { id: "asc" }],
    select: { id: true },
  });
  const report = await verifyChain(
    workspaceId,
    (after) =>
      db.auditEvent.findMany({
        where: { workspaceId, seq: { gt: after } },
        orderBy: { seq: "asc" },
        take: PAGE,
      }),
    () => db.auditChainHead.findUnique({ where: { chainId: workspaceId } }),
    known,
  );
  if (report.intact && unchained) {
    return { ...report, intact: false, firstBrokenEventId: unchained.id, reason: "An event is outside the chain (no position in it)." };
  }
  return report;
}

export async function verifyChain(
  chainId: string,
  page: (afterSeq: bigint) => Promise<Row[]>,
  head: () => Promise<{ seq: bigint; hash: string } | null>,
  known?: KnownHead | null,
): Promise<ChainReport> {
  let checked = 0;
  let expectedSeq = 1n;
  let prevHash = GENESIS_HASH;
  let knownSeen = false;
  const broken = (row: Row, reason: string): ChainReport => ({ intact: false, checked, firstBrokenEventId: row.id, reason, head: null });
  for (;;) {
    const rows = await page(expectedSeq - 1n);
    for (const row of rows) {
      const seq = BigInt(row.seq!);
      if (seq !== expectedSeq) return broken(row, `Events before this one are missing (position ${seq}, expected ${expectedSeq}).`);
      if (row.prevHash !== prevHash) return broken(row, "This event does not link to the one before it.");
      const hash = auditEventHash({ ...row, chainId, seq, prevHash });
      if (row.hash !== hash) return broken(row, "This event was changed after it was written.");
      checked += 1;
      if (known && seq === known.seq) {
        if (hash !== known.hash) return broken(row, "This event is not the one exported as the chain head earlier.");
        knownSeen = true;
      }
      prevHash = hash;
      expectedSeq += 1n;
    }
    if (rows.length < PAGE) break;
  }
  const last = checked > 0 ? { seq: expectedSeq - 1n, hash: prevHash } : null;
  const recorded = await head();
  const notIntact = (reason: string): ChainReport => ({ intact: false, checked, firstBrokenEventId: null, reason, head: last });
  if (recorded && BigInt(recorded.seq) > 0n && (!last || BigInt(recorded.seq) !== last.seq || recorded.hash !== last.hash)) {
    return notIntact(`The chain ends at position ${last?.seq ?? 0}, but its head records position ${recorded.seq}: events were removed from the end.`);
  }
  if (known && !knownSeen) {
    return notIntact(`The exported head (position ${known.seq}) is no longer in the chain: events were removed from the end.`);
  }
  return { intact: true, checked, firstBrokenEventId: null, reason: null, head: last };
}
