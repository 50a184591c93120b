/**
 * The one error the client throws. `code` is the server's code (UNAUTHENTICATED, FORBIDDEN,
 * NOT_FOUND, BAD_USER_INPUT, CONFLICT, RATE_LIMITED, SERVICE_UNAVAILABLE, INTERNAL_SERVER_ERROR) or one of the
 * client's own: CONFIG (a setting is missing or malformed), NETWORK, TIMEOUT, BAD_RESPONSE
 * (the answer was not Patchbay's), UNSUPPORTED (e.g. pgPool on a MySQL connection).
 *
 * Messages are built from the server's messages, which never carry a secret, and from names
 * the caller chose; anything else that may hold the token is redacted before it gets here.
 */
export type ClientErrorCode = "CONFIG" | "NETWORK" | "TIMEOUT" | "BAD_RESPONSE" | "UNSUPPORTED";

export type PatchbayErrorCode =
  | ClientErrorCode
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "RATE_LIMITED"
  | "SERVICE_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR"
  | (string & {});

export interface PatchbayErrorDetails {
  /** The HTTP status, when the server answered. */
  status?: number;
  /** For BAD_USER_INPUT: the argument or field at fault. */
  field?: string;
  /** The server's extensions, minus anything but plain data. */
  extensions?: Record<string, unknown>;
}

export class PatchbayError extends Error {
  override readonly name = "PatchbayError";
  readonly status?: number;
  readonly field?: string;
  readonly extensions: Record<string, unknown>;

  constructor(
    readonly code: PatchbayErrorCode,
    message: string,
    details: PatchbayErrorDetails = {},
  ) {
    super(message);
    this.status = details.status;
    this.field = details.field;
    this.extensions = details.extensions ?? {};
  }
}

/** Replaces every occurrence of the given values (and their URL-encoded forms) with ***. */
export function redact(text: string, secrets: ReadonlyArray<string | null | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join("***");
  }
  return out;
}
