/**
 * The example alert rules in docs/ load in Prometheus (promtool check rules), fire on what they
 * describe (promtool test rules, alert-rules.promtool.yaml), and name only metrics the server
 * exports, so renaming a metric without the rules fails here.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { collectProcessMetrics, registry } from "../../src/observability/metrics";
import { serviceAvailable } from "../servers/availability";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RULES = "docs/prometheus-alerts.yaml";
const hasPromtool = serviceAvailable("promtool", "checks the example alert rules (Debian's prometheus package)");

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync("promtool", args, { cwd: ROOT, encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("docs/prometheus-alerts.yaml", () => {
  it.skipIf(!hasPromtool)("loads in Prometheus and fires on what it describes", () => {
    const check = promtool("check", "rules", RULES);
    expect(check.status, check.output).toBe(0);
    const test = promtool("test", "rules", "test/observability/alert-rules.promtool.yaml");
    expect(test.status, test.output).toBe(0);
  });

  it("names only metrics the server exports", async () => {
    collectProcessMetrics();
    const exported = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const text = readFileSync(`${ROOT}/${RULES}`, "utf8");
    const named = new Set([...text.matchAll(/\b((?:patchbay|nodejs|process)_[a-z0-9_]+)/g)].map((m) => m[1].replace(/_bucket$/, "")));
    expect(named.size).toBeGreaterThan(5);
    for (const name of named) expect(exported, name).toContain(name);
  });
});
