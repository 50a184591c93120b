/**
 * One tick of the test scheduler: claims the due runs (schedules.ts claimDue, which advances
 * them first, so no other process runs them too) and tests their connections through the
 * connection-test service, under its limiter and deadline; results are stored as usual (an
 * environment's on its override). A run for all connections tests each one and each
 * environment that has an override of it.
 * A failing test is a result; an error of one run is logged and does not stop the others.
 */
import type { Logger } from "../log";
import type { ConnectionTestService } from "../services/connections/testing";
import type { TestSchedules } from "../services/health/schedules";

/** Runs claimed per tick: the rest stay due for the next tick or another process. */
const CLAIM_PER_TICK = 20;
/** Tests one all-connections run makes (connections and their environments' overrides). */
const TESTS_PER_RUN = 500;

export async function runDueTests(schedules: TestSchedules, tests: ConnectionTestService, logger: Logger): Promise<number> {
  const runs = await schedules.claimDue(CLAIM_PER_TICK);
  let tested = 0;
  await Promise.all(
    runs.map(async (run) => {
      try {
        const targets = run.connectionId
          ? [{ connectionId: run.connectionId, environment: run.environment }]
          : await schedules.allTargets(run.workspaceId, TESTS_PER_RUN);
        for (const target of targets) {
          if (await tests.testScheduled(run.workspaceId, target.connectionId, run.createdById, target.environment)) tested++;
        }
      } catch (error) {
        logger.warn("a scheduled test run failed", { error, scheduleId: run.scheduleId, workspaceId: run.workspaceId });
      }
    }),
  );
  return tested;
}
