/**
 * What production denies besides the mode's ranges (DESIGN.md, "Egress in production"): the
 * machine's own loopback and every address of Patchbay's own database, so a tenant's connection
 * test cannot probe the host it runs on or guess the database's passwords. PATCHBAY_EGRESS_ALLOW
 * lifts either, for an operator who means it.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

export interface DeniedRange {
  cidr: string;
  reason: string;
}

export const OWN_DATABASE_REASON = "the address of this Patchbay server's own database";

const LOOPBACK: DeniedRange[] = [
  { cidr: "127.0.0.0/8", reason: "a loopback address (this server's own machine)" },
  { cidr: "::1/128", reason: "a loopback address (this server's own machine)" },
];

/** The ranges production denies, given the database URL the server uses. */
export async function productionDenials(
  databaseUrl: string,
  resolve: (host: string) => Promise<string[]> = resolveAll,
): Promise<DeniedRange[]> {
  const host = new URL(databaseUrl).hostname.replace(/^\[|\]$/g, "");
  const addresses = host ? (isIP(host) ? [host] : await resolve(host).catch(() => [])) : [];
  const database = addresses.map((address) => ({
    cidr: `${address}/${isIP(address) === 6 ? 128 : 32}`,
    reason: OWN_DATABASE_REASON,
  }));
  // The database first: when it is on loopback too, the message names the more specific reason.
  return [...database, ...LOOPBACK];
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((answer) => answer.address);
}
