/** Secret values never leave an adapter in a message, in any of the spellings that are cheap to spot. */
import { describe, expect, it } from "vitest";
import { failed } from "../../src/adapters/common/outcome";
import { REDACTED, scrubSecrets } from "../../src/adapters/common/scrub";

describe("scrubSecrets", () => {
  const secret = "s3cret pw/+&=";

  it.each([
    ["as typed", secret],
    ["percent-encoded", encodeURIComponent(secret)],
    ["form-encoded", encodeURIComponent(secret).replace(/%20/g, "+")],
    ["in base64", Buffer.from(secret).toString("base64")],
    ["in base64url", Buffer.from(secret).toString("base64url")],
    ["JSON-escaped", JSON.stringify(secret).slice(1, -1)],
  ])("removes a secret %s", (_how, spelling) => {
    const scrubbed = scrubSecrets(`before ${spelling} after`, [secret]);
    expect(scrubbed).toBe(`before ${REDACTED} after`);
  });

  it("removes a longer secret whole when it contains a shorter one", () => {
    expect(scrubSecrets("token=abcdef123", ["abcd", "abcdef123"])).toBe(`token=${REDACTED}`);
  });

  it("removes a very short secret only where it stands alone", () => {
    expect(scrubSecrets("password p was accepted", ["p"])).toBe(`password ${REDACTED} was accepted`);
  });
});

describe("failed outcomes", () => {
  it("are scrubbed, stripped of control characters and bounded in length", () => {
    const outcome = failed("UNKNOWN", `bad\u0000\u001b[31m hunter2 ${"x".repeat(1_000)}`, ["hunter2"]);
    expect(outcome.ok).toBe(false);
    expect(outcome.message).not.toContain("hunter2");
    expect(outcome.message).not.toMatch(/[\u0000-\u001f]/);
    expect(outcome.message.length).toBeLessThanOrEqual(500);
  });
});
