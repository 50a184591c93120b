/**
 * The one way out to the network for an adapter (DESIGN.md, "Outbound connections"): resolve
 * the host once through the egress module handed to the test (every address is checked
 * there), then connect to exactly the address it returned, keeping the name the user typed
 * for TLS verification and messages; the driver never gets a name it could look up again.
 *
 * - resolveChecked / checkEgress: the checked address (rejecting with EgressRefused, or
 *   returning the failure to report).
 * - openChecked / connectChecked: a socket to the checked address, for drivers that take one.
 * - pinnedSocket: a socket the driver connects itself (pg), pinned to the checked address.
 * - tlsIdentity / identityHost: the name TLS verifies (the typed name, or for an IP literal in
 *   any spelling the checked address) and the SNI to send.
 * Drivers that open sockets of their own get a lookup answering with the checked address
 * (mongodb.ts's pinnedLookup); nothing else resolves a name.
 */
import { connect, isIP, Socket } from "node:net";
import { formatDuration } from "./progress";
import { parseIp } from "../../net/ip";
import type { CheckedAddress, TestContext } from "../types";
import { socketHost } from "./host";
import type { Failure } from "./network-errors";

/** The egress policy refused the host, or its name did not resolve; nothing was sent to it. */
export class EgressRefused extends Error {
  constructor(readonly failure: Failure, options?: ErrorOptions) {
    super(failure.message, options);
    this.name = "EgressRefused";
  }
}

/**
 * The checked address for `host` (a name or an IP literal, brackets allowed). Rejects with
 * EgressRefused when the egress module refuses (EGRESS_DENIED) or cannot resolve (DNS_ERROR)
 * it; any other rejection (the signal aborting, a bug) is passed on as it is.
 */
export async function resolveChecked(ctx: TestContext, host: string): Promise<CheckedAddress> {
  try {
    return await ctx.egress.resolve(socketHost(host), ctx.signal);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== "EGRESS_DENIED" && code !== "DNS_ERROR") throw error;
    // The egress module writes its messages itself; they name the host and the policy, never
    // anything a peer sent.
    const message = error instanceof Error && error.message ? error.message : `Could not resolve ${socketHost(host)}.`;
    throw new EgressRefused({ code, message }, { cause: error });
  }
}

export function egressFailure(error: unknown): Failure | null {
  return error instanceof EgressRefused ? error.failure : null;
}

/**
 * The TLS options that verify a server reached at a checked address against the name the user
 * typed: SNI carries the name, and `host` is what Node checks the certificate against. For an
 * IP literal in any spelling (`127.1`), both use the checked address in its usual form, and
 * there is no SNI, which does not allow IP addresses.
 */
export function tlsIdentity(host: string, address: CheckedAddress): { host: string; servername?: string } {
  const name = socketHost(host);
  return parseIp(name) || isIP(name) ? { host: address.address } : { host: name, servername: name };
}

/** Sockets a test opened, so the deadline can destroy them all whatever state they are in. */
export class OpenSockets {
  private readonly sockets = new Set<{ destroy(): unknown }>();

  add<T extends { destroy(): unknown }>(socket: T): T {
    this.sockets.add(socket);
    return socket;
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/**
 * Starts a TCP connection to a checked address and returns the socket at once, still
 * connecting, for drivers that take a socket and wait for it themselves. It is added to
 * `sockets`, so a deadline can destroy it in any state.
 */
export function openChecked(address: CheckedAddress, port: number, sockets: OpenSockets): Socket {
  const socket = sockets.add(connect({ host: address.address, port, family: address.family }));
  socket.setNoDelay(true);
  // The driver listens for errors itself; this only keeps one that arrives before the driver
  // does (or after it let go) from crashing the process.
  socket.on("error", () => {});
  return socket;
}

/** Like openChecked, but resolves once the socket is connected. */
export function connectChecked(address: CheckedAddress, port: number, sockets: OpenSockets): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = openChecked(address, port, sockets);
    const onError = (error: Error) => reject(error);
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/** The checked address of `host`, or the failure to report (nothing has been sent then). */
export async function checkEgress(ctx: TestContext, host: string): Promise<CheckedAddress | Failure> {
  try {
    return await resolveChecked(ctx, host);
  } catch (error) {
    const refused = egressFailure(error);
    if (refused) return refused;
    if (ctx.signal.aborted) {
      return { code: "TIMEOUT", message: `Resolving ${socketHost(host)} did not finish within ${formatDuration(ctx.timeoutMs)}.` };
    }
    return { code: "UNKNOWN", message: `Could not check ${socketHost(host)} against the egress policy.` };
  }
}

export function isFailure(value: CheckedAddress | Failure): value is Failure {
  return "code" in value;
}

/**
 * The host name a driver should verify TLS against and name in SNI: the name the user typed,
 * or, for an IP literal in any spelling (`127.1`), the checked address in its usual form.
 */
export function identityHost(host: string, address: CheckedAddress): string {
  return tlsIdentity(host, address).host;
}

/**
 * A socket for drivers that call `socket.connect(port, host)` themselves (pg does): whatever
 * host the driver passes, the socket connects to the checked address, so the driver never
 * gets a chance to look a name up again.
 */
export function pinnedSocket(address: CheckedAddress): Socket {
  const socket = new Socket();
  const connect = socket.connect.bind(socket);
  socket.connect = ((port: number) => connect({ port, host: address.address, family: address.family })) as Socket["connect"];
  return socket;
}
