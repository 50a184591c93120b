/** Recognises the database errors that carry meaning for callers. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string }; meta?: { driverAdapterError?: { cause?: { kind?: string } } } } | null;
  if (!e) return false;
  return (
    e.code === "P2002" ||
    e.code === "23505" ||
    e.cause?.code === "23505" ||
    e.meta?.driverAdapterError?.cause?.kind === "UniqueConstraintViolation"
  );
}

// PostgreSQL SQLSTATEs that mean "the database could not serve this in time", not "this is wrong".
const UNAVAILABLE_SQLSTATES = new Set(["57014", "57P01", "57P02", "57P03", "53300", "53400"]);
// Prisma's codes for an unreachable server, a timed-out operation or pool, a transaction that could not start.
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2028"]);
const UNAVAILABLE_SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
// What pg and pg-pool say when a deadline of db/pool.ts passes or the connection drops.
const UNAVAILABLE_MESSAGES = /^(Query read timeout|timeout exceeded when trying to connect|Connection terminated|Client was closed|Client has encountered a connection error)/;

/**
 * True when the error means the database did not answer in time or could not be reached
 * (SERVICE_UNAVAILABLE), looking through the wrappers Prisma and its adapter add.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const e = current as {
      code?: unknown;
      message?: unknown;
      kind?: unknown;
      cause?: unknown;
      originalCode?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    if (typeof e.code === "string") {
      if (UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith("08")) return true;
      if (UNAVAILABLE_PRISMA_CODES.has(e.code) || UNAVAILABLE_SOCKET_CODES.has(e.code)) return true;
    }
    if (typeof e.originalCode === "string" && (UNAVAILABLE_SQLSTATES.has(e.originalCode) || e.originalCode.startsWith("08"))) return true;
    if (e.kind === "DatabaseNotReachable" || e.kind === "SocketTimeout" || e.kind === "ConnectionClosed" || e.kind === "TooManyConnections") return true;
    if (typeof e.message === "string" && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    current = e.meta?.driverAdapterError ?? e.cause;
  }
  return false;
}
