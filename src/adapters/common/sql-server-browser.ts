/**
 * Finds the TCP port of a named SQL Server instance (`host\SQLEXPRESS`) by asking the SQL
 * Server Browser service on UDP 1434 ([MC-SQLR] CLNT_UCAST_INST), at an address the egress
 * module already checked. tedious can do this itself, but only with its own DNS lookup, so the
 * mssql adapter asks here first and hands tedious the port. Only the port number is taken
 * from the answer; nothing else the Browser says is kept or shown.
 */
import { createSocket } from "node:dgram";
import type { CheckedAddress } from "../types";

export const SQL_BROWSER_PORT = 1434;
const CLNT_UCAST_INST = 0x04;
const SVR_RESP = 0x05;
/** UDP may drop the request or the answer; it is sent again this often until the signal aborts. */
const RESEND_MS = 1_000;

/** An instance name as SQL Server allows it (and safe to put in a one-byte-per-char request). */
export const INSTANCE_NAME = /^[A-Za-z_#][A-Za-z0-9_$#]{0,15}$/;

export class InstanceNotFound extends Error {
  constructor(readonly instance: string) {
    super(`instance ${instance} not found`);
    this.name = "InstanceNotFound";
  }
}

/**
 * The TCP port the Browser at `address` reports for `instance`. Rejects with InstanceNotFound
 * when the Browser answers without a TCP port for it, with the signal's reason when it aborts
 * first (the Browser is not running, or UDP 1434 is filtered: both look like silence).
 */
export function browseInstancePort(address: CheckedAddress, instance: string, signal: AbortSignal, port = SQL_BROWSER_PORT): Promise<number> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const socket = createSocket(address.family === 6 ? "udp6" : "udp4");
    const request = Buffer.concat([Buffer.from([CLNT_UCAST_INST]), Buffer.from(instance, "latin1"), Buffer.from([0])]);
    const send = () => socket.send(request, port, address.address, () => {});
    const timer = setInterval(send, RESEND_MS);
    const finish = (settle: () => void) => {
      clearInterval(timer);
      signal.removeEventListener("abort", onAbort);
      socket.close();
      settle();
    };
    const onAbort = () => finish(() => reject(signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    // ICMP port unreachable shows up as ECONNREFUSED on some systems; keep waiting for the deadline.
    socket.on("error", () => {});
    socket.on("message", (message, from) => {
      if (from.address !== address.address || from.port !== port) return;
      const found = parseInstancePort(message, instance);
      if (found === undefined) return;
      finish(() => (found === null ? reject(new InstanceNotFound(instance)) : resolve(found)));
    });
    send();
  });
}

/**
 * The TCP port of `instance` in an SVR_RESP message; null when the answer lists no TCP port
 * for it, undefined when the message is not an SVR_RESP at all (ignored, like noise).
 */
export function parseInstancePort(message: Buffer, instance: string): number | null | undefined {
  if (message.length < 3 || message[0] !== SVR_RESP) return undefined;
  const size = message.readUInt16LE(1);
  const text = message.subarray(3, 3 + size).toString("latin1");
  for (const entry of text.split(";;")) {
    const parts = entry.split(";");
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < parts.length; i += 2) fields.set(parts[i].toLowerCase(), parts[i + 1]);
    if ((fields.get("instancename") ?? "").toUpperCase() !== instance.toUpperCase()) continue;
    const tcp = fields.get("tcp");
    const port = tcp && /^\d{1,5}$/.test(tcp) ? Number(tcp) : NaN;
    return port >= 1 && port <= 65535 ? port : null;
  }
  return null;
}
