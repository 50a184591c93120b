/**
 * Production's extra egress denials, decided without sending a packet: the resolver is
 * injected and only verdicts are asked for.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import { createEgress } from "../../src/net/egress";
import { OWN_DATABASE_REASON, productionDenials } from "../../src/net/production-egress";

describe("production egress denials", () => {
  it("deny loopback and every address the database's host name resolves to", async () => {
    const denied = await productionDenials("postgresql://app:pw@db.internal:5432/patchbay", async (host) => {
      expect(host).toBe("db.internal");
      return ["10.20.30.40", "fd12::7"];
    });
    const egress = createEgress({ mode: "default", allow: [], deny: [], denied });
    expect(egress.verdict("10.20.30.40")).toEqual({ allowed: false, reason: OWN_DATABASE_REASON });
    expect(egress.verdict("fd12::7")).toEqual({ allowed: false, reason: OWN_DATABASE_REASON });
    expect(egress.verdict("::ffff:10.20.30.40")).toMatchObject({ allowed: false });
    expect(egress.verdict("127.0.0.1")).toMatchObject({ allowed: false, reason: expect.stringMatching(/loopback/) });
    expect(egress.verdict("0x7f.1")).toMatchObject({ allowed: false });
    expect(egress.verdict("::1")).toMatchObject({ allowed: false });
    expect(egress.verdict("10.20.30.41")).toEqual({ allowed: true });
  });

  it("take a database given as an address literal as it is", async () => {
    const denied = await productionDenials("postgresql://app:pw@[2001:db8::5]:5432/patchbay", async () => {
      throw new Error("must not resolve a literal");
    });
    expect(denied[0]).toEqual({ cidr: "2001:db8::5/128", reason: OWN_DATABASE_REASON });
  });

  it("can be lifted by PATCHBAY_EGRESS_ALLOW", async () => {
    const denied = await productionDenials("postgresql://app:pw@10.20.30.40/patchbay");
    const egress = createEgress({ mode: "default", allow: ["10.20.30.40/32", "127.0.0.0/8"], deny: [], denied });
    expect(egress.verdict("10.20.30.40")).toEqual({ allowed: true });
    expect(egress.verdict("127.0.0.1")).toEqual({ allowed: true });
  });
});

describe("the settings of issue 7", () => {
  it("default the sign-up mode by environment", () => {
    expect(loadConfig({}).signUp).toBe("open");
    expect(loadConfig({ NODE_ENV: "production" }).signUp).toBe("invite");
    expect(loadConfig({ NODE_ENV: "production", PATCHBAY_SIGNUP: "open" }).signUp).toBe("open");
    expect(() => loadConfig({ PATCHBAY_SIGNUP: "everyone" })).toThrow(/open, invite or closed/);
  });

  it("read PATCHBAY_TRUST_PROXY as a number of proxies, 1 as before", () => {
    expect(loadConfig({}).trustedProxies).toBe(0);
    expect(loadConfig({ PATCHBAY_TRUST_PROXY: "1" }).trustedProxies).toBe(1);
    expect(loadConfig({ PATCHBAY_TRUST_PROXY: "2" }).trustedProxies).toBe(2);
    expect(() => loadConfig({ PATCHBAY_TRUST_PROXY: "yes" })).toThrow(/PATCHBAY_TRUST_PROXY/);
  });
});
