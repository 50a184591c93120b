/**
 * What one HTTP request did, gathered while it runs (AsyncLocalStorage) by the layers that
 * know each part — the GraphQL plugin its operation, authentication its actor — and written
 * once when the response ends, as the access-log line and the request metrics.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { RequestSpan } from "./tracing";

export interface RequestRecord {
  /** A fixed name for what was asked: graphql, rest_resolve, healthz, readyz, metrics, web, not_found. */
  route: string;
  /** The client's operationName, checked to be a GraphQL name (else left out). */
  operationName?: string;
  operationType?: string;
  /** The operation's root fields (schema names, never arguments). */
  fields?: string[];
  /** Error codes of the response, in order, each once. */
  errorCodes?: string[];
  actor?: { kind: "USER" | "API_TOKEN"; id: string };
  /** SQL statements run for this request and their time, when statements are instrumented. */
  db?: { statements: number; ms: number };
  /** The request's span, when tracing is on. */
  span?: RequestSpan | null;
}

const storage = new AsyncLocalStorage<RequestRecord>();

export function runWithRecord<T>(record: RequestRecord, fn: () => T): T {
  return storage.run(record, fn);
}

/** The record of the request being served, if any (background jobs have none). */
export function currentRecord(): RequestRecord | undefined {
  return storage.getStore();
}

export function noteErrorCode(record: RequestRecord, code: string): void {
  record.errorCodes ??= [];
  if (!record.errorCodes.includes(code)) record.errorCodes.push(code);
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/** A client-chosen operation name is logged only when it is a plain GraphQL name of sane length. */
export function safeOperationName(name: unknown): string | undefined {
  return typeof name === "string" && GRAPHQL_NAME.test(name) ? name : undefined;
}
