/**
 * IP and CIDR parsing: every spelling the OS accepts as an address is read as the address the
 * kernel would connect to, and anything else is not an address (so it goes to DNS).
 */
import { isIPv6 } from "node:net";
import { describe, expect, it } from "vitest";
import {
  canonicalIp,
  cidrContains,
  embeddedIPv4,
  formatCidr,
  formatIp,
  parseCidr,
  parseIPv4,
  parseIPv6,
  parseIp,
  type IpAddress,
} from "../../src/net/ip";

const dotted = (value: number | null) => (value === null ? null : formatIp({ family: 4, value: BigInt(value) }));
const v6 = (text: string): IpAddress => ({ family: 6, value: parseIPv6(text)! });
const v4 = (text: string): IpAddress => ({ family: 4, value: BigInt(parseIPv4(text)!) });

describe("parseIPv4 (inet_aton)", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["127.1", "127.0.0.1"],
    ["127.0.1", "127.0.0.1"],
    ["127.1.256", "127.1.1.0"],
    ["10.65535", "10.0.255.255"],
    ["0x7f.1", "127.0.0.1"],
    ["0X7F.0.0.1", "127.0.0.1"],
    ["0x7f.0x0.0x0.0x1", "127.0.0.1"],
    ["0177.0.0.1", "127.0.0.1"],
    ["0177.1", "127.0.0.1"],
    ["00000177.0.0.01", "127.0.0.1"],
    ["017700000001", "127.0.0.1"],
    ["2130706433", "127.0.0.1"],
    ["0x7f000001", "127.0.0.1"],
    ["0x00007f000001", "127.0.0.1"],
    ["0xa9fea9fe", "169.254.169.254"],
    ["2852039166", "169.254.169.254"],
    ["0251.0376.0251.0376", "169.254.169.254"],
    ["169.254.43518", "169.254.169.254"],
    ["0", "0.0.0.0"],
    ["00", "0.0.0.0"],
    ["0x", "0.0.0.0"],
    ["0x0", "0.0.0.0"],
    ["4294967295", "255.255.255.255"],
    ["0xffffffff", "255.255.255.255"],
    ["037777777777", "255.255.255.255"],
    ["1.2.3.4", "1.2.3.4"],
  ])("reads %j as %s", (text, expected) => {
    expect(dotted(parseIPv4(text))).toBe(expected);
  });

  it.each([
    "",
    "1.2.3.4.5",
    "256.0.0.1",
    "1.256.0.1",
    "1.2.3.256",
    "1.2.65536",
    "1.16777216",
    "4294967296",
    "0x100000000",
    "040000000000",
    "08",
    "09.1.1.1",
    "0x1g",
    "1..1",
    "1.",
    ".1",
    "1.2.3.",
    "-1",
    "+1",
    " 1",
    "1 ",
    "1e3",
    "0b1",
    "\uff11\uff12\uff17.0.0.1",
    "localhost",
    "127.0.0.1x",
    "9".repeat(200),
  ])("does not read %j as an address", (text) => {
    expect(parseIPv4(text)).toBeNull();
  });
});

describe("parseIPv6 (inet_pton)", () => {
  it.each([
    ["::", "::"],
    ["::1", "::1"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1::", "1::"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["2001:0DB8::0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:0:0:1::1", "2001:0:0:1::1"],
    ["::ffff:127.0.0.1", "::ffff:127.0.0.1"],
    ["::ffff:7f00:1", "::ffff:127.0.0.1"],
    ["0::ffff:7f00:0001", "::ffff:127.0.0.1"],
    ["::127.0.0.1", "::7f00:1"],
    ["64:ff9b::169.254.169.254", "64:ff9b::a9fe:a9fe"],
    ["fe80::1%eth0", "fe80::1"],
    ["fe80::1%25", "fe80::1"],
  ])("reads %j as %s", (text, expected) => {
    expect(formatIp({ family: 6, value: parseIPv6(text)! })).toBe(expected);
  });

  it.each([
    "",
    ":",
    ":::",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7::8",
    "1::2::3",
    "12345::",
    "g::",
    ":1",
    "1:",
    "::ffff:127.1",
    "::ffff:01.2.3.4",
    "::ffff:256.0.0.1",
    "::1.2.3.4:5",
    "1.2.3.4",
    "fe80::1%",
    "fe80::1%eth0/1",
    "[::1]",
  ])("does not read %j as an address", (text) => {
    expect(parseIPv6(text)).toBeNull();
  });

  it("agrees with Node's own IPv6 check on every case above", () => {
    const cases = ["::", "::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::ffff:127.0.0.1", "1::2::3", ":::", "::ffff:127.1", "12345::", "1:2:3:4:5:6:7::8"];
    for (const text of cases) expect(parseIPv6(text) !== null, text).toBe(isIPv6(text));
  });
});

describe("parseIp", () => {
  it("reads either family, and IPv6 in URL brackets", () => {
    expect(parseIp("127.1")).toEqual({ family: 4, value: 0x7f000001n });
    expect(parseIp("[::1]")).toEqual({ family: 6, value: 1n });
    expect(parseIp("::1")).toEqual({ family: 6, value: 1n });
  });

  it.each(["[127.0.0.1]", "[::1", "::1]", "[]", "db.example.com", "", "[fe80::1%eth0"])("does not read %j", (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe("canonicalIp and embeddedIPv4", () => {
  it("turns IPv4-mapped IPv6 into the IPv4 address it is on the wire", () => {
    expect(canonicalIp(v6("::ffff:7f00:1"))).toEqual({ family: 4, value: 0x7f000001n });
    expect(canonicalIp(v6("::1"))).toEqual(v6("::1"));
    expect(canonicalIp(v4("10.0.0.1"))).toEqual(v4("10.0.0.1"));
  });

  it.each([
    ["::ffff:10.1.2.3", ["10.1.2.3"]],
    ["::10.1.2.3", ["10.1.2.3"]],
    ["64:ff9b::10.1.2.3", ["10.1.2.3"]],
    ["64:ff9b:1::a01:203", ["10.1.2.3"]],
    ["2002:a01:203::1", ["10.1.2.3"]],
    ["2001:0:4136:e378:8000:63bf:3fff:fdd2", ["65.54.227.120", "192.0.2.45"]],
    ["::1", []],
    ["::", []],
    ["2001:db8::1", []],
  ])("finds the IPv4 addresses %s carries", (text, expected) => {
    expect(embeddedIPv4(v6(text)).map(formatIp)).toEqual(expected);
  });

  it("finds none in an IPv4 address", () => {
    expect(embeddedIPv4(v4("10.0.0.1"))).toEqual([]);
  });
});

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    [" 192.168.0.0/16 ", "192.168.0.0/16"],
    ["127.0.0.1", "127.0.0.1/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["fd00::/8", "fd00::/8"],
    ["FE80::/10", "fe80::/10"],
    ["::1", "::1/128"],
    ["::/0", "::/0"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
  ])("reads %j as %s", (text, expected) => {
    expect(formatCidr(parseCidr(text))).toBe(expected);
  });

  it.each([
    ["10.0.0.1/8", /host bits set: did you mean 10\.0\.0\.0\/8\?/],
    ["fd00::1/8", /did you mean fd00::\/8/],
    ["10.0.0.0/33", /prefix is a whole number from 0 to 32/],
    ["fd00::/129", /from 0 to 128/],
    ["10.0.0.0/", /prefix/],
    ["10.0.0.0/08", /prefix/],
    ["10.0.0.0/-1", /prefix/],
    ["10.0.0.0/8/8", /prefix/],
    ["/8", /not an IP range/],
    ["127.1/32", /not an IP range/],
    ["0x7f.0.0.1", /not an IP range/],
    ["10.0.0.0.0/8", /not an IP range/],
    ["fe80::1%eth0/64", /not an IP range/],
    ["example.com/8", /not an IP range/],
    ["", /not an IP range/],
  ])("refuses %j, saying why", (text, reason) => {
    expect(() => parseCidr(text)).toThrow(reason);
  });
});

describe("cidrContains", () => {
  it("matches addresses inside the range and its edges only", () => {
    const range = parseCidr("172.16.0.0/12");
    expect(cidrContains(range, v4("172.16.0.0"))).toBe(true);
    expect(cidrContains(range, v4("172.31.255.255"))).toBe(true);
    expect(cidrContains(range, v4("172.32.0.0"))).toBe(false);
    expect(cidrContains(range, v4("172.15.255.255"))).toBe(false);
  });

  it("matches everything with /0 and one address with a full prefix", () => {
    expect(cidrContains(parseCidr("0.0.0.0/0"), v4("203.0.113.9"))).toBe(true);
    expect(cidrContains(parseCidr("::/0"), v6("2001:db8::1"))).toBe(true);
    expect(cidrContains(parseCidr("127.0.0.1/32"), v4("127.0.0.1"))).toBe(true);
    expect(cidrContains(parseCidr("127.0.0.1/32"), v4("127.0.0.2"))).toBe(false);
    expect(cidrContains(parseCidr("fe80::/10"), v6("febf:ffff::1"))).toBe(true);
    expect(cidrContains(parseCidr("fe80::/10"), v6("fec0::1"))).toBe(false);
  });

  it("never matches across families", () => {
    expect(cidrContains(parseCidr("::/0"), v4("10.0.0.1"))).toBe(false);
    expect(cidrContains(parseCidr("0.0.0.0/0"), v6("::1"))).toBe(false);
  });
});
