/**
 * A workspace's data key over time: rotation (OWNER) and its progress (ADMIN and above).
 * The work itself is the re-encryption job's (src/crypto/reencryption.ts).
 */
import type { InvalidationBus } from "../cache/invalidation-bus";
import type { Keyring } from "../crypto/keyring";
import type { Reencryption } from "../crypto/reencryption";
import type { Db } from "../db/prisma";
import type { Caller } from "../policy/caller";
import { recordAudit } from "./audit";

export interface WorkspaceKeyStatus {
  currentVersion: number;
  pendingReencryption: number;
  rotatedAt: Date | null;
}

export class WorkspaceKeyService {
  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly bus: InvalidationBus,
    private readonly reencryption: Reencryption,
  ) {}

  async status(caller: Caller, workspaceId: string): Promise<WorkspaceKeyStatus> {
    await caller.authorize(workspaceId, "workspace.admin");
    return this.statusOf(workspaceId);
  }

  /**
   * Adds data key version n+1: from the commit on, every process seals with it (the rotation
   * is announced to all of them); older values are re-encrypted in the background.
   */
  async rotate(caller: Caller, workspaceId: string): Promise<WorkspaceKeyStatus> {
    await caller.authorize(workspaceId, "workspace.own");
    await this.bus.transaction(this.db, async (tx, announce) => {
      const version = await this.keyring.rotate(tx, workspaceId);
      await announce({ kind: "workspace-keys", workspaceId });
      await recordAudit(tx, caller, {
        workspaceId,
        action: "workspace.rotate_key",
        targetType: "Workspace",
        targetId: workspaceId,
        details: { keyVersion: version },
      });
    });
    return this.statusOf(workspaceId);
  }

  private async statusOf(workspaceId: string): Promise<WorkspaceKeyStatus> {
    const newest = await this.db.workspaceKey.findFirst({
      where: { workspaceId },
      orderBy: { version: "desc" },
      select: { version: true, createdAt: true },
    });
    if (!newest) throw new Error(`Workspace ${workspaceId} has no data key.`);
    return {
      currentVersion: newest.version,
      pendingReencryption: await this.reencryption.pending(workspaceId),
      rotatedAt: newest.version > 1 ? newest.createdAt : null,
    };
  }
}
