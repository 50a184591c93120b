/**
 * IP addresses and CIDR ranges, parsed the way the operating system parses them, so the
 * egress policy classifies `127.1`, `0x7f.1`, `017700000001`, `2130706433` and
 * `::ffff:127.0.0.1` as the loopback address the kernel would connect to, not as names.
 *
 * IPv4 follows glibc's inet_aton (1 to 4 parts, each decimal, octal with a leading 0, or hex
 * with 0x; the last part fills the remaining bytes). IPv6 follows inet_pton (a dotted quad is
 * allowed only as the last 32 bits, in strict decimal), plus URL brackets and a zone id.
 */

export interface IpAddress {
  family: 4 | 6;
  /** The address as an unsigned integer: 32 bits for IPv4, 128 for IPv6. */
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** The first address of the range (host bits zero). */
  network: bigint;
  prefix: number;
}

const BITS = { 4: 32, 6: 128 } as const;
const MAX_IPV4 = 0xffff_ffff;

/** Any spelling the OS accepts as an IP literal (brackets and zone ids allowed), or null. */
export function parseIp(text: string): IpAddress | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (bare !== text && !bare.includes(":")) return null; // brackets are for IPv6 only
  const v4 = bare === text ? parseIPv4(bare) : null;
  if (v4 !== null) return { family: 4, value: BigInt(v4) };
  const v6 = parseIPv6(bare);
  return v6 === null ? null : { family: 6, value: v6 };
}

/** inet_aton: `a.b.c.d`, `a.b.c` (c is 16 bits), `a.b` (b is 24 bits), `a` (32 bits). */
export function parseIPv4(text: string): number | null {
  // Long enough for any zero-padded spelling a person would type; a cap on the work done.
  if (text.length === 0 || text.length > 100) return null;
  const parts = text.split(".");
  if (parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    const value = parseIPv4Part(part);
    if (value === null) return null;
    values.push(value);
  }
  const last = values.pop()!;
  if (values.some((value) => value > 0xff)) return null;
  if (last > 2 ** (8 * (4 - values.length)) - 1) return null;
  return values.reduce((sum, value, index) => sum + value * 2 ** (24 - 8 * index), 0) + last;
}

function parseIPv4Part(part: string): number | null {
  let value: number;
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) {
    // A bare `0x` is 0, as URL parsers read it; glibc refuses it. Either way it is no name.
    value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
  } else if (/^0[0-7]*$/.test(part)) {
    value = parseInt(part, 8);
  } else if (/^[1-9][0-9]*$/.test(part)) {
    value = parseInt(part, 10);
  } else {
    return null;
  }
  return value > MAX_IPV4 ? null : value;
}

/** inet_pton for IPv6, with an optional `%zone` (which is dropped). */
export function parseIPv6(text: string): bigint | null {
  if (text.length === 0 || text.length > 100) return null;
  let address = text;
  const percent = address.indexOf("%");
  if (percent >= 0) {
    if (!/^[0-9A-Za-z_.-]+$/.test(address.slice(percent + 1))) return null;
    address = address.slice(0, percent);
  }
  // A trailing dotted quad stands for the last two groups.
  const lastColon = address.lastIndexOf(":");
  if (lastColon < 0) return null;
  const tail = address.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseDottedQuad(tail);
    if (v4 === null) return null;
    address = `${address.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }

  const halves = address.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const rest = halves.length === 2 ? (halves[1] === "" ? [] : halves[1].split(":")) : [];
  if (![...head, ...rest].every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return null;
  if (halves.length === 1 ? head.length !== 8 : head.length + rest.length > 7) return null;

  const groups = [...head, ...Array(8 - head.length - rest.length).fill("0"), ...rest];
  return groups.reduce((sum, group) => (sum << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** inet_pton's IPv4: exactly four decimal parts, no leading zeros. */
function parseDottedQuad(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9][0-9]{0,2})$/.test(part) && Number(part) <= 255)) {
    return null;
  }
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** The usual spelling: dotted quad, or RFC 5952 IPv6 (IPv4-mapped as `::ffff:a.b.c.d`). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return formatIPv4(Number(ip.value));
  const groups = Array.from({ length: 8 }, (_, index) => Number((ip.value >> BigInt(112 - 16 * index)) & 0xffffn));
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(Number(ip.value & 0xffff_ffffn))}`;
  }
  // The longest run of two or more zero groups becomes `::` (the first, on a tie).
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8; ) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > best.length) best = { start, length: end - start };
    start = end === start ? start + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join(".");
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is IPv4 on the wire; everything else is unchanged. */
export function canonicalIp(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return { family: 4, value: ip.value & 0xffff_ffffn };
  return ip;
}

/**
 * The IPv4 addresses an IPv6 address carries and may reach through a translator: IPv4-mapped
 * and IPv4-compatible (`::a.b.c.d`), NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48),
 * 6to4 (2002::/16) and Teredo (2001::/32, server and client).
 */
export function embeddedIPv4(ip: IpAddress): IpAddress[] {
  if (ip.family === 4) return [];
  const v = ip.value;
  const low32 = v & 0xffff_ffffn;
  const v4 = (value: bigint): IpAddress => ({ family: 4, value });
  if (v >> 32n === 0xffffn) return [v4(low32)];
  if (v >> 32n === 0n && v > 1n) return [v4(low32)];
  if (v >> 32n === 0x0064_ff9b_0000_0000_0000_0000n) return [v4(low32)];
  if (v >> 80n === 0x0064_ff9b_0001n) return [v4(low32)];
  if (v >> 112n === 0x2002n) return [v4((v >> 80n) & 0xffff_ffffn)];
  if (v >> 96n === 0x2001_0000n) return [v4((v >> 64n) & 0xffff_ffffn), v4(low32 ^ 0xffff_ffffn)];
  return [];
}

/**
 * A range in its usual notation (`10.0.0.0/8`, `fd00::/8`); a bare address is a range of one.
 * IPv4-mapped IPv6 ranges of /96 or longer become the IPv4 range they cover. Throws an Error
 * saying what is wrong: an address in another spelling, a prefix out of range, host bits set.
 */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf("/");
  const addressText = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const v4 = parseDottedQuad(addressText);
  const v6 = v4 === null && !addressText.includes("%") ? parseIPv6(addressText) : null;
  if (v4 === null && v6 === null) {
    throw new Error(`"${text}" is not an IP range: use a dotted-quad IPv4 or an IPv6 address, e.g. 10.0.0.0/8 or fd00::/8.`);
  }
  const family = v4 !== null ? 4 : 6;
  const bits = BITS[family];
  let prefix: number = bits;
  if (slash >= 0) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
      throw new Error(`"${text}" has an invalid prefix length: an IPv${family} prefix is a whole number from 0 to ${bits}.`);
    }
    prefix = Number(prefixText);
  }
  const network = v4 !== null ? BigInt(v4) : v6!;
  if (network & hostMask(bits, prefix)) {
    const first = network & ~hostMask(bits, prefix);
    throw new Error(`"${text}" has host bits set: did you mean ${formatIp({ family, value: first })}/${prefix}?`);
  }
  if (family === 6 && prefix >= 96 && network >> 32n === 0xffffn) {
    return { family: 4, network: network & 0xffff_ffffn, prefix: prefix - 96 };
  }
  return { family, network, prefix };
}

function hostMask(bits: number, prefix: number): bigint {
  return (1n << BigInt(bits - prefix)) - 1n;
}

/**
 * Ranges to match addresses against, both parsed here (parseCidr, parseIp) the way the OS
 * reads a spelling. A range and an address of different families never match: an IPv4-mapped
 * IPv6 address is not matched against IPv4 ranges, which the egress policy decides on its own
 * (embeddedIPv4).
 */
export class CidrSet {
  private readonly cidrs: readonly Cidr[];

  constructor(cidrs: Iterable<Cidr>) {
    this.cidrs = [...cidrs];
  }

  has(ip: IpAddress): boolean {
    return this.cidrs.some((cidr) => cidrContains(cidr, ip));
  }
}

/**
 * Whether the range holds the address (a range and an address of different families never
 * match): the address's first `prefix` bits are the network's. Integer arithmetic on the
 * parsed values, so checking a test's address against every rule costs microseconds; a
 * BlockList per rule formatted and re-parsed the address for each (issue 10, P3).
 */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const hostBits = BigInt(BITS[cidr.family] - cidr.prefix);
  return ip.value >> hostBits === cidr.network >> hostBits;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.network })}/${cidr.prefix}`;
}
