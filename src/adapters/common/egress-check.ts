/**
 * The first step of every networked test: ask the egress module for the checked address of
 * the host the user typed, turning a refusal into the outcome's failure. What follows
 * connects to that address only (DESIGN.md, "Outbound connections").
 */
import { Socket } from "node:net";
import { parseIp } from "../../net/ip";
import type { CheckedAddress, TestContext } from "../types";
import { egressFailure, resolveChecked } from "./checked-connect";
import { socketHost } from "./host";
import type { Failure } from "./network-errors";

/** The checked address of `host`, or the failure to report (nothing has been sent then). */
export async function checkEgress(ctx: TestContext, host: string): Promise<CheckedAddress | Failure> {
  try {
    return await resolveChecked(ctx, host);
  } catch (error) {
    const refused = egressFailure(error);
    if (refused) return refused;
    if (ctx.signal.aborted) {
      return { code: "TIMEOUT", message: `Resolving ${socketHost(host)} did not finish within ${Math.round(ctx.timeoutMs)} ms.` };
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
  return parseIp(socketHost(host)) ? address.address : socketHost(host);
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
