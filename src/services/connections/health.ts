/**
 * A connection's health over its last N test results (newest first): what is the status now,
 * since when, how often the window failed, and how long the successful tests took. Pure: the
 * results come from the test history (testing.ts histories), in one statement per page.
 */
export interface HealthInput {
  status: "SUCCESS" | "FAILURE";
  testedAt: Date;
  latencyMs: number;
}

export interface HealthSummary {
  /** The newest result's status; null with no results. */
  status: "SUCCESS" | "FAILURE" | null;
  results: number;
  successes: number;
  failures: number;
  /** successes / results, null with no results. */
  successRate: number | null;
  /** Failures since the newest success (all of them when none succeeded). */
  consecutiveFailures: number;
  /** When the current status began, as far as the window shows. */
  since: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  /** Mean latency of the window's successful tests, whole ms. */
  averageLatencyMs: number | null;
}

export const DEFAULT_HEALTH_WINDOW = 20;

export function summariseHealth(newestFirst: readonly HealthInput[]): HealthSummary {
  const successes = newestFirst.filter((r) => r.status === "SUCCESS");
  const status = newestFirst[0]?.status ?? null;
  let run = 0;
  while (run < newestFirst.length && newestFirst[run].status === status) run++;
  const firstSuccess = newestFirst.findIndex((r) => r.status === "SUCCESS");
  return {
    status,
    results: newestFirst.length,
    successes: successes.length,
    failures: newestFirst.length - successes.length,
    successRate: newestFirst.length ? successes.length / newestFirst.length : null,
    consecutiveFailures: firstSuccess === -1 ? newestFirst.length : firstSuccess,
    since: run > 0 ? newestFirst[run - 1].testedAt : null,
    lastSuccessAt: successes[0]?.testedAt ?? null,
    lastFailureAt: newestFirst.find((r) => r.status === "FAILURE")?.testedAt ?? null,
    averageLatencyMs: successes.length ? Math.round(successes.reduce((sum, r) => sum + r.latencyMs, 0) / successes.length) : null,
  };
}
