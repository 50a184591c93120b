/**
 * Turns the errors Node's sockets, DNS and TLS raise into a test code and a message a person
 * can act on. The messages are written here rather than copied from the error: they name the
 * address the user typed and never anything the peer sent.
 */
import type { TestErrorCode } from "../types";
import { displayAddress, socketHost } from "./host";

export interface Failure {
  code: TestErrorCode;
  message: string;
}

const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA", "ENODATA"]);
const TIMEOUT_CODES = new Set(["ETIMEDOUT", "ESOCKETTIMEDOUT", "ERR_TLS_HANDSHAKE_TIMEOUT"]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
const UNREACHABLE_CODES = new Set(["EHOSTUNREACH", "ENETUNREACH", "EHOSTDOWN", "ENETDOWN"]);

const CERTIFICATE_PROBLEMS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "is self-signed, so it cannot be verified",
  SELF_SIGNED_CERT_IN_CHAIN: "is signed by a self-signed authority that is not trusted here",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "is signed by an authority that is not trusted here",
  UNABLE_TO_GET_ISSUER_CERT: "is signed by an authority that is not trusted here",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "is signed by an authority that is not trusted here",
  CERT_UNTRUSTED: "is not trusted",
  CERT_REJECTED: "was rejected",
  CERT_HAS_EXPIRED: "has expired",
  CERT_NOT_YET_VALID: "is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "does not name this host",
  HOSTNAME_MISMATCH: "does not name this host",
};

/** The failure a network-level error stands for, or null when it is not one. */
export function networkFailure(error: unknown, target: { host: string; port: number }): Failure | null {
  const code = errorCode(error);
  if (code === undefined) return null;
  const host = socketHost(target.host);
  const address = displayAddress(target.host, target.port);

  if (DNS_CODES.has(code)) {
    return code === "EAI_AGAIN"
      ? { code: "DNS_ERROR", message: `Could not resolve ${host}: the DNS lookup failed temporarily. Try again.` }
      : { code: "DNS_ERROR", message: `Could not resolve ${host}: no such host. Check the hostname.` };
  }
  if (code === "ECONNREFUSED") {
    return {
      code: "CONNECTION_REFUSED",
      message: `${address} refused the connection: nothing is listening on that port, or a firewall rejects it. Check the host and port.`,
    };
  }
  if (UNREACHABLE_CODES.has(code)) {
    return { code: "CONNECTION_REFUSED", message: `${address} cannot be reached from here (no route to host).` };
  }
  if (TIMEOUT_CODES.has(code)) {
    return { code: "TIMEOUT", message: `${address} did not answer in time. Check the host, port and firewall.` };
  }
  if (RESET_CODES.has(code)) {
    return { code: "PROTOCOL_ERROR", message: `${address} closed the connection abruptly.` };
  }
  if (code in CERTIFICATE_PROBLEMS) {
    return { code: "TLS_ERROR", message: `The TLS certificate of ${address} ${CERTIFICATE_PROBLEMS[code]}.` };
  }
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "ERR_SSL_PACKET_LENGTH_TOO_LONG") {
    return { code: "TLS_ERROR", message: `${address} did not answer the TLS handshake; is TLS enabled on the server?` };
  }
  if (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code.startsWith("CERT_")) {
    return { code: "TLS_ERROR", message: `The TLS handshake with ${address} failed (${code}).` };
  }
  return null;
}

/** The system or TLS error code, looking through wrappers (`cause`, AggregateError). */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && typeof current === "object" && depth < 4; depth++) {
    const { code } = current as { code?: unknown };
    if (typeof code === "string" && code !== "") return code;
    const { errors } = current as { errors?: unknown };
    current = Array.isArray(errors) && errors.length > 0 ? errors[0] : (current as { cause?: unknown }).cause;
  }
  return undefined;
}
