/**
 * GraphQL over HTTP with a deadline on every request. Errors become PatchbayError with the
 * server's `extensions.code`, or NETWORK / TIMEOUT / BAD_RESPONSE; the token never appears
 * in a message (it is redacted from anything that did not come from us).
 */
import { PatchbayError, redact } from "./errors.js";
import { VERSION } from "./version.js";

export interface TransportOptions {
  url: string;
  token: string | null;
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
  /** Sent as User-Agent; default `patchbay-client/<its package version>` (the CLI names itself). */
  userAgent?: string;
}

export interface Transport {
  readonly url: string;
  graphql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export const USER_AGENT = `patchbay-client/${VERSION}`;

export function createTransport(options: TransportOptions): Transport {
  const doFetch = options.fetch ?? globalThis.fetch;
  const endpoint = `${options.url}/graphql`;
  const scrub = (text: string) => redact(text, [options.token]);

  return {
    url: options.url,
    async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        accept: "application/json",
        "user-agent": options.userAgent ?? USER_AGENT,
      };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const signal = AbortSignal.timeout(options.timeoutMs);
      let status: number;
      let text: string;
      try {
        // A redirect would carry the token elsewhere, and Patchbay never sends one.
        const response = await doFetch(endpoint, { method: "POST", headers, body: JSON.stringify({ query, variables }), signal, redirect: "manual" });
        status = response.status;
        text = await response.text();
      } catch (error) {
        throw transportError(error, options.url, options.timeoutMs, scrub);
      }
      if (status >= 300 && status < 400) {
        throw new PatchbayError("BAD_RESPONSE", `Patchbay at ${options.url} answered with a redirect (HTTP ${status}); set PATCHBAY_URL to the final address.`, { status });
      }
      let body: { data?: T | null; errors?: Array<{ message?: string; extensions?: Record<string, unknown> }> };
      try {
        body = JSON.parse(text);
      } catch {
        throw new PatchbayError("BAD_RESPONSE", `${options.url}/graphql answered HTTP ${status} with something other than JSON; is PATCHBAY_URL right?`, { status });
      }
      const first = body?.errors?.[0];
      if (first) throw graphqlError(first, status, scrub);
      if (!body || body.data == null) throw new PatchbayError("BAD_RESPONSE", `Patchbay answered HTTP ${status} without data.`, { status });
      return body.data;
    },
  };
}

function graphqlError(error: { message?: string; extensions?: Record<string, unknown> }, status: number, scrub: (s: string) => string): PatchbayError {
  const extensions = error.extensions ?? {};
  const code = typeof extensions.code === "string" ? extensions.code : "INTERNAL_SERVER_ERROR";
  const field = typeof extensions.field === "string" ? extensions.field : undefined;
  return new PatchbayError(code, scrub(error.message ?? "Patchbay reported an error."), { status, field, extensions });
}

/** A fetch failure as TIMEOUT or NETWORK, with the low-level reason (ECONNREFUSED, …). */
export function transportError(error: unknown, url: string, timeoutMs: number, scrub: (s: string) => string): PatchbayError {
  if (error instanceof PatchbayError) return error;
  const name = (error as { name?: string })?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new PatchbayError("TIMEOUT", `Patchbay at ${url} did not answer within ${timeoutMs} ms.`);
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
  return new PatchbayError("NETWORK", scrub(`Could not reach Patchbay at ${url}: ${reason}.`));
}
