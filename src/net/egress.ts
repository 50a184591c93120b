/**
 * The one way out to the network for connection tests (DESIGN.md, "Outbound connections").
 * A host is resolved once, every address it resolves to is checked against the policy, and
 * the caller connects to the address returned here, never looking the name up again, so a
 * DNS answer cannot change between the check and the connection.
 *
 * The policy: the mode's ranges are denied (default: link-local, cloud metadata, "this
 * network", multicast, broadcast and reserved; strict adds loopback, private, CGNAT and
 * unique-local); PATCHBAY_EGRESS_ALLOW lifts the mode's denial for its ranges;
 * PATCHBAY_EGRESS_DENY denies in every mode, and wins over the allow list. An IPv6 address
 * that carries an IPv4 one (mapped, NAT64, 6to4, Teredo) is denied when either is.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import type { CheckedAddress, Egress } from "../adapters/types";
import {
  canonicalIp,
  cidrContains,
  CidrSet,
  embeddedIPv4,
  formatIp,
  parseCidr,
  parseIp,
  type Cidr,
  type IpAddress,
} from "./ip";

export type EgressMode = "default" | "strict";

export type Lookup = (host: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;

export interface EgressPolicy {
  mode: EgressMode;
  /** CIDRs allowed even where the mode denies them (PATCHBAY_EGRESS_ALLOW). */
  allow: string[];
  /** CIDRs denied in every mode, allow list or not (PATCHBAY_EGRESS_DENY). */
  deny: string[];
  /**
   * More ranges denied like the mode's (the allow list lifts them), each with what it is:
   * production adds loopback and the database's own addresses (net/production-egress.ts).
   */
  denied?: Array<{ cidr: string; reason: string }>;
  /** How names are resolved; dns.lookup (getaddrinfo, so /etc/hosts too) by default. */
  lookup?: Lookup;
}

export class EgressError extends Error {
  constructor(
    readonly code: "EGRESS_DENIED" | "DNS_ERROR",
    message: string,
    /** For EGRESS_DENIED: what the address is, e.g. "a loopback address". */
    readonly reason?: string,
  ) {
    super(message);
    this.name = "EgressError";
  }
}

export type Verdict = { allowed: true } | { allowed: false; reason: string };

/** An Egress that can also say why it would refuse an address, for messages and tests. */
export interface EgressChecker extends Egress {
  /** The verdict on one IP literal in any spelling; null when it is not an IP literal. */
  verdict(address: string): Verdict | null;
}

interface Rule {
  cidr: Cidr;
  /** What an address in the range is, as the end of "… is <reason>". */
  reason: string;
}

function rules(entries: Array<[string, string]>): Rule[] {
  return entries.map(([cidr, reason]) => ({ cidr: parseCidr(cidr), reason }));
}

/** Denied in every mode. More specific ranges come first, so they name the address. */
const DEFAULT_DENIED = rules([
  ["169.254.169.254/32", "the cloud metadata service address"],
  ["169.254.170.2/32", "the container credentials service address"],
  ["100.100.100.200/32", "the cloud metadata service address (Alibaba Cloud)"],
  ["192.0.0.192/32", "the cloud metadata service address (Oracle Cloud)"],
  ["168.63.129.16/32", "the Azure platform service address"],
  ["fd00:ec2::254/128", "the cloud metadata service address (AWS, IPv6)"],
  ["fd20:ce::254/128", "the cloud metadata service address (Google Cloud, IPv6)"],
  ["0.0.0.0/8", "a \"this network\" address (0.0.0.0/8), which reaches this machine"],
  ["169.254.0.0/16", "a link-local address"],
  ["224.0.0.0/4", "a multicast address"],
  ["255.255.255.255/32", "the broadcast address"],
  ["240.0.0.0/4", "a reserved address"],
  ["::/128", "the unspecified address (::), which reaches this machine"],
  ["fe80::/10", "a link-local address"],
  ["ff00::/8", "a multicast address"],
]);

/** Denied in strict mode besides the default ones. */
const STRICT_DENIED = rules([
  ["127.0.0.0/8", "a loopback address"],
  ["::1/128", "a loopback address"],
  ["10.0.0.0/8", "a private address"],
  ["172.16.0.0/12", "a private address"],
  ["192.168.0.0/16", "a private address"],
  ["100.64.0.0/10", "a carrier-grade NAT address"],
  ["192.0.0.0/24", "a special-purpose address"],
  ["198.18.0.0/15", "a benchmarking address"],
  ["fc00::/7", "a unique local (private) address"],
  ["fec0::/10", "a site-local (private) address"],
]);

const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/;

const DENY_LISTED = "an address in a range the operator has denied";

export function createEgress(policy: EgressPolicy): EgressChecker {
  const allow = new CidrSet(parseList("PATCHBAY_EGRESS_ALLOW", policy.allow));
  const deny = new CidrSet(parseList("PATCHBAY_EGRESS_DENY", policy.deny));
  const extra = rules((policy.denied ?? []).map(({ cidr, reason }) => [cidr, reason]));
  const modeRules = [...extra, ...(policy.mode === "strict" ? [...DEFAULT_DENIED, ...STRICT_DENIED] : DEFAULT_DENIED)];
  const lookup = policy.lookup ?? defaultLookup;

  /** Why the address is denied, or null when it may be reached. */
  function denial(ip: IpAddress): string | null {
    const candidates = [ip, ...embeddedIPv4(ip)];
    const described = (candidate: IpAddress, reason: string) =>
      candidate === ip ? reason : `an IPv6 address that carries ${reason}`;
    for (const candidate of candidates) {
      if (deny.has(candidate)) return described(candidate, DENY_LISTED);
    }
    for (const candidate of candidates) {
      const rule = modeRules.find((r) => cidrContains(r.cidr, candidate));
      if (rule && !allow.has(candidate)) return described(candidate, rule.reason);
    }
    return null;
  }

  return {
    verdict(address) {
      const ip = parseIp(address);
      if (!ip) return null;
      const reason = denial(canonicalIp(ip));
      return reason === null ? { allowed: true } : { allowed: false, reason };
    },

    async resolve(host: string, signal: AbortSignal): Promise<CheckedAddress> {
      if (signal.aborted) throw abortReason(signal);
      const literal = parseIp(host);
      if (literal) {
        const ip = canonicalIp(literal);
        const reason = denial(ip);
        if (reason) throw denied(`${literalSubject(host, ip)} is ${reason}`, reason);
        return checked(ip);
      }

      const name = host.endsWith(".") ? host.slice(0, -1) : host;
      if (!HOST_NAME.test(name) || host.length > 253) {
        throw new EgressError("DNS_ERROR", `Could not resolve ${host}: it is not a valid host name.`);
      }
      let answers: Array<{ address: string; family: number }>;
      try {
        answers = await raceAbort(lookup(host), signal);
      } catch (error) {
        if (signal.aborted) throw abortReason(signal);
        throw dnsError(host, error);
      }
      const addresses: IpAddress[] = [];
      for (const answer of answers) {
        const ip = parseIp(answer.address);
        if (!ip) throw new EgressError("DNS_ERROR", `Could not resolve ${host}: the resolver returned an address that is not one.`);
        addresses.push(canonicalIp(ip));
      }
      if (addresses.length === 0) throw new EgressError("DNS_ERROR", `Could not resolve ${host}: no address found.`);
      // One denied address denies the name: the connection could otherwise be steered to it.
      for (const ip of addresses) {
        const reason = denial(ip);
        if (reason) throw denied(`${host} resolves to ${reason}`, reason);
      }
      return checked(addresses[0]);
    },
  };
}

function parseList(variable: string, entries: string[]): Cidr[] {
  return entries
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      try {
        return parseCidr(entry);
      } catch (error) {
        throw new Error(`${variable}: ${(error as Error).message}`);
      }
    });
}

function checked(ip: IpAddress): CheckedAddress {
  return { address: formatIp(ip), family: ip.family };
}

function literalSubject(typed: string, ip: IpAddress): string {
  const canonical = formatIp(ip);
  const bare = typed.startsWith("[") && typed.endsWith("]") ? typed.slice(1, -1) : typed;
  return bare === canonical ? canonical : `${typed} (${canonical})`;
}

function denied(what: string, reason: string): EgressError {
  return new EgressError(
    "EGRESS_DENIED",
    `${what}; this server's egress policy does not allow connecting to it, so nothing was sent.`,
    reason,
  );
}

const NO_SUCH_HOST = new Set(["ENOTFOUND", "EAI_NONAME", "EAI_NODATA", "ENODATA", "EAI_FAIL"]);

function dnsError(host: string, error: unknown): EgressError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "EAI_AGAIN") {
    return new EgressError("DNS_ERROR", `Could not resolve ${host}: the DNS lookup failed temporarily. Try again.`);
  }
  if (typeof code === "string" && !NO_SUCH_HOST.has(code)) {
    return new EgressError("DNS_ERROR", `Could not resolve ${host} (${code}).`);
  }
  return new EgressError("DNS_ERROR", `Could not resolve ${host}: no such host. Check the hostname.`);
}

async function defaultLookup(host: string): Promise<Array<{ address: string; family: 4 | 6 }>> {
  const answers = await dnsLookup(host, { all: true, verbatim: true });
  return answers.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

/** getaddrinfo cannot be cancelled; the caller stops waiting for it when the signal aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
