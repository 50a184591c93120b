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
  | "RATE_LIMITED";

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

export class RateLimitedError extends PublicError {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many attempts; try again in ${retryAfterSeconds} s.`, "RATE_LIMITED", {
      retryAfterSeconds,
    });
  }
}
