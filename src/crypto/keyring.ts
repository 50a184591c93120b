/**
 * The workspace data keys: created wrapped by the master key, unwrapped on demand and kept
 * in memory for a short while. The newest version seals new secrets; older versions stay
 * readable until their ciphertexts are rewritten (src/crypto/reencryption.ts) and the version
 * is destroyed. Each stored key records which master key wrapped it (a fingerprint), so during
 * a master key rotation (src/crypto/master-rotation.ts) keys wrapped by either one open.
 */
import { ExpiringCache } from "../cache/expiring-cache";
import type { Invalidation, InvalidationListener } from "../cache/invalidation";
import { toBytes } from "../db/bytes";
import type { Db, DbOrTx } from "../db/prisma";
import type { Sql, Statement } from "../db/sql";
import { generateDataKey, unwrapDataKey, wrapDataKey } from "./key-wrap";
import { masterKeyFingerprint } from "./master-key";

/** The master key that wraps new keys, and during a rotation the one being rotated away from. */
export class MasterKeys {
  readonly currentFingerprint: string;
  readonly previousFingerprint: string | null;

  constructor(
    readonly current: Buffer,
    readonly previous: Buffer | null = null,
  ) {
    this.currentFingerprint = masterKeyFingerprint(current);
    this.previousFingerprint = previous ? masterKeyFingerprint(previous) : null;
  }

  /** The master key with this fingerprint; for an unrecorded one (null), the current key. */
  byFingerprint(fingerprint: string | null): Buffer | null {
    if (fingerprint === null || fingerprint === this.currentFingerprint) return this.current;
    if (fingerprint === this.previousFingerprint) return this.previous;
    return null;
  }
}

/** Namespaces the advisory lock that serialises rotations of one workspace's key. */
const ROTATION_LOCK = 7_307_603;

export interface DataKey {
  version: number;
  key: Buffer;
}

const MAX_CACHED_KEYS = 10_000;

const WRAPPED_KEY: Statement = {
  name: "workspace-key-wrapped",
  text: `SELECT "wrappedKey", "masterKeyFingerprint" FROM "WorkspaceKey" WHERE "workspaceId" = $1 AND "version" = $2`,
};

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
    private readonly masterKeys: MasterKeys,
    cacheMs: number,
    storing: () => boolean = () => true,
    /** Where stored keys are read when given (the server's pg pool): a resolve then needs no Prisma. */
    private readonly sql: Sql | null = null,
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
    await this.storeNewKey(tx, workspaceId, 1);
  }

  /**
   * Adds the next version of a workspace's data key inside the caller's transaction (which
   * should announce "workspace-keys"); it seals everything new once that commits. Rotations of
   * one workspace serialise on an advisory lock, so two at once make two versions, not a clash.
   */
  async rotate(tx: DbOrTx, workspaceId: string): Promise<number> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ROTATION_LOCK}::int, hashtext(${workspaceId}))`;
    const newest = await tx.workspaceKey.findFirst({ where: { workspaceId }, orderBy: { version: "desc" }, select: { version: true } });
    const version = (newest?.version ?? 0) + 1;
    await this.storeNewKey(tx, workspaceId, version);
    return version;
  }

  private async storeNewKey(tx: DbOrTx, workspaceId: string, version: number): Promise<void> {
    const key = generateDataKey();
    const { current, currentFingerprint } = this.masterKeys;
    await tx.workspaceKey.create({
      data: { workspaceId, version, wrappedKey: toBytes(wrapDataKey(current, workspaceId, version, key)), masterKeyFingerprint: currentFingerprint },
    });
  }

  /** The key that seals new secrets in this workspace. */
  async current(workspaceId: string): Promise<DataKey> {
    const version = await this.currentVersions.get(workspaceId, () => this.currentVersion(this.db, workspaceId));
    return { version, key: await this.version(workspaceId, version) };
  }

  /** The newest version, read through `db` (e.g. inside a transaction), never cached. */
  async currentVersion(db: DbOrTx, workspaceId: string): Promise<number> {
    const newest = await db.workspaceKey.findFirst({
      where: { workspaceId },
      orderBy: { version: "desc" },
      select: { version: true },
    });
    if (!newest) throw new Error(`Workspace ${workspaceId} has no data key.`);
    return newest.version;
  }

  /** A given version of a workspace's key, e.g. the one a stored ciphertext names. */
  async version(workspaceId: string, version: number): Promise<Buffer> {
    return this.keys.get(`${workspaceId}:${version}`, async () => {
      const row = this.sql
        ? (await this.sql.rows<{ wrappedKey: Uint8Array; masterKeyFingerprint: string | null }>(WRAPPED_KEY, [workspaceId, version]))[0]
        : await this.db.workspaceKey.findUnique({
            where: { workspaceId_version: { workspaceId, version } },
            select: { wrappedKey: true, masterKeyFingerprint: true },
          });
      if (!row) throw new Error(`Workspace ${workspaceId} has no data key version ${version}.`);
      return this.unwrap(workspaceId, version, Buffer.from(row.wrappedKey), row.masterKeyFingerprint);
    });
  }

  /** Unwraps a stored key with the master key its fingerprint names. */
  unwrap(workspaceId: string, version: number, wrapped: Buffer, fingerprint: string | null): Buffer {
    const kek = this.masterKeys.byFingerprint(fingerprint);
    if (!kek) {
      throw new Error(`The data key of workspace ${workspaceId} version ${version} is wrapped by master key ${fingerprint}, which this process does not have.`);
    }
    return unwrapDataKey(kek, workspaceId, version, wrapped);
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
