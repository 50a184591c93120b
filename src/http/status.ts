/**
 * How an error thrown anywhere becomes what a client sees over HTTP: a PublicError as it is, a
 * database that did not answer in time as SERVICE_UNAVAILABLE, and each with its status and,
 * for RATE_LIMITED and SERVICE_UNAVAILABLE, a Retry-After header. GraphQL and REST share it.
 */
import { isDatabaseUnavailable } from "../db/errors";
import { HTTP_STATUS, PublicError, ServiceUnavailableError } from "../errors";

/** The public form of an error, or null when it must be masked as INTERNAL_SERVER_ERROR. */
export function publicErrorOf(error: unknown): PublicError | null {
  if (error instanceof PublicError) return error;
  if (isDatabaseUnavailable(error)) return new ServiceUnavailableError();
  return null;
}

export interface HttpHead {
  status: number;
  headers: Record<string, string>;
}

export function httpHeadOf(error: PublicError): HttpHead {
  const retryAfter = error.extensions.retryAfterSeconds;
  const headers: Record<string, string> = typeof retryAfter === "number" ? { "retry-after": String(retryAfter) } : {};
  return { status: HTTP_STATUS[error.code], headers };
}
