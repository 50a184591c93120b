import { describe, expect, it } from "vitest";
import { addressSubject } from "../../src/net/address-subject";

describe("the subject of a per-address limit", () => {
  it.each([
    ["203.0.113.9", "203.0.113.9"],
    ["::ffff:203.0.113.9", "203.0.113.9"],
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::1", "2001:db8:1:2::/64"],
    ["2001:db8:1:3::1", "2001:db8:1:3::/64"],
    ["::1", "::/64"],
  ])("%s counts as %s", (address, subject) => {
    expect(addressSubject(address)).toBe(subject);
  });

  it("counts an unknown address as one subject", () => {
    expect(addressSubject(null)).toBe("unknown");
  });
});
