import { describe, expect, it } from "vitest";
import { RateLimitedError } from "../../src/errors";
import { HashGate } from "../../src/limits/hash-gate";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the password-hash gate", () => {
  it("runs `concurrency` at once, queues `queue` more, and sheds the rest at once with RATE_LIMITED", async () => {
    const gate = new HashGate({ concurrency: 1, queue: 1, perClient: 10 });
    const first = deferred();
    const running: string[] = [];
    const a = gate.admit("a").run(async () => (running.push("a"), first.promise));
    const b = gate.admit("b").run(async () => void running.push("b"));
    expect(() => gate.admit("c")).toThrow(RateLimitedError);
    await Promise.resolve();
    expect(running).toEqual(["a"]);
    first.resolve();
    await Promise.all([a, b]);
    expect(running).toEqual(["a", "b"]);
    // Places are given back: the gate admits again.
    await gate.admit("c").run(async () => {});
  });

  it("keeps one client to its share, so a flood from one address leaves room for others", () => {
    const gate = new HashGate({ concurrency: 2, queue: 8, perClient: 2 });
    gate.admit("flood");
    gate.admit("flood");
    expect(() => gate.admit("flood")).toThrow(/try again in 1 s/);
    expect(() => gate.admit("someone else")).not.toThrow();
  });

  it("gives the place back when the caller leaves without hashing", () => {
    const gate = new HashGate({ concurrency: 1, queue: 0, perClient: 1 });
    const pass = gate.admit("a");
    expect(() => gate.admit("b")).toThrow(RateLimitedError);
    pass.leave();
    pass.leave();
    expect(() => gate.admit("b")).not.toThrow();
  });
});

describe("the password-hash gate's queue", () => {
  it("hands a freed slot to a client with no hash running before a flooding one", async () => {
    const gate = new HashGate({ concurrency: 1, queue: 4, perClient: 3 });
    const order: string[] = [];
    const hold = deferred();
    const first = gate.admit("flood").run(async () => (order.push("flood-1"), hold.promise));
    const queued = [
      gate.admit("flood").run(async () => void order.push("flood-2")),
      gate.admit("flood").run(async () => void order.push("flood-3")),
      gate.admit("person").run(async () => void order.push("person")),
    ];
    await Promise.resolve();
    hold.resolve();
    await Promise.all([first, ...queued]);
    expect(order).toEqual(["flood-1", "person", "flood-2", "flood-3"]);
  });
});
