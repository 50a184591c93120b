/**
 * One tick of the test scheduler: claims the due runs (schedules.ts claimDue, which advances
 * them first, so no other process runs them too) and tests their connections through the
 * connection-test service, under its limiter and deadline; results are stored as usual.
 * A failing test is a result; an error of one run is logged and does not stop the others.
 */
import type { Logger } from "../log";
import type { ConnectionTestService } from "../services/connections/testing";
import type { TestSchedules } from "../services/health/schedules";

/** Runs claimed per tick: the rest stay due for the next tick or another process. */
const CLAIM_PER_TICK = 20;
/** Connections one all-connections run tests. */
const CONNECTIONS_PER_RUN = 500;

export async function runDueTests(schedules: TestSchedules, tests: ConnectionTestService, logger: Logger): Promise<number> {
  const runs = await schedules.claimDue(CLAIM_PER_TICK);
  let tested = 0;
  await Promise.all(
    runs.map(async (run) => {
      try {
        const ids = run.connectionId ? [run.connectionId] : await schedules.connectionIds(run.workspaceId, CONNECTIONS_PER_RUN);
        for (const id of ids) {
          if (await tests.testScheduled(run.workspaceId, id, run.createdById)) tested++;
        }
      } catch (error) {
        logger.warn("a scheduled test run failed", { error, scheduleId: run.scheduleId, workspaceId: run.workspaceId });
      }
    }),
  );
  return tested;
}
