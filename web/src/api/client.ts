/**
 * Sends the typed documents from web/src/gql to /graphql on this server, with the session
 * token. A GraphQL error becomes an ApiError carrying the server's `extensions` (code, field,
 * usedBy, ...), so forms can put a message next to the field it names.
 */
import type { TypedDocumentString } from "../gql/graphql";
import { clearSession, sessionToken } from "../session";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The input field the server blamed (`host`, `extra.region`, ...), if any. */
  get field(): string | null {
    return typeof this.extensions.field === "string" ? this.extensions.field : null;
  }
}

type Variables<V> = V extends Record<string, never> ? Record<string, never> | undefined : V;

const listeners = new Set<() => void>();

/** Called when the server says the session is no longer valid. */
export function onSignedOut(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function request<R, V>(document: TypedDocumentString<R, V>, variables?: Variables<V>): Promise<R> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  const token = sessionToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      credentials: "omit",
    });
  } catch {
    throw new ApiError("The server cannot be reached. Check your connection and try again.", "NETWORK");
  }
  let body: { data?: R | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without a GraphQL response.`, "NETWORK");
  }
  const error = body.errors?.[0];
  if (error) {
    const code = typeof error.extensions?.code === "string" ? error.extensions.code : "INTERNAL_SERVER_ERROR";
    if (code === "UNAUTHENTICATED" && token) {
      clearSession();
      for (const listener of listeners) listener();
    }
    throw new ApiError(error.message, code, error.extensions ?? {});
  }
  if (!body.data) throw new ApiError("The server sent no data.", "INTERNAL_SERVER_ERROR");
  return body.data;
}

/** A message for a person from anything a request may throw. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
