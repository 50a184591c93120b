/**
 * Runs a background task now and then: never two runs at once, errors logged (never thrown
 * into the process), and stopped in order at shutdown (stop() waits for a run in progress).
 */
import type { Logger } from "../log";

export interface PeriodicTask {
  /** Asks for a run soon (e.g. after a rotation), without waiting for the interval. */
  kick(): void;
  stop(): Promise<void>;
}

export function runPeriodically(name: string, intervalMs: number, task: () => Promise<unknown>, logger: Logger): PeriodicTask {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;

  const schedule = (delay: number) => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, delay);
    timer.unref();
  };
  const run = () => {
    timer = null;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = task()
      .then(
        () => undefined,
        (error: unknown) => logger.error(`${name} failed`, { error }),
      )
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          schedule(0);
        } else schedule(intervalMs);
      });
  };
  schedule(0);
  return {
    kick: () => schedule(0),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
