/**
 * A fixed-window limit kept in PostgreSQL, so every server process on one database counts
 * against the same windows: a guesser cannot multiply their tries by the number of processes
 * behind the load balancer. rate-limiter-flexible's RateLimiterPostgres does the counting (one
 * upsert per hit) in the "RateLimit" table of our migrations; subjects (emails, addresses, user
 * ids) are stored only as keyed hashes.
 */
import { createHmac } from "node:crypto";
import type pg from "pg";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitedError } from "../errors";
import { metrics } from "../observability/metrics";

export interface LimitSpec {
  /** Names the limit in keys and messages, e.g. "login-account". */
  name: string;
  /** Hits allowed per window. */
  points: number;
  windowSeconds: number;
  /** What RATE_LIMITED says, before "try again in n s". */
  message?: string;
}

export class SharedLimiter {
  private readonly limiter: RateLimiterPostgres;

  constructor(
    pool: pg.Pool,
    private readonly spec: LimitSpec,
    /** Keys the subject hashes, so the table says nothing about who was limited. */
    private readonly hashKey: Buffer,
    /**
     * PATCHBAY_DB_PREPARED_STATEMENTS: the library names its statements (server-side prepared);
     * behind a transaction pooler that cannot keep them, they are sent unnamed instead.
     */
    prepared = true,
  ) {
    const unnamed = { query: (q: pg.QueryConfig) => pool.query({ text: q.text, values: q.values }) };
    this.limiter = new RateLimiterPostgres({
      storeClient: prepared ? pool : unnamed,
      storeType: "pool",
      tableName: "RateLimit",
      // The migration made the table; the library must not run DDL at run time.
      tableCreated: true,
      // One sweeper per process (sweepExpiredLimits) instead of a timer per limit.
      clearExpiredByTimeout: false,
      keyPrefix: spec.name,
      points: spec.points,
      duration: spec.windowSeconds,
    });
  }

  /** Counts one hit; throws RATE_LIMITED when the subject's window is used up. */
  async hit(subject: string): Promise<void> {
    try {
      await this.limiter.consume(this.key(subject), 1);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw this.limited(error.msBeforeNext);
      throw error;
    }
  }

  /** Takes back one hit (an attempt that turned out legitimate). */
  async refund(subject: string): Promise<void> {
    await this.limiter.reward(this.key(subject), 1);
  }

  /** Forgets the subject's window. */
  async reset(subject: string): Promise<void> {
    await this.limiter.delete(this.key(subject));
  }

  private key(subject: string): string {
    return createHmac("sha256", this.hashKey).update(subject).digest("base64url").slice(0, 32);
  }

  private limited(msBeforeNext: number): RateLimitedError {
    const seconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    metrics.rateLimited.inc({ limit: this.spec.name });
    return new RateLimitedError(seconds, this.spec.message ? `${this.spec.message} Try again in ${seconds} s.` : undefined);
  }
}

/**
 * Deletes windows that ended over an hour ago, every `everyMs`, so the table stays as small as
 * the traffic of the last hour. Several processes sweeping is harmless. Returns the stop function.
 */
export function sweepExpiredLimits(pool: pg.Pool, everyMs = 300_000, onError: (error: unknown) => void = () => {}): () => void {
  const timer = setInterval(() => {
    pool.query(`DELETE FROM "RateLimit" WHERE expire < $1`, [Date.now() - 3_600_000]).catch(onError);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
