/**
 * Whom a per-address limit counts: an IPv4 address as it is, an IPv6 address by its /64.
 * One IPv6 subscriber usually holds a whole /64 (often far more), so counting single IPv6
 * addresses would let one client rotate through 2^64 fresh budgets. IPv4 carried in IPv6
 * (`::ffff:203.0.113.9`) counts as the IPv4 address.
 */
import { canonicalIp, formatCidr, formatIp, parseIp } from "./ip";

const IPV6_SUBJECT_PREFIX = 64;

export function addressSubject(address: string | null): string {
  if (!address) return "unknown";
  const parsed = parseIp(address);
  if (!parsed) return address;
  const ip = canonicalIp(parsed);
  if (ip.family === 4) return formatIp(ip);
  const hostBits = BigInt(128 - IPV6_SUBJECT_PREFIX);
  return formatCidr({ family: 6, network: (ip.value >> hostBits) << hostBits, prefix: IPV6_SUBJECT_PREFIX });
}
