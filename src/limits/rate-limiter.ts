/**
 * A fixed-window counter per key, in memory: enough to slow password guessing against one
 * process. Several processes each keep their own windows (DESIGN.md: kept short, not shared).
 */
import { RateLimitedError } from "../errors";

export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts one attempt; throws RATE_LIMITED once the key used up its window. */
  hit(key: string, now = Date.now()): void {
    if (this.windows.size > 10_000) this.sweep(now);
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
      return;
    }
    window.count += 1;
    if (window.count > this.limit) throw new RateLimitedError(Math.ceil((window.resetAt - now) / 1000));
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
  }
}
