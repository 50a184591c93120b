/**
 * A small in-memory cache with a lifetime per entry, a size bound, one load per key at a time,
 * and invalidation that cannot be undone by a load already in flight.
 *
 * The last point is why this exists instead of a Map: a load that started before an
 * invalidation (it read the old row) must not store its stale answer after it. Every
 * invalidation bumps a generation; a load stores its result only if no invalidation touched
 * the cache since it started. Coarse (one generation for the whole cache), so a busy cache
 * may skip storing a result now and then; it never stores a stale one.
 *
 * Entries are only stored while `storing()` says so: the caches of src/cache/caches.ts store
 * nothing while the invalidation listener is down, so a missed notification cannot leave an
 * entry behind that outlives the outage.
 */
export interface ExpiringCacheOptions {
  /** How long an entry lives, in milliseconds; 0 disables the cache (every get loads). */
  ttlMs: number;
  /** The most entries kept; the oldest are dropped first. */
  maxEntries: number;
  /** Whether loads may be stored right now (e.g. only while invalidations are heard). */
  storing?: () => boolean;
  /** A clock, for the cache's own tests of expiry. */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class ExpiringCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly inFlight = new Map<K, { generation: number; promise: Promise<V> }>();
  private generation = 0;
  private readonly now: () => number;

  constructor(private readonly options: ExpiringCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The cached value, or `load()`'s; concurrent misses of one key share one load. `keep`
   * decides whether a loaded value is stored (e.g. not a "no such token").
   */
  get(key: K, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    const pending = this.inFlight.get(key);
    if (pending && pending.generation === this.generation) return pending.promise;
    const startedAt = this.begin();
    const promise = load().then(
      (value) => {
        if (this.inFlight.get(key)?.promise === promise) this.inFlight.delete(key);
        if (keep(value)) this.storeIf(startedAt, key, value);
        return value;
      },
      (error: unknown) => {
        if (this.inFlight.get(key)?.promise === promise) this.inFlight.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, { generation: startedAt, promise });
    return promise;
  }

  /** Call before reading the source of values stored later with storeIf. */
  begin(): number {
    return this.generation;
  }

  /** Stores a value read after `begin()` returned `startedAt`, unless an invalidation came since. */
  storeIf(startedAt: number, key: K, value: V): void {
    if (startedAt === this.generation) this.set(key, value);
  }

  /** The cached value if present and alive; never loads. */
  peek(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  private set(key: K, value: V): void {
    if (this.options.ttlMs <= 0 || (this.options.storing && !this.options.storing())) return;
    this.entries.delete(key);
    if (this.entries.size >= this.options.maxEntries) this.evict();
    this.entries.set(key, { value, expiresAt: this.now() + this.options.ttlMs });
  }

  delete(key: K): void {
    this.generation += 1;
    this.entries.delete(key);
  }

  /** Drops every entry the predicate picks (e.g. all of one workspace's). */
  deleteWhere(predicate: (value: V, key: K) => boolean): void {
    this.generation += 1;
    for (const [key, entry] of this.entries) if (predicate(entry.value, key)) this.entries.delete(key);
  }

  clear(): void {
    this.generation += 1;
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries, then the oldest tenth if still full (Map keeps insertion order). */
  private evict(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    let excess = this.entries.size - this.options.maxEntries + Math.max(1, Math.floor(this.options.maxEntries / 10));
    for (const key of this.entries.keys()) {
      if (excess-- <= 0) break;
      this.entries.delete(key);
    }
  }
}
