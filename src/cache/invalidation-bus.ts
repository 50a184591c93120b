/**
 * Cross-process cache invalidation over PostgreSQL LISTEN/NOTIFY.
 *
 * - A change announces itself inside its own transaction (`pg_notify`), so the other
 *   processes hear of it exactly when it commits, never for a change that rolled back.
 * - The announcing process applies it to its own caches right after the commit (`transaction`
 *   does both), so its next request already sees the change; its listener skips the echo of
 *   its own notifications, which would otherwise drop entries again at a random later moment.
 * - Each process listens on one dedicated, direct connection (not the pool, and never through
 *   PgBouncer in transaction mode, which does not deliver notifications: see
 *   PATCHBAY_LISTEN_DATABASE_URL). When that connection is lost, every cache is flushed and
 *   stores nothing until the listener is back (flushed once more, since notifications sent
 *   meanwhile were missed); it reconnects with exponential backoff. A periodic ping finds a
 *   connection that died silently.
 * - The caches' own short lifetime bounds whatever this still misses.
 *
 * Usage (see src/cache/invalidation.ts for the kinds):
 *
 *   bus.subscribe(listener)                      // a cache that follows invalidations
 *   await bus.transaction(db, async (tx, announce) => {
 *     ...write...
 *     await announce({ kind: "api-token", tokenId });
 *   });
 *   bus.listening                                // false while caches must not store
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { Db, DbOrTx } from "../db/prisma";
import type { Logger } from "../log";
import { type Invalidation, type InvalidationListener, parseInvalidations } from "./invalidation";

export const INVALIDATION_CHANNEL = "patchbay_invalidate";
// NOTIFY payloads must stay under 8000 bytes.
const MAX_PAYLOAD_BYTES = 7000;

export interface InvalidationBusOptions {
  /** A direct connection URL (LISTEN does not work through a transaction pooler). */
  databaseUrl: string;
  logger: Logger;
  /** First reconnect delay; doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often the listener connection is pinged to find a silently dead one. */
  pingIntervalMs?: number;
  /** Deadline of the connect, LISTEN and ping statements. */
  statementTimeoutMs?: number;
}

type Announce = (...changes: Invalidation[]) => Promise<void>;

export class InvalidationBus {
  private readonly listeners = new Set<InvalidationListener>();
  private client: pg.Client | null = null;
  private connected = false;
  private stopped = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly options: Required<Omit<InvalidationBusOptions, "logger" | "databaseUrl">>;
  /** How many times the listener was (re)established; tests and /metrics read it. */
  connections = 0;
  /** Tags this process's notifications, so its listener can skip them. */
  private readonly origin = randomUUID();

  constructor(private readonly init: InvalidationBusOptions) {
    this.options = {
      minBackoffMs: init.minBackoffMs ?? 100,
      maxBackoffMs: init.maxBackoffMs ?? 5_000,
      pingIntervalMs: init.pingIntervalMs ?? 5_000,
      statementTimeoutMs: init.statementTimeoutMs ?? 3_000,
    };
    this.backoffMs = this.options.minBackoffMs;
  }

  /** True while notifications are heard; caches store nothing otherwise. */
  get listening(): boolean {
    return this.connected;
  }

  subscribe(listener: InvalidationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts listening; resolves once listening, or after the first failure (it keeps retrying). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
    this.pingTimer = setInterval(() => void this.ping(), this.options.pingIntervalMs);
    this.pingTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.reconnectTimer = this.pingTimer = null;
    const client = this.client;
    this.client = null;
    this.connected = false;
    this.resetAll();
    await client?.end().catch(() => {});
  }

  /** Sends the changes to every process when `tx` commits (call it inside the transaction). */
  async announce(tx: DbOrTx, changes: readonly Invalidation[]): Promise<void> {
    for (const payload of payloads(this.origin, changes)) {
      await tx.$executeRaw`SELECT pg_notify(${INVALIDATION_CHANNEL}, ${payload})`;
    }
  }

  /** Applies changes to this process's caches (after they committed). */
  deliver(changes: readonly Invalidation[]): void {
    for (const change of changes) {
      for (const listener of this.listeners) listener.invalidate(change);
    }
  }

  /**
   * Runs `fn` in a transaction; what it announces reaches the other processes on commit and
   * this process's caches right after. Nothing is delivered when the transaction fails.
   */
  async transaction<T>(
    db: Db,
    fn: (tx: DbOrTx, announce: Announce) => Promise<T>,
    options?: { timeout?: number; maxWait?: number },
  ): Promise<T> {
    const announced: Invalidation[] = [];
    const result = await db.$transaction(async (tx) => {
      const announce: Announce = async (...changes) => {
        await this.announce(tx, changes);
        announced.push(...changes);
      };
      return fn(tx, announce);
    }, options);
    this.deliver(announced);
    return result;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.init.databaseUrl,
      keepAlive: true,
      connectionTimeoutMillis: this.options.statementTimeoutMs,
      query_timeout: this.options.statementTimeoutMs,
      application_name: "patchbay-invalidation-listener",
    });
    this.client = client;
    let lost = false;
    const onLoss = (error?: Error) => {
      if (lost) return;
      lost = true;
      this.handleLoss(client, error);
    };
    client.on("error", onLoss);
    client.on("end", () => onLoss());
    client.on("notification", (message) => {
      if (message.channel !== INVALIDATION_CHANNEL) return;
      const parsed = parseInvalidations(message.payload ?? "");
      // A payload we cannot read may have been an invalidation: forget everything.
      if (!parsed) this.resetAll();
      else if (parsed.origin !== this.origin) this.deliver(parsed.changes);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    } catch (error) {
      onLoss(error as Error);
      return;
    }
    if (lost || this.stopped) return;
    // Notifications sent before LISTEN took effect were missed: start from empty caches.
    this.resetAll();
    this.connected = true;
    this.connections += 1;
    this.backoffMs = this.options.minBackoffMs;
    if (this.connections > 1) this.init.logger.info("cache invalidation listener reconnected");
  }

  private handleLoss(client: pg.Client, error?: Error): void {
    if (this.client !== client) return;
    this.client = null;
    const wasConnected = this.connected;
    this.connected = false;
    this.resetAll();
    client.end().catch(() => {});
    if (this.stopped) return;
    if (wasConnected) {
      this.init.logger.warn("cache invalidation listener lost; caches flushed, reconnecting", { error: error?.message });
    }
    const delay = this.backoffMs * (0.75 + Math.random() / 2);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async ping(): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return;
    try {
      await client.query("SELECT 1");
    } catch (error) {
      this.handleLoss(client, error as Error);
    }
  }

  private resetAll(): void {
    for (const listener of this.listeners) listener.reset();
  }
}

/** The changes as NOTIFY payloads `{"o": origin, "c": [...]}`, each under the size limit. */
function payloads(origin: string, changes: readonly Invalidation[]): string[] {
  const out: string[] = [];
  const wrap = (batch: Invalidation[]) => JSON.stringify({ o: origin, c: batch });
  let batch: Invalidation[] = [];
  let size = 100;
  for (const change of changes) {
    const bytes = Buffer.byteLength(JSON.stringify(change)) + 1;
    if (batch.length > 0 && size + bytes > MAX_PAYLOAD_BYTES) {
      out.push(wrap(batch));
      batch = [];
      size = 100;
    }
    batch.push(change);
    size += bytes;
  }
  if (batch.length > 0) out.push(wrap(batch));
  return out;
}
