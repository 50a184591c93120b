/**
 * How many wrong passwords may be tried, counted in PostgreSQL so that every process shares
 * the counts: per account and client address (someone mistyping), per account from all
 * addresses (one account attacked from many), and per address against all accounts (one
 * address spraying many). Every attempt counts when it starts, so a burst of concurrent
 * guesses cannot slip in before the first failure is recorded; a successful log-in takes its
 * attempt back and clears its account-and-address window.
 */
import { RateLimitedError } from "../errors";
import type { SharedLimiter } from "../limits/shared-limiter";

export interface LoginLimiters {
  perAccountAndAddress: SharedLimiter;
  perAccount: SharedLimiter;
  perAddress: SharedLimiter;
}

export class LoginThrottle {
  constructor(private readonly limiters: LoginLimiters) {}

  /** Counts an attempt; RATE_LIMITED (with the longest wait) when any window is used up. */
  async attempt(email: string, address: string): Promise<void> {
    const { perAccountAndAddress, perAccount, perAddress } = this.limiters;
    const outcomes = await Promise.allSettled([
      perAccountAndAddress.hit(pair(email, address)),
      perAccount.hit(email),
      perAddress.hit(address),
    ]);
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected").map((o) => o.reason as unknown);
    const limited = failures.filter((e): e is RateLimitedError => e instanceof RateLimitedError);
    const other = failures.find((e) => !(e instanceof RateLimitedError));
    if (other) throw other;
    // The same answer whichever window it was, so it does not tell whether the account exists.
    if (limited.length) throw new RateLimitedError(Math.max(...limited.map((e) => e.retryAfterSeconds)), undefined);
  }

  async succeeded(email: string, address: string): Promise<void> {
    const { perAccountAndAddress, perAccount, perAddress } = this.limiters;
    await Promise.all([perAccountAndAddress.reset(pair(email, address)), perAccount.refund(email), perAddress.refund(address)]);
  }
}

function pair(email: string, address: string): string {
  return `${email}\u0000${address}`;
}
