/**
 * Bounds the password hashing of one process. scrypt costs ~160 ms of CPU and 32 MiB, on the
 * libuv pool that DNS lookups share: at most `concurrency` run at once, at most `queue` more
 * wait, and one client address holds at most `perClient` of those places. Whoever finds no
 * place is answered RATE_LIMITED at once instead of queueing behind a flood, so a burst of
 * wrong log-ins delays a legitimate one by a bounded queue, not by the length of the burst.
 * A freed slot goes to the waiting client holding the fewest places, so a flood from one
 * address does not stand in front of everyone else in the queue either.
 */
import { RateLimitedError } from "../errors";
import { metrics } from "../observability/metrics";

export interface HashGateLimits {
  concurrency: number;
  queue: number;
  perClient: number;
}

/** A place in the gate: run the hash with it, or leave without hashing. */
export interface HashPass {
  run<T>(task: () => Promise<T>): Promise<T>;
  leave(): void;
}

const BUSY_MESSAGE = "Too many log-ins and sign-ups are being checked right now; try again in 1 s.";

export class HashGate {
  private admitted = 0;
  private running = 0;
  private readonly waiting: Array<{ client: string; start: () => void }> = [];
  private readonly perClient = new Map<string, number>();

  constructor(private readonly limits: HashGateLimits) {}

  /** A place for `client`, or RATE_LIMITED when the gate or the client's share is full. */
  admit(client: string): HashPass {
    const mine = this.perClient.get(client) ?? 0;
    if (this.admitted >= this.limits.concurrency + this.limits.queue || mine >= this.limits.perClient) {
      metrics.rateLimited.inc({ limit: "password-hash" });
      throw new RateLimitedError(1, BUSY_MESSAGE);
    }
    this.admitted += 1;
    this.perClient.set(client, mine + 1);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      this.admitted -= 1;
      const remaining = (this.perClient.get(client) ?? 1) - 1;
      if (remaining === 0) this.perClient.delete(client);
      else this.perClient.set(client, remaining);
    };
    return {
      run: async (task) => {
        if (left) throw new Error("this place in the hash gate was already given up");
        await this.slot(client);
        try {
          return await task();
        } finally {
          this.release();
          leave();
        }
      },
      leave,
    };
  }

  private async slot(client: string): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.running += 1;
      return;
    }
    await new Promise<void>((start) => this.waiting.push({ client, start }));
  }

  private release(): void {
    const next = this.nextWaiter();
    // The slot passes straight to the next waiter, so the running count stays right.
    if (next) next.start();
    else this.running -= 1;
  }

  /**
   * The earliest waiter among the clients holding the fewest places: one address cannot keep
   * the slots to itself by queueing ahead of everyone else.
   */
  private nextWaiter(): { client: string; start: () => void } | undefined {
    let best = -1;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.waiting.length; i++) {
      const load = this.perClient.get(this.waiting[i].client) ?? 0;
      if (load < bestLoad) {
        best = i;
        bestLoad = load;
      }
    }
    return best < 0 ? undefined : this.waiting.splice(best, 1)[0];
  }
}
