/**
 * Watches the embedded PostgreSQL and restarts it when it dies.
 *
 * Restart rather than exit: the server is a child of this process, so a supervisor above
 * (systemd, Docker) would only restart Patchbay to restart it, dropping every request in
 * flight; restarting PostgreSQL alone takes about a second (crash recovery included) while
 * the HTTP server keeps answering, /readyz says 503 so a load balancer drains it, and the
 * database pool reconnects by itself. But a PostgreSQL that keeps dying, or will not start,
 * is a problem a restart loop would hide: after too many deaths or failed attempts the
 * supervisor gives up and Patchbay shuts down with exit code 1, for its own supervisor to see.
 */
import type { Logger } from "../../log";
import { describeExit, type Exit, type PostgresProcess } from "./postgres-process";

export type EmbeddedPostgresState = "running" | "restarting" | "failed" | "stopped";

export interface EmbeddedPostgresStatus {
  state: EmbeddedPostgresState;
  /** Times it was restarted after dying. */
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
}

export interface RestartPolicy {
  /** Waits before each restart attempt; their count is the number of attempts per death. */
  delaysMs: number[];
  /** Give up when it dies this many times within windowMs. */
  maxDeaths: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  delaysMs: [250, 1_000, 2_000, 4_000, 8_000],
  maxDeaths: 5,
  windowMs: 10 * 60_000,
};

export class Supervisor {
  private current: PostgresProcess | undefined;
  private state: EmbeddedPostgresState = "running";
  private restarts = 0;
  private deaths: number[] = [];
  private lastExit: EmbeddedPostgresStatus["lastExit"];
  private wake: (() => void) | undefined;
  private restarting: Promise<void> | undefined;

  constructor(
    private readonly launch: () => Promise<PostgresProcess>,
    private readonly logger: Logger,
    private readonly onGiveUp: (reason: string) => void,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {}

  async begin(): Promise<PostgresProcess> {
    const first = await this.launch();
    this.watch(first);
    return first;
  }

  pid(): number | undefined {
    return this.state === "running" ? this.current?.pid : undefined;
  }

  status(): EmbeddedPostgresStatus {
    return { state: this.state, restarts: this.restarts, ...(this.lastExit ? { lastExit: this.lastExit } : {}) };
  }

  async stop(): Promise<void> {
    this.state = "stopped";
    this.wake?.();
    await this.restarting;
    await this.current?.stop();
  }

  private watch(process: PostgresProcess): void {
    this.current = process;
    this.state = "running";
    void process.exited.then((exit) => {
      if (this.state !== "stopped" && this.current === process) this.restarting = this.recover(process, exit);
    });
  }

  private async recover(dead: PostgresProcess, exit: Exit): Promise<void> {
    const now = Date.now();
    this.lastExit = { code: exit.code, signal: exit.signal, at: new Date(now).toISOString() };
    this.logger.error("embedded PostgreSQL exited", { postgresPid: dead.pid, exit: describeExit(exit), lastLines: dead.lastLines() });
    this.deaths = [...this.deaths.filter((t) => now - t < this.policy.windowMs), now];
    if (this.deaths.length >= this.policy.maxDeaths) {
      return this.giveUp(`it exited ${this.deaths.length} times within ${Math.round(this.policy.windowMs / 60_000)} minutes`);
    }
    this.state = "restarting";
    for (const [index, delay] of this.policy.delaysMs.entries()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.stopped()) return;
      try {
        const next = await this.launch();
        if (this.stopped()) {
          await next.stop();
          return;
        }
        this.restarts += 1;
        this.logger.warn("embedded PostgreSQL restarted", { postgresPid: next.pid, restarts: this.restarts, downMs: Date.now() - now });
        this.watch(next);
        return;
      } catch (error) {
        this.logger.error("embedded PostgreSQL did not restart", { attempt: index + 1, error: (error as Error).message });
      }
    }
    this.giveUp(`it did not restart in ${this.policy.delaysMs.length} attempts`);
  }

  // A method, so TypeScript does not narrow `state` across the awaits above.
  private stopped(): boolean {
    return this.state === "stopped";
  }

  private giveUp(reason: string): void {
    this.state = "failed";
    this.logger.error("embedded PostgreSQL is down for good; giving up", { reason });
    this.onGiveUp(`the embedded PostgreSQL is down: ${reason}`);
  }
}
