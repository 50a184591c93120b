/**
 * Runs a connection test so that it never outlives its deadline: the work races the
 * caller's signal and a timer of its own, and the driver's connection is closed whatever
 * happens (gracefully after success, in the background, by destroying the socket otherwise).
 */
import type { TestContext } from "../types";
import { formatDuration } from "./progress";

/** How long a successful test may spend saying goodbye to the server, at most. */
const GRACEFUL_CLOSE_MS = 1_000;

/** A driver connection as far as the deadline cares: a polite close and a hard one. */
export interface Closable {
  /** Says goodbye to the server; may hang if the server does not answer. */
  end(): Promise<unknown>;
  /** Drops the socket at once. Must be safe to call more than once. */
  destroy(): void;
}

/**
 * The deadline passed, or the caller went away (which only happens when no one waits for
 * the outcome any more, so the two need not be told apart).
 */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatDuration(timeoutMs)}`);
    this.name = "DeadlineExceeded";
  }
}

export async function withDeadline<T>(ctx: TestContext, connection: Closable, work: () => Promise<T>): Promise<T> {
  const startedAt = Date.now();
  const timeoutMs = Math.max(0, ctx.timeoutMs);
  if (ctx.signal.aborted || timeoutMs === 0) {
    connection.destroy();
    throw new DeadlineExceeded(timeoutMs);
  }
  let onAbort = () => {};
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    onAbort = () => {
      connection.destroy();
      reject(new DeadlineExceeded(timeoutMs));
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    timer = setTimeout(onAbort, timeoutMs);
  });

  let succeeded = false;
  try {
    const running = work();
    // After the deadline wins, the driver's own rejection is expected and of no interest.
    running.catch(() => {});
    const result = await Promise.race([running, deadline]);
    succeeded = true;
    return result;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener("abort", onAbort);
    const left = timeoutMs - (Date.now() - startedAt);
    // The outcome is known: the goodbye goes on without the caller waiting for the server to
    // answer it (as long again as the test's own round trips), still bounded, then the socket
    // is dropped whatever happened.
    if (succeeded && left > 0) void endWithin(connection, Math.min(left, GRACEFUL_CLOSE_MS)).finally(() => connection.destroy());
    else connection.destroy();
  }
}

async function endWithin(connection: Closable, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([connection.end().catch(() => {}), waited]);
  } finally {
    clearTimeout(timer);
  }
}
