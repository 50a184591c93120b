/**
 * GraphQL answers RATE_LIMITED with HTTP 429 and SERVICE_UNAVAILABLE with 503, each with a
 * Retry-After header, however deep in a resolver (or in building the context) the error arose,
 * so load balancers and clients can back off without reading the body.
 */
import { type ApolloServerPlugin, HeaderMap } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import type { PublicError } from "../errors";
import { httpHeadOf, publicErrorOf } from "../http/status";

/** The codes that decide the HTTP status of a whole GraphQL response, strongest first. */
const STATUS_CODES = ["SERVICE_UNAVAILABLE", "RATE_LIMITED"] as const;

export function httpStatusPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ errors, response }) {
          const decisive = strongest((errors ?? []).map((error) => publicErrorOf(unwrapResolverError(error))));
          if (!decisive) return;
          const head = httpHeadOf(decisive);
          response.http.status = head.status;
          for (const [name, value] of Object.entries(head.headers)) response.http.headers.set(name, value);
        },
      };
    },
  };
}

/**
 * For an error thrown while building the context (authentication reads the database): the
 * same error, carrying its status for Apollo, when it is one of the codes above.
 */
export function withHttpStatus(error: unknown): unknown {
  const publicError = publicErrorOf(error);
  if (!publicError || !(STATUS_CODES as readonly string[]).includes(publicError.code)) return error;
  const head = httpHeadOf(publicError);
  (publicError.extensions as Record<string, unknown>).http = { status: head.status, headers: new HeaderMap(Object.entries(head.headers)) };
  return publicError;
}

function strongest(errors: Array<PublicError | null>): PublicError | null {
  for (const code of STATUS_CODES) {
    const found = errors.find((error) => error?.code === code);
    if (found) return found;
  }
  return null;
}
