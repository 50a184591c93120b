import { expect, it } from "vitest";
import { Semaphore } from "../../src/limits/semaphore";

it("runs at most the limit at once, all tasks complete, and a failing task frees its slot", async () => {
  const semaphore = new Semaphore(2);
  let running = 0;
  let peak = 0;
  const task = (fail: boolean) => async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    if (fail) throw new Error("boom");
    return "done";
  };
  const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => semaphore.run(task(i % 3 === 0))));
  expect(peak).toBe(2);
  expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(6);
  expect(results.filter((r) => r.status === "rejected")).toHaveLength(3);
  expect(await semaphore.run(async () => "after")).toBe("after");
});
