import { describe, expect, it } from "vitest";
import { ExpiringCache } from "../../src/cache/expiring-cache";

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function clock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("ExpiringCache", () => {
  it("serves a loaded value until its lifetime ends, then loads again", async () => {
    const time = clock();
    const cache = new ExpiringCache<string, number>({ ttlMs: 100, maxEntries: 10, now: time.now });
    let loads = 0;
    const load = async () => ++loads;
    expect(await cache.get("a", load)).toBe(1);
    time.advance(99);
    expect(await cache.get("a", load)).toBe(1);
    time.advance(1);
    expect(await cache.get("a", load)).toBe(2);
  });

  it("shares one load among concurrent misses of a key", async () => {
    const cache = new ExpiringCache<string, number>({ ttlMs: 1000, maxEntries: 10 });
    const gate = deferred<number>();
    let loads = 0;
    const load = () => {
      loads += 1;
      return gate.promise;
    };
    const all = Promise.all([cache.get("a", load), cache.get("a", load), cache.get("a", load)]);
    gate.resolve(7);
    expect(await all).toEqual([7, 7, 7]);
    expect(loads).toBe(1);
  });

  it("never stores what a load read before an invalidation, and does not hand it to later callers", async () => {
    const cache = new ExpiringCache<string, string>({ ttlMs: 1000, maxEntries: 10 });
    const stale = deferred<string>();
    const first = cache.get("token", () => stale.promise);
    cache.delete("token"); // e.g. revoked while the first load was reading the old row
    const second = cache.get("token", async () => "fresh");
    stale.resolve("stale");
    expect(await first).toBe("stale");
    expect(await second).toBe("fresh");
    expect(cache.peek("token")).toBe("fresh");

    const late = deferred<string>();
    const third = cache.get("other", () => late.promise);
    cache.clear();
    late.resolve("stale");
    await third;
    expect(cache.peek("other")).toBeUndefined();
  });

  it("does not store a failed load, or a value `keep` refuses", async () => {
    const cache = new ExpiringCache<string, number | null>({ ttlMs: 1000, maxEntries: 10 });
    await expect(cache.get("a", async () => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    expect(cache.peek("a")).toBeUndefined();
    expect(await cache.get("a", async () => null, (v) => v !== null)).toBeNull();
    expect(cache.peek("a")).toBeUndefined();
  });

  it("stores nothing while storing() is false (the invalidation listener is down)", async () => {
    let listening = false;
    const cache = new ExpiringCache<string, number>({ ttlMs: 1000, maxEntries: 10, storing: () => listening });
    let loads = 0;
    await cache.get("a", async () => ++loads);
    await cache.get("a", async () => ++loads);
    expect(loads).toBe(2);
    listening = true;
    await cache.get("a", async () => ++loads);
    await cache.get("a", async () => ++loads);
    expect(loads).toBe(3);
  });

  it("drops entries by predicate, and keeps at most maxEntries", async () => {
    const cache = new ExpiringCache<string, string>({ ttlMs: 1000, maxEntries: 20 });
    for (let i = 0; i < 50; i++) await cache.get(`ws${i % 2}:${i}`, async () => `ws${i % 2}`);
    expect(cache.size).toBeLessThanOrEqual(20);
    cache.deleteWhere((value) => value === "ws1");
    expect(cache.size).toBeGreaterThan(0);
    for (let i = 0; i < 50; i++) if (cache.peek(`ws${i % 2}:${i}`) !== undefined) expect(i % 2).toBe(0);
  });

  it("with a zero lifetime, always loads", async () => {
    const cache = new ExpiringCache<string, number>({ ttlMs: 0, maxEntries: 10 });
    let loads = 0;
    await cache.get("a", async () => ++loads);
    await cache.get("a", async () => ++loads);
    expect(loads).toBe(2);
  });
});
