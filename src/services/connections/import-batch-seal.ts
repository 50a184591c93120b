/**
 * The seal context of a staged import batch (staged-import.ts), apart so that the sealed
 * columns' registry (src/crypto/sealed-columns.ts) needs nothing else of the import: never the
 * same as a connection's, a webhook's or another batch's.
 */
import type { SealContext } from "../../crypto/sealed-secrets";

export function importBatchSealContext(row: { workspaceId: string; sessionId: string; seq: number }): SealContext {
  return { workspaceId: row.workspaceId, connectionId: `${row.sessionId}#import`, version: row.seq };
}
