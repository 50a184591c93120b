/**
 * The egress policy: every spelling of a denied address is denied, names are resolved once
 * and denied when any address they resolve to is, the allow and deny lists work as the
 * operator expects, and a denied test never opens a connection.
 */
import { describe, expect, it } from "vitest";
import { httpAdapter } from "../../src/adapters/http";
import { postgresAdapter } from "../../src/adapters/postgres";
import type { ConnectionSettings } from "../../src/adapters/types";
import { createEgress, EgressError, type EgressPolicy, type Lookup } from "../../src/net/egress";
import { testContext } from "../adapters/support/context";
import { testLookup } from "../support/lookup";
import { silentServer } from "../adapters/support/fake-servers";
import { respond, startHttpServer } from "../adapters/support/http-servers";

const egress = (policy: Partial<EgressPolicy> = {}) => createEgress({ mode: "default", allow: [], deny: [], ...policy });
const strict = (policy: Partial<EgressPolicy> = {}) => egress({ mode: "strict", ...policy });
const signal = () => AbortSignal.timeout(5_000);

async function refusal(promise: Promise<unknown>): Promise<EgressError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EgressError);
  return error as EgressError;
}

const LOOPBACK_SPELLINGS = [
  "127.0.0.1",
  "127.1",
  "127.0.1",
  "0x7f.1",
  "0x7F.0.0.1",
  "0177.0.0.1",
  "0177.1",
  "017700000001",
  "2130706433",
  "0x7f000001",
  "127.255.255.254",
  "::1",
  "[::1]",
  "0:0:0:0:0:0:0:1",
  "::ffff:127.0.0.1",
  "[::ffff:127.0.0.1]",
  "::ffff:7f00:1",
  "0::FFFF:7F00:0001",
  "::127.0.0.1",
  "64:ff9b::127.0.0.1",
  "64:ff9b::7f00:1",
  "2002:7f00:1::",
];

const METADATA_SPELLINGS = [
  "169.254.169.254",
  "169.254.43518",
  "0xa9fea9fe",
  "2852039166",
  "0251.0376.0251.0376",
  "0xa9.0xfe.0xa9.0xfe",
  "::ffff:169.254.169.254",
  "::ffff:a9fe:a9fe",
  "[::ffff:a9fe:a9fe]",
  "64:ff9b::a9fe:a9fe",
  "2002:a9fe:a9fe::1",
  "fd00:ec2::254",
  "[fd00:ec2::254]",
  "100.100.100.200",
  "169.254.170.2",
];

describe("the default mode", () => {
  it.each(METADATA_SPELLINGS)("denies the metadata address spelled %j", async (host) => {
    const error = await refusal(egress().resolve(host, signal()));
    expect(error.code).toBe("EGRESS_DENIED");
    expect(error.message).toMatch(/metadata|container credentials/);
    expect(error.message).toMatch(/egress policy does not allow connecting to it, so nothing was sent/);
  });

  it.each([
    ["169.254.1.1", /link-local/],
    ["fe80::1", /link-local/],
    ["fe80::1%eth0", /link-local/],
    ["[fe80::abcd]", /link-local/],
    ["0.0.0.0", /this network/],
    ["0", /this network/],
    ["0x0", /this network/],
    ["0.1.2.3", /this network/],
    ["::", /unspecified/],
    ["[::]", /unspecified/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["ff02::1", /multicast/],
    ["255.255.255.255", /broadcast/],
    ["4294967295", /broadcast/],
    ["240.0.0.1", /reserved/],
    ["::ffff:0.0.0.0", /this network/],
    ["168.63.129.16", /Azure/],
  ])("denies %j (%s)", async (host, reason) => {
    const error = await refusal(egress().resolve(host, signal()));
    expect(error).toMatchObject({ code: "EGRESS_DENIED" });
    expect(error.message).toMatch(reason);
  });

  it.each([
    ["127.0.0.1", "127.0.0.1", 4],
    ["127.1", "127.0.0.1", 4],
    ["[::1]", "::1", 6],
    ["::ffff:127.0.0.1", "127.0.0.1", 4],
    ["10.1.2.3", "10.1.2.3", 4],
    ["192.168.0.10", "192.168.0.10", 4],
    ["8.8.8.8", "8.8.8.8", 4],
    ["2001:DB8::1", "2001:db8::1", 6],
    ["fd12::1", "fd12::1", 6],
  ])("allows %j as %s", async (host, address, family) => {
    expect(await egress().resolve(host, signal())).toEqual({ address, family });
  });
});

describe("strict mode", () => {
  it.each(LOOPBACK_SPELLINGS)("denies loopback spelled %j", async (host) => {
    const error = await refusal(strict().resolve(host, signal()));
    expect(error.code).toBe("EGRESS_DENIED");
    expect(error.message).toMatch(/loopback/);
  });

  it.each([
    ["10.0.0.1", /private/],
    ["012.1", /private/],
    ["172.16.0.1", /private/],
    ["172.31.255.255", /private/],
    ["192.168.1.1", /private/],
    ["::ffff:192.168.1.1", /private/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["100.127.255.255", /carrier-grade NAT/],
    ["fc00::1", /unique local/],
    ["fd12:3456::1", /unique local/],
    ["fec0::1", /site-local/],
    ["198.18.0.1", /benchmarking/],
    ["2001:0:4136:e378:8000:63bf:f5ff:fffe", /private/],
  ])("denies %j (%s)", async (host, reason) => {
    const error = await refusal(strict().resolve(host, signal()));
    expect(error.message).toMatch(reason);
  });

  it.each(["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "2606:4700::1111"])("allows the public address %j", async (host) => {
    await expect(strict().resolve(host, signal())).resolves.toMatchObject({ family: expect.any(Number) });
  });

  it("still denies what the default mode denies", async () => {
    for (const host of ["169.254.169.254", "0.0.0.0", "::"]) {
      await expect(strict().resolve(host, signal())).rejects.toMatchObject({ code: "EGRESS_DENIED" });
    }
  });
});

describe("the allow and deny lists", () => {
  it("lets PATCHBAY_EGRESS_ALLOW lift strict mode's denial for its range only", async () => {
    const policy = strict({ allow: ["127.0.0.1/32"] });
    expect(await policy.resolve("127.0.0.1", signal())).toEqual({ address: "127.0.0.1", family: 4 });
    expect(await policy.resolve("0x7f.1", signal())).toEqual({ address: "127.0.0.1", family: 4 });
    expect(await policy.resolve("::ffff:127.0.0.1", signal())).toEqual({ address: "127.0.0.1", family: 4 });
    await expect(policy.resolve("127.0.0.2", signal())).rejects.toMatchObject({ code: "EGRESS_DENIED" });
    await expect(policy.resolve("::1", signal())).rejects.toMatchObject({ code: "EGRESS_DENIED" });
  });

  it("can lift the default mode's denials too, when the operator says so", async () => {
    const policy = egress({ allow: ["169.254.10.0/24"] });
    expect(await policy.resolve("169.254.10.1", signal())).toEqual({ address: "169.254.10.1", family: 4 });
    await expect(policy.resolve("169.254.169.254", signal())).rejects.toMatchObject({ code: "EGRESS_DENIED" });
  });

  it("lets PATCHBAY_EGRESS_DENY deny in every mode, over the allow list", async () => {
    const policy = strict({ allow: ["10.0.0.0/8"], deny: ["10.0.0.5/32", "203.0.113.0/24"] });
    expect(await policy.resolve("10.0.0.6", signal())).toEqual({ address: "10.0.0.6", family: 4 });
    for (const host of ["10.0.0.5", "012.5", "::ffff:10.0.0.5", "2002:a00:5::1", "203.0.113.9"]) {
      const error = await refusal(policy.resolve(host, signal()));
      expect(error.message, host).toMatch(/range the operator has denied/);
    }
    await expect(egress({ deny: ["2001:db8::/32"] }).resolve("2001:db8::1", signal())).rejects.toMatchObject({ code: "EGRESS_DENIED" });
  });

  it("refuses invalid CIDRs when the policy is built, naming the variable", () => {
    expect(() => egress({ allow: ["10.0.0.1/8"] })).toThrow(/PATCHBAY_EGRESS_ALLOW: "10\.0\.0\.1\/8" has host bits set/);
    expect(() => egress({ deny: ["not-a-range"] })).toThrow(/PATCHBAY_EGRESS_DENY: "not-a-range" is not an IP range/);
    expect(() => egress({ deny: ["10.0.0.0/40"] })).toThrow(/PATCHBAY_EGRESS_DENY/);
    expect(() => egress({ allow: ["127.1/32"] })).toThrow(/PATCHBAY_EGRESS_ALLOW/);
    expect(() => egress({ allow: [" 10.0.0.0/8 ", ""] })).not.toThrow();
  });

  it("explains a verdict for an address", () => {
    expect(strict().verdict("0x7f.1")).toEqual({ allowed: false, reason: "a loopback address" });
    expect(strict().verdict("8.8.8.8")).toEqual({ allowed: true });
    expect(strict().verdict("db.example.com")).toBeNull();
  });
});

describe("host names", () => {
  function lookupOf(answers: Record<string, Array<{ address: string; family: 4 | 6 }>>): Lookup & { calls: string[] } {
    const calls: string[] = [];
    const lookup = async (host: string) => {
      calls.push(host);
      const found = answers[host];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return found;
    };
    return Object.assign(lookup, { calls });
  }

  it("resolves a name once and returns its first address", async () => {
    const lookup = lookupOf({ "api.example.test": [{ address: "203.0.113.7", family: 4 }, { address: "2001:db8::7", family: 6 }] });
    expect(await strict({ lookup }).resolve("api.example.test", signal())).toEqual({ address: "203.0.113.7", family: 4 });
    expect(lookup.calls).toEqual(["api.example.test"]);
  });

  it("denies a name when any address it resolves to is denied, without naming the address", async () => {
    const lookup = lookupOf({
      "db.internal.test": [{ address: "10.20.30.40", family: 4 }],
      "mixed.example.test": [{ address: "203.0.113.7", family: 4 }, { address: "127.0.0.1", family: 4 }],
      "mapped.example.test": [{ address: "::ffff:169.254.169.254", family: 6 }],
    });
    const internal = await refusal(strict({ lookup }).resolve("db.internal.test", signal()));
    expect(internal.message).toBe(
      "db.internal.test resolves to a private address; this server's egress policy does not allow connecting to it, so nothing was sent.",
    );
    expect(internal.message).not.toContain("10.20.30.40");
    await expect(strict({ lookup }).resolve("mixed.example.test", signal())).rejects.toMatchObject({ code: "EGRESS_DENIED" });
    await expect(egress({ lookup }).resolve("mapped.example.test", signal())).rejects.toMatchObject({ code: "EGRESS_DENIED" });
  });

  it("denies localhost in strict mode through the system resolver", async () => {
    const error = await refusal(strict().resolve("localhost", signal()));
    expect(error.message).toMatch(/^localhost resolves to a loopback address/);
  });

  it("reports names that do not resolve as DNS_ERROR", async () => {
    const lookup = lookupOf({ "empty.test": [], "odd.test": [{ address: "not-an-ip", family: 4 }] });
    await expect(egress({ lookup }).resolve("missing.test", signal())).rejects.toMatchObject({
      code: "DNS_ERROR",
      message: "Could not resolve missing.test: no such host. Check the hostname.",
    });
    await expect(egress({ lookup }).resolve("empty.test", signal())).rejects.toMatchObject({ code: "DNS_ERROR" });
    await expect(egress({ lookup }).resolve("odd.test", signal())).rejects.toMatchObject({ code: "DNS_ERROR" });
    const flaky: Lookup = async () => Promise.reject(Object.assign(new Error("timeout"), { code: "EAI_AGAIN" }));
    await expect(egress({ lookup: flaky }).resolve("flaky.test", signal())).rejects.toMatchObject({
      code: "DNS_ERROR",
      message: expect.stringMatching(/temporarily/),
    });
    await expect(egress({ lookup: testLookup }).resolve("no-such-host.invalid", signal())).rejects.toMatchObject({ code: "DNS_ERROR" });
  });

  it.each(["", "a b", "host/path", "user@host", "host:5432", "[db.example.com]", "-"])(
    "refuses %j as a host name without looking it up",
    async (host) => {
      const lookup = lookupOf({});
      await expect(egress({ lookup }).resolve(host, signal())).rejects.toMatchObject({ code: "DNS_ERROR" });
      expect(lookup.calls).toEqual([]);
    },
  );

  it("gives up on a lookup that hangs when the signal aborts", async () => {
    const hanging: Lookup = () => new Promise(() => {});
    const started = Date.now();
    const error = await egress({ lookup: hanging }).resolve("slow.test", AbortSignal.timeout(100)).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(EgressError);
    expect((error as Error).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("does not look anything up once the signal has aborted", async () => {
    const lookup = lookupOf({ "a.test": [{ address: "203.0.113.1", family: 4 }] });
    const aborted = AbortSignal.abort();
    await expect(egress({ lookup }).resolve("a.test", aborted)).rejects.toBeDefined();
    expect(lookup.calls).toEqual([]);
  });
});

describe("a denied test never opens a connection", () => {
  const base = (port: number): ConnectionSettings => ({
    host: "127.0.0.1",
    port,
    schema: "app",
    login: "app",
    password: "secret-password",
    extra: {},
  });

  it("for postgres in strict mode", async () => {
    const listener = await silentServer();
    try {
      const outcome = await postgresAdapter.test!(base(listener.port), testContext({ egress: strict() }));
      expect(outcome).toMatchObject({ ok: false, code: "EGRESS_DENIED" });
      expect(listener.accepted()).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it("for http in strict mode, by address and by a name that resolves to loopback", async () => {
    const listener = await startHttpServer((_req, res) => respond(res, 200));
    try {
      const lookup: Lookup = async () => [{ address: "127.0.0.1", family: 4 }];
      for (const host of ["127.0.0.1", "0x7f.1", "2130706433", "[::ffff:127.0.0.1]", "api.patchbay.invalid", "localhost"]) {
        const settings = { ...base(listener.port), schema: "http", login: null, password: null };
        const outcome = await httpAdapter.test!({ ...settings, host }, testContext({ egress: strict({ lookup }) }));
        expect(outcome, host).toMatchObject({ ok: false, code: "EGRESS_DENIED" });
      }
      expect(listener.connections()).toBe(0);

      // The control case: allowed by the allow list, the same test reaches the listener.
      const allowed = strict({ allow: ["127.0.0.1/32"] });
      const outcome = await httpAdapter.test!({ ...base(listener.port), schema: "http", login: null, password: null }, testContext({ egress: allowed }));
      expect(outcome).toMatchObject({ ok: true });
      expect(listener.connections()).toBe(1);
    } finally {
      await listener.close();
    }
  });
});
