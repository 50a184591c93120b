/**
 * Wraps pg's Client#query, once per process, so that every SQL statement — Prisma's through its
 * driver adapter, the hot paths' (db/sql.ts), the rate limits', LISTEN — gets a span when
 * tracing is on and is counted in the request record (statements, milliseconds) for the
 * access log. Installed only when tracing or debug logging asks for it; otherwise pg is untouched.
 * Statement texts are parameterised, so a span never carries a value.
 */
import pg from "pg";
import { currentRecord } from "./request-record";
import { endStatementSpan, startStatementSpan } from "./tracing";

const INSTALLED = Symbol.for("patchbay.pg-instrumentation");

type QueryFn = (...args: unknown[]) => unknown;

export function instrumentPg(): void {
  const proto = pg.Client.prototype as unknown as Record<string | symbol, unknown>;
  if (proto[INSTALLED]) return;
  proto[INSTALLED] = true;
  const original = proto.query as QueryFn;
  proto.query = function instrumentedQuery(this: unknown, ...args: unknown[]) {
    const config = args[0] as { text?: unknown; submit?: unknown } | string | undefined;
    // A Submittable (cursor, stream) manages itself; leave it alone.
    if (config && typeof config === "object" && typeof config.submit === "function") return original.apply(this, args);
    const text = typeof config === "string" ? config : typeof config?.text === "string" ? config.text : "";
    const record = currentRecord();
    const started = performance.now();
    const span = startStatementSpan(text);
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      if (record) {
        record.db ??= { statements: 0, ms: 0 };
        record.db.statements += 1;
        record.db.ms += performance.now() - started;
      }
      endStatementSpan(span, error);
    };
    const callbackAt = typeof args[2] === "function" ? 2 : typeof args[1] === "function" ? 1 : -1;
    if (callbackAt >= 0) {
      const callback = args[callbackAt] as (error: unknown, result: unknown) => void;
      args[callbackAt] = (error: unknown, result: unknown) => {
        finish(error ?? undefined);
        callback(error, result);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === "function") {
      (result as Promise<unknown>).then(
        () => finish(),
        (error) => finish(error),
      );
    } else {
      finish();
    }
    return result;
  };
}
