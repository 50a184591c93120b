/**
 * Lets the deliberate errors through (PublicError and GraphQL's own request errors), turns a
 * database that did not answer in time into SERVICE_UNAVAILABLE, and masks everything else as INTERNAL_SERVER_ERROR, logging the detail. Messages about bad
 * variables are stripped of the value the client sent, which may be a secret.
 */
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { PublicError } from "../errors";
import { publicErrorOf } from "../http/status";
import type { Logger } from "../log";

// Codes Apollo Server gives to problems with the request itself.
const REQUEST_ERROR_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof PublicError) return formatted;
    const code = formatted.extensions?.code;
    // Errors about the request itself are not thrown by a resolver, so nothing unwraps them.
    const aboutTheRequest = original === error && error instanceof GraphQLError;
    if (aboutTheRequest && typeof code === "string" && REQUEST_ERROR_CODES.has(code)) {
      return withoutEchoedValues(formatted, code);
    }
    const unavailable = publicErrorOf(original);
    if (unavailable) {
      logger.warn("database did not answer in time", { path: formatted.path, error: original });
      return { message: unavailable.message, locations: formatted.locations, path: formatted.path, extensions: { ...unavailable.extensions } };
    }
    logger.error("unexpected error", { path: formatted.path, error: original });
    return { message: "Internal server error.", extensions: { code: "INTERNAL_SERVER_ERROR" }, path: formatted.path };
  };
}

function withoutEchoedValues(formatted: GraphQLFormattedError, code: string): GraphQLFormattedError {
  const message = formatted.message
    .replace(/got invalid value [\s\S]*?(?= at "|;|$)/, "has an invalid value")
    .replace(/(cannot represent[^:]*?)(?: value)?: [\s\S]*$/, "$1 value.");
  const extensions: Record<string, unknown> = { code };
  const at = /at "([^"]+)"/.exec(formatted.message);
  if (at) extensions.field = at[1].split(".").slice(1).join(".") || at[1];
  return { message, locations: formatted.locations, path: formatted.path, extensions };
}
