/**
 * How far a connection test got, so that a timeout can say where it stalled: a socket that
 * never connects is a network problem, one that connects but never speaks the protocol is
 * probably not the server the user thinks it is.
 */
import type { Failure } from "./network-errors";

export interface Progress {
  /** The TCP connection was accepted. */
  connected: boolean;
  /** The server accepted the login. */
  authenticated: boolean;
}

export function startProgress(): Progress {
  return { connected: false, authenticated: false };
}

/** `product` names the protocol, e.g. "PostgreSQL". */
export function timeoutFailure(address: string, progress: Progress, timeoutMs: number, product: string): Failure {
  const within = `within ${formatDuration(timeoutMs)}`;
  if (progress.authenticated) {
    return { code: "TIMEOUT", message: `${address} accepted the login but did not answer a query ${within}.` };
  }
  if (progress.connected) {
    return {
      code: "TIMEOUT",
      message: `${address} accepted the connection but did not complete the ${product} handshake ${within}. Is it a ${product} server?`,
    };
  }
  return { code: "TIMEOUT", message: `${address} did not accept a connection ${within}. Check the host, port and firewall.` };
}

/** A duration for a person: "250 ms", "1.5 s", "10 s" (never "9999.973976000001 ms"). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "0 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = Math.round(ms / 100) / 10;
  return `${Number.isInteger(seconds) ? seconds.toFixed(0) : seconds.toFixed(1)} s`;
}
