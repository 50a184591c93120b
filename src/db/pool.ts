/**
 * The one pg pool of a process, shared by Prisma's driver adapter and the statements that run on
 * pg directly (rate limits, /readyz). Every checkout and every statement has a deadline, so a
 * database that stops answering (frozen, partitioned, overloaded) fails requests within the
 * deadline instead of holding them for as long as it is stuck; the pool drops connections that
 * timed out and opens fresh ones once the database answers again, so recovery needs no restart.
 */
import pg from "pg";

export interface DatabaseDeadlines {
  /** Waiting for a pooled connection, including opening a new one (PATCHBAY_DB_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs: number;
  /** One statement (PATCHBAY_DB_STATEMENT_TIMEOUT_MS). */
  statementTimeoutMs: number;
}

export const DEFAULT_DEADLINES: DatabaseDeadlines = { connectTimeoutMs: 3_000, statementTimeoutMs: 5_000 };

export interface PoolOptions {
  databaseUrl: string;
  deadlines: DatabaseDeadlines;
  /** Connections at most; the default suits one API process on a small machine. */
  size?: number;
  onError?: (error: Error) => void;
}

export function createPool(options: PoolOptions): pg.Pool {
  const { connectTimeoutMs, statementTimeoutMs } = options.deadlines;
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.size ?? 10,
    // pg-pool applies this to a checkout waiting for a free connection as well as to opening one.
    connectionTimeoutMillis: connectTimeoutMs,
    // The server cancels a slow statement and its locks go with it...
    statement_timeout: statementTimeoutMs,
    // ...a session left idle inside a transaction releases its locks...
    idle_in_transaction_session_timeout: Math.max(statementTimeoutMs * 2, 10_000),
    // ...and the client gives up on its own when the server cannot even do that (it is frozen).
    query_timeout: statementTimeoutMs + 1_000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection that breaks (database restarted) must not crash the process.
  pool.on("error", (error) => options.onError?.(error));
  return pool;
}

/** A quick round trip for /readyz, abandoned after `timeoutMs` whatever the pool is doing. */
export async function ping(pool: pg.Pool, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const query = pool
    .query({ text: "SELECT 1", query_timeout: timeoutMs } as pg.QueryConfig)
    .then(() => true)
    .catch(() => false);
  try {
    return await Promise.race([query, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
