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
 * same error, carrying its status for Apollo, which answers 500 for any failed context. The
 * whole request fails there, so every public code answers with its own status: a bad, expired
 * or revoked token is 401 with a Bearer challenge, as over REST.
 */
export function withHttpStatus(error: unknown): unknown {
  const publicError = publicErrorOf(error);
  if (!publicError) return error;
  const head = httpHeadOf(publicError);
  const headers = new HeaderMap(Object.entries(head.headers));
  if (head.status === 401) headers.set("www-authenticate", 'Bearer realm="patchbay"');
  (publicError.extensions as Record<string, unknown>).http = { status: head.status, headers };
  return publicError;
}

function strongest(errors: Array<PublicError | null>): PublicError | null {
  for (const code of STATUS_CODES) {
    const found = errors.find((error) => error?.code === code);
    if (found) return found;
  }
  return null;
}
