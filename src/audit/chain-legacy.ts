/**
 * Chains the events written before the audit log was a chain (seq still null), once, at
 * start-up: in the order they were written, after whatever the chain already holds.
 */
import type { Db } from "../db/prisma";
import { auditEventHash } from "./chain-hash";
import { lockChainHead, moveChainHead } from "./append";

const BATCH = 1_000;

/**
 * Returns how many events it chained. `anyUnchained` answers first, cheaply (the partial
 * index "AuditEvent_unchained_idx"), whether there is anything to do at all, so a start-up
 * with nothing to chain sends Prisma no query.
 */
export async function chainLegacyAuditEvents(db: Db, anyUnchained?: () => Promise<boolean>): Promise<number> {
  if (anyUnchained && !(await anyUnchained())) return 0;
  let total = 0;
  for (;;) {
    const chains = await db.$queryRaw<Array<{ workspaceId: string }>>`
      SELECT DISTINCT "workspaceId" FROM "AuditEvent" WHERE "seq" IS NULL LIMIT 100`;
    if (chains.length === 0) return total;
    for (const { workspaceId } of chains) total += await chainBatch(db, workspaceId);
  }
}

async function chainBatch(db: Db, workspaceId: string): Promise<number> {
  return db.$transaction(
    async (tx) => {
      let { seq, hash: prevHash } = await lockChainHead(tx, workspaceId);
      const rows = await tx.auditEvent.findMany({
        where: { workspaceId, seq: null },
        orderBy: [{ at: "asc" }, { id: "asc" }],
        take: BATCH,
      });
      for (const row of rows) {
        seq += 1n;
        const hash = auditEventHash({ ...row, chainId: workspaceId, seq, prevHash });
        await tx.auditEvent.update({ where: { id: row.id }, data: { seq, prevHash, hash } });
        prevHash = hash;
      }
      await moveChainHead(tx, workspaceId, seq, prevHash);
      return rows.length;
    },
    { timeout: 60_000 },
  );
}
