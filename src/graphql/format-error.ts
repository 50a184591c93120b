/**
 * Lets the deliberate errors through (PublicError and GraphQL's own request errors), turns a
 * database that did not answer in time into SERVICE_UNAVAILABLE, and masks everything else as
 * INTERNAL_SERVER_ERROR, logging the detail. Messages about bad variables are stripped of the
 * value the client sent, which may be a secret, and, where the schema is not disclosed
 * (introspection off), of "Did you mean ...?" suggestions.
 */
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { PublicError, QueryLimitError } from "../errors";
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

/** graphql-js's own message when parseOptions.maxTokens is exceeded ("more that" in 16.x). */
const TOO_MANY_TOKENS = /Document contains more tha[nt] (\d+) tokens/;
const SUGGESTION = / ?Did you mean [^?]*\?/g;
const TOO_MANY_VARIABLE_ERRORS = /^Too many errors processing variables/;

export interface ErrorFormatterOptions {
  /** Strip "Did you mean ...?" from messages: they name fields, arguments and enum values. */
  hideSuggestions: boolean;
}

export function createErrorFormatter(logger: Logger, options: ErrorFormatterOptions = { hideSuggestions: false }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof PublicError) return formatted;
    const code = formatted.extensions?.code;
    // Errors about the request itself are not thrown by a resolver, so nothing unwraps them.
    const aboutTheRequest = original === error && error instanceof GraphQLError;
    if (aboutTheRequest) {
      // Apollo wraps validation rules' errors and gives them its own code; a limit keeps Patchbay's.
      if (error.originalError instanceof QueryLimitError) {
        return { message: error.originalError.message, locations: formatted.locations, extensions: publicExtensions(error.originalError) };
      }
      const tooManyTokens = code === "GRAPHQL_PARSE_FAILED" ? TOO_MANY_TOKENS.exec(formatted.message) : null;
      if (tooManyTokens) {
        const max = Number(tooManyTokens[1]);
        return { message: `The query has more than ${max} tokens; at most ${max} are allowed.`, extensions: { code: "QUERY_LIMIT_EXCEEDED", limit: "tokens", max } };
      }
      if (typeof code === "string" && REQUEST_ERROR_CODES.has(code)) return withoutEchoedValues(formatted, code, options);
      // graphql-js stops coercing variables after 50 errors with an error of its own, without a code.
      if (error.extensions?.code === undefined && TOO_MANY_VARIABLE_ERRORS.test(error.message)) {
        return { message: error.message, locations: formatted.locations, extensions: { code: "BAD_USER_INPUT", field: "variables" } };
      }
      // Apollo's refusals without a code of their own (an APQ hash that does not match the query).
      if (error.extensions?.code === undefined && isClientErrorStatus(error.extensions?.http)) {
        return withoutEchoedValues(formatted, "BAD_REQUEST", options);
      }
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

function publicExtensions(error: PublicError): Record<string, unknown> {
  const { http: _http, ...extensions } = error.extensions as Record<string, unknown>;
  return extensions;
}

function isClientErrorStatus(http: unknown): boolean {
  const status = (http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}

function withoutEchoedValues(formatted: GraphQLFormattedError, code: string, options: ErrorFormatterOptions): GraphQLFormattedError {
  let message = formatted.message
    .replace(/got invalid value [\s\S]*?(?= at "|;|$)/, "has an invalid value")
    .replace(/(cannot represent[^:]*?)(?: value)?: [\s\S]*$/, "$1 value.");
  if (options.hideSuggestions) message = message.replace(SUGGESTION, "");
  const extensions: Record<string, unknown> = { code };
  const at = /at "([^"]+)"/.exec(formatted.message);
  if (at) extensions.field = at[1].split(".").slice(1).join(".") || at[1];
  return { message, locations: formatted.locations, path: formatted.path, extensions };
}
