/**
 * A per-key cache with a time to live, where concurrent loads of one key share one promise.
 * Failures are not kept. clear() also forgets loads in flight, so a load that started before
 * it cannot put a stale value back.
 */
export class TtlCache<V> {
  private readonly values = new Map<string, { value: V; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<V>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.values.get(key);
    if (hit && hit.expiresAt > this.now()) return Promise.resolve(hit.value);
    if (hit) this.values.delete(key);
    const pending = this.inflight.get(key);
    if (pending) return pending;

    const promise: Promise<V> = load().then(
      (value) => {
        // Still the current load for this key (no clear() since it started)?
        if (this.inflight.get(key) === promise) {
          this.inflight.delete(key);
          if (this.ttlMs > 0) this.values.set(key, { value, expiresAt: this.now() + this.ttlMs });
        }
        return value;
      },
      (error: unknown) => {
        if (this.inflight.get(key) === promise) this.inflight.delete(key);
        throw error;
      },
    );
    this.inflight.set(key, promise);
    return promise;
  }

  /** Forgets every key the predicate picks (values and loads in flight). */
  clearWhere(pick: (key: string) => boolean): void {
    for (const key of [...this.values.keys(), ...this.inflight.keys()]) if (pick(key)) this.clear(key);
  }

  /** Forgets one key, or everything. */
  clear(key?: string): void {
    if (key === undefined) {
      this.values.clear();
      this.inflight.clear();
    } else {
      this.values.delete(key);
      this.inflight.delete(key);
    }
  }
}
