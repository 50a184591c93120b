/**
 * The errors a client may see. Each carries a fixed `extensions.code` (DESIGN.md, Errors);
 * anything else thrown is masked as INTERNAL_SERVER_ERROR by the error formatter.
 */
import { GraphQLError } from "graphql";

export type PublicErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "SERVICE_UNAVAILABLE"
  | "QUERY_LIMIT_EXCEEDED";

export class PublicError extends GraphQLError {
  constructor(
    message: string,
    readonly code: PublicErrorCode,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extensions } });
  }
}

export class UnauthenticatedError extends PublicError {
  constructor(message = "Sign in or send an API token.") {
    super(message, "UNAUTHENTICATED");
  }
}

export class ForbiddenError extends PublicError {
  constructor(message = "You do not have permission to do this.") {
    super(message, "FORBIDDEN");
  }
}

export class NotFoundError extends PublicError {
  constructor(what: string) {
    super(`${what} not found.`, "NOT_FOUND");
  }
}

export class BadUserInputError extends PublicError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, "BAD_USER_INPUT", { field });
  }
}

export class ConflictError extends PublicError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(message, "CONFLICT", extensions);
  }
}

/** HTTP answers with 429 and a Retry-After header (http/status.ts). */
export class RateLimitedError extends PublicError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number, message?: string) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(message ?? `Too many attempts; try again in ${seconds} s.`, "RATE_LIMITED", { retryAfterSeconds: seconds });
    this.retryAfterSeconds = seconds;
  }
}

/** The database did not answer in time; HTTP answers with 503. */
export class ServiceUnavailableError extends PublicError {
  constructor(message = "The service's database did not answer in time; try again shortly.") {
    super(message, "SERVICE_UNAVAILABLE", { retryAfterSeconds: 5 });
  }
}

/** The HTTP status a public error answers with, for GraphQL and REST alike. */
export const HTTP_STATUS: Record<PublicErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  QUERY_LIMIT_EXCEEDED: 400,
};

/**
 * A GraphQL request that asks for more than one request may (README, Security): refused
 * before any resolver runs. `limit` names the bound, `max` is its configured value.
 */
export class QueryLimitError extends PublicError {
  constructor(message: string, limit: string, max: number) {
    super(message, "QUERY_LIMIT_EXCEEDED", { limit, max, http: { status: 400 } });
  }
}
