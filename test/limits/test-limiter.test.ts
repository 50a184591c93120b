import { describe, expect, it } from "vitest";
import { TestLimiter } from "../../src/limits/test-limiter";

const never = new AbortController().signal;

describe("the connection-test limiter", () => {
  it("runs at most the total at once and hands slots on in arrival order", async () => {
    const limiter = new TestLimiter(2, 2);
    const a = await limiter.acquire("w1", never);
    const b = await limiter.acquire("w2", never);
    const order: string[] = [];
    const c = limiter.acquire("w3", never).then((release) => (order.push("c"), release));
    const d = limiter.acquire("w4", never).then((release) => (order.push("d"), release));
    await Promise.resolve();
    expect(limiter.active).toBe(2);
    expect(order).toEqual([]);
    a();
    (await c)();
    b();
    (await d)();
    expect(order).toEqual(["c", "d"]);
    expect(limiter.active).toBe(0);
  });

  it("keeps one busy workspace from taking every slot", async () => {
    const limiter = new TestLimiter(4, 2);
    const busy = [await limiter.acquire("busy", never), await limiter.acquire("busy", never)];
    let third = false;
    void limiter.acquire("busy", never).then(() => (third = true));
    // The busy workspace is at its share: another team still gets a slot at once.
    const other = await limiter.acquire("quiet", never);
    await Promise.resolve();
    expect(third).toBe(false);
    expect(limiter.active).toBe(3);
    busy[0]();
    await new Promise((r) => setTimeout(r, 0));
    expect(third).toBe(true);
    other();
  });

  it("lets a waiter whose deadline passes leave the queue", async () => {
    const limiter = new TestLimiter(1, 1);
    const held = await limiter.acquire("w", never);
    const deadline = new AbortController();
    const waiting = limiter.acquire("w", deadline.signal);
    deadline.abort();
    await expect(waiting).rejects.toThrow("aborted");
    held();
    expect(limiter.active).toBe(0);
    const next = await limiter.acquire("w", never);
    expect(limiter.active).toBe(1);
    next();
  });

  it("ignores a second release of the same slot", async () => {
    const limiter = new TestLimiter(1, 1);
    const release = await limiter.acquire("w", never);
    release();
    release();
    expect(limiter.active).toBe(0);
  });
});

describe("the connection-test limiter per person", () => {
  it("keeps one person with many workspaces to their share", async () => {
    const limiter = new TestLimiter(4, 2, 2);
    const held = [await limiter.acquire("w1", never, "busy"), await limiter.acquire("w2", never, "busy")];
    let third = false;
    void limiter.acquire("w3", never, "busy").then(() => (third = true));
    const other = await limiter.acquire("w9", never, "someone else");
    await Promise.resolve();
    expect(third).toBe(false);
    expect(limiter.active).toBe(3);
    held[0]();
    await new Promise((r) => setTimeout(r, 0));
    expect(third).toBe(true);
    other();
  });
});
