/**
 * The workspace data keys: created wrapped by the master key, unwrapped on demand and kept
 * in memory for a short while. The newest version seals new secrets; older versions stay
 * readable until their ciphertexts are rewritten.
 */
import { ExpiringCache } from "../cache/expiring-cache";
import type { Invalidation, InvalidationListener } from "../cache/invalidation";
import { toBytes } from "../db/bytes";
import type { Db, DbOrTx } from "../db/prisma";
import { generateDataKey, unwrapDataKey, wrapDataKey } from "./key-wrap";
import { MasterKeyError } from "./master-key";

export interface DataKey {
  version: number;
  key: Buffer;
}

const MAX_CACHED_KEYS = 10_000;

/**
 * Unwrapped keys are cached for `cacheMs`, and dropped at once when a rotation, a destroyed
 * version or a deleted workspace is announced (src/cache/invalidation.ts).
 */
export class Keyring implements InvalidationListener {
  /** `${workspaceId}:${version}` to the unwrapped key. */
  private readonly keys: ExpiringCache<string, Buffer>;
  /** workspaceId to the version that seals new secrets. */
  private readonly currentVersions: ExpiringCache<string, number>;

  constructor(
    private readonly db: Db,
    private readonly masterKey: Buffer,
    cacheMs: number,
    storing: () => boolean = () => true,
  ) {
    this.keys = new ExpiringCache({ ttlMs: cacheMs, maxEntries: MAX_CACHED_KEYS, storing });
    this.currentVersions = new ExpiringCache({ ttlMs: cacheMs, maxEntries: MAX_CACHED_KEYS, storing });
  }

  invalidate(change: Invalidation): void {
    if (change.kind !== "workspace-keys" && change.kind !== "workspace") return;
    const prefix = `${change.workspaceId}:`;
    this.keys.deleteWhere((_value, id) => id.startsWith(prefix));
    this.currentVersions.delete(change.workspaceId);
  }

  reset(): void {
    this.clear();
  }

  /** Creates version 1 of a new workspace's data key, inside the caller's transaction. */
  async createInitialKey(tx: DbOrTx, workspaceId: string): Promise<void> {
    const key = generateDataKey();
    await tx.workspaceKey.create({
      data: { workspaceId, version: 1, wrappedKey: toBytes(wrapDataKey(this.masterKey, workspaceId, 1, key)) },
    });
  }

  /** The key that seals new secrets in this workspace. */
  async current(workspaceId: string): Promise<DataKey> {
    const version = await this.currentVersions.get(workspaceId, async () => {
      const newest = await this.db.workspaceKey.findFirst({
        where: { workspaceId },
        orderBy: { version: "desc" },
        select: { version: true },
      });
      if (!newest) throw new Error(`Workspace ${workspaceId} has no data key.`);
      return newest.version;
    });
    return { version, key: await this.version(workspaceId, version) };
  }

  /** A given version of a workspace's key, e.g. the one a stored ciphertext names. */
  async version(workspaceId: string, version: number): Promise<Buffer> {
    return this.keys.get(`${workspaceId}:${version}`, async () => {
      const row = await this.db.workspaceKey.findUnique({
        where: { workspaceId_version: { workspaceId, version } },
        select: { wrappedKey: true },
      });
      if (!row) throw new Error(`Workspace ${workspaceId} has no data key version ${version}.`);
      return unwrapDataKey(this.masterKey, workspaceId, version, Buffer.from(row.wrappedKey));
    });
  }

  /**
   * Fails start-up with a clear message when the configured master key is not the one that
   * wrapped the stored keys, instead of failing later on every secret.
   */
  /** Refuses a master key that does not open this database's keys; `readSample` reads any one wrapped key. */
  async verifyMasterKey(
    readSample: () => Promise<{ workspaceId: string; version: number; wrappedKey: Uint8Array } | null> = () =>
      this.db.workspaceKey.findFirst({ select: { workspaceId: true, version: true, wrappedKey: true } }),
  ): Promise<void> {
    const sample = await readSample();
    if (!sample) return;
    try {
      unwrapDataKey(this.masterKey, sample.workspaceId, sample.version, Buffer.from(sample.wrappedKey));
    } catch {
      throw new MasterKeyError(
        "The master key does not open this database's workspace keys: PATCHBAY_MASTER_KEY (or the data directory's master.key) is not the key this database was created with.",
      );
    }
  }

  /**
   * Forgets every unwrapped key (when notifications may have been missed, or on shutdown).
   * The buffers are not zeroed: a request in flight may still hold one, and sealing with a
   * zeroed key would store secrets under a known key.
   */
  clear(): void {
    this.keys.clear();
    this.currentVersions.clear();
  }
}
