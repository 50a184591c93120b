/**
 * The workspace data keys: created wrapped by the master key, unwrapped on demand and kept
 * in memory for a short while. The newest version seals new secrets; older versions stay
 * readable until their ciphertexts are rewritten.
 */
import { toBytes } from "../db/bytes";
import type { Db, DbOrTx } from "../db/prisma";
import { generateDataKey, unwrapDataKey, wrapDataKey } from "./key-wrap";
import { MasterKeyError } from "./master-key";

export interface DataKey {
  version: number;
  key: Buffer;
}

export class Keyring {
  private readonly cache = new Map<string, { key: Buffer; expiresAt: number }>();
  private readonly currentVersion = new Map<string, { version: number; expiresAt: number }>();

  constructor(
    private readonly db: Db,
    private readonly masterKey: Buffer,
    private readonly cacheMs: number,
  ) {}

  /** Creates version 1 of a new workspace's data key, inside the caller's transaction. */
  async createInitialKey(tx: DbOrTx, workspaceId: string): Promise<void> {
    const key = generateDataKey();
    await tx.workspaceKey.create({
      data: { workspaceId, version: 1, wrappedKey: toBytes(wrapDataKey(this.masterKey, workspaceId, 1, key)) },
    });
  }

  /** The key that seals new secrets in this workspace. */
  async current(workspaceId: string): Promise<DataKey> {
    const now = Date.now();
    let cached = this.currentVersion.get(workspaceId);
    if (!cached || cached.expiresAt <= now) {
      const newest = await this.db.workspaceKey.findFirst({
        where: { workspaceId },
        orderBy: { version: "desc" },
        select: { version: true },
      });
      if (!newest) throw new Error(`Workspace ${workspaceId} has no data key.`);
      cached = { version: newest.version, expiresAt: now + this.cacheMs };
      if (this.cacheMs > 0) this.currentVersion.set(workspaceId, cached);
    }
    return { version: cached.version, key: await this.version(workspaceId, cached.version) };
  }

  /** A given version of a workspace's key, e.g. the one a stored ciphertext names. */
  async version(workspaceId: string, version: number): Promise<Buffer> {
    const id = `${workspaceId}:${version}`;
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.expiresAt > now) return hit.key;
    this.sweep(now);
    const row = await this.db.workspaceKey.findUnique({
      where: { workspaceId_version: { workspaceId, version } },
      select: { wrappedKey: true },
    });
    if (!row) throw new Error(`Workspace ${workspaceId} has no data key version ${version}.`);
    const key = unwrapDataKey(this.masterKey, workspaceId, version, Buffer.from(row.wrappedKey));
    if (this.cacheMs > 0) this.cache.set(id, { key, expiresAt: now + this.cacheMs });
    return key;
  }

  /**
   * Fails start-up with a clear message when the configured master key is not the one that
   * wrapped the stored keys, instead of failing later on every secret.
   */
  async verifyMasterKey(): Promise<void> {
    const sample = await this.db.workspaceKey.findFirst({ select: { workspaceId: true, version: true, wrappedKey: true } });
    if (!sample) return;
    try {
      unwrapDataKey(this.masterKey, sample.workspaceId, sample.version, Buffer.from(sample.wrappedKey));
    } catch {
      throw new MasterKeyError(
        "The master key does not open this database's workspace keys: PATCHBAY_MASTER_KEY (or the data directory's master.key) is not the key this database was created with.",
      );
    }
  }

  /** Drops expired keys, so "briefly" holds even for keys nobody asks for again. */
  private sweep(now: number): void {
    for (const [id, entry] of this.cache) if (entry.expiresAt <= now) this.cache.delete(id);
    for (const [id, entry] of this.currentVersion) if (entry.expiresAt <= now) this.currentVersion.delete(id);
  }

  /**
   * Forgets every unwrapped key (after a rotation, or on shutdown). The buffers are not
   * zeroed: a request in flight may still hold one, and sealing with a zeroed key would
   * store secrets under a known key.
   */
  clear(): void {
    this.cache.clear();
    this.currentVersion.clear();
  }
}
