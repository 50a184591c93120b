import fc from "fast-check";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { auditEventHash, canonicalForm, canonicalFormAround, canonicalJson, type ChainedFields, GENESIS_HASH } from "../../src/audit/chain-hash";

const event: ChainedFields = {
  chainId: "ws-1",
  seq: 7n,
  prevHash: GENESIS_HASH,
  id: "e-1",
  action: "connection.update",
  actorKind: "USER",
  actorId: "u-1",
  actorLabel: "ada@example.com",
  targetType: "Connection",
  targetId: "c-1",
  clientIp: "127.0.0.1",
  details: { name: "warehouse", changed: ["host", "password"] },
  at: new Date("2026-12-01T00:00:00.123Z"),
};

describe("the audit chain's canonical form", () => {
  it("is the documented JSON array, so a hash can be recomputed outside Patchbay", () => {
    const form = JSON.stringify([
      "patchbay-audit-v1", "ws-1", "7", GENESIS_HASH, "e-1", "connection.update", "USER", "u-1", "ada@example.com",
      "Connection", "c-1", "127.0.0.1", '{"changed":["host","password"],"name":"warehouse"}', "2026-12-01T00:00:00.123Z",
    ]);
    expect(auditEventHash(event)).toBe(createHash("sha256").update(form).digest("hex"));
  });

  it("does not depend on key order, and sorts keys by code unit rather than by locale", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: null }], c: "x" } })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":1}');
    // Locale collation would put "a" before "B"; code units put "B" (0x42) first.
    expect(canonicalJson({ a: 1, B: 2, _: 3 })).toBe('{"B":2,"_":3,"a":1}');
    expect(auditEventHash({ ...event, details: { changed: ["host", "password"], name: "warehouse" } })).toBe(auditEventHash(event));
  });

  it("changes with every field, the previous hash included", () => {
    const base = auditEventHash(event);
    const variants: Partial<ChainedFields>[] = [
      { chainId: "ws-2" }, { seq: 8n }, { prevHash: "1".repeat(64) }, { id: "e-2" }, { action: "connection.delete" },
      { actorKind: "API_TOKEN" }, { actorId: "u-2" }, { actorLabel: "eve@example.com" }, { targetType: null },
      { targetId: "c-2" }, { clientIp: null }, { details: { name: "warehouse" } }, { details: null },
      { at: new Date("2026-12-01T00:00:00.124Z") },
    ];
    for (const variant of variants) expect(auditEventHash({ ...event, ...variant }), JSON.stringify(Object.keys(variant))).not.toBe(base);
  });

  it("cannot be fooled by moving text between neighbouring fields", () => {
    expect(auditEventHash({ ...event, actorId: "u-1a", actorLabel: "da@example.com" })).not.toBe(
      auditEventHash({ ...event, actorId: "u-1", actorLabel: "ada@example.com" }),
    );
  });
});

describe("the canonical form with its position, link and target left open", () => {
  it("joined with their JSON strings is exactly the canonical form, whatever the other fields hold", () => {
    for (const actorLabel of ["ada@example.com", 'token "q\\uote" \\ back\tslash (pbt_ab…)', "émoji 😀 \u2028 sep", "\u0001\u001f ctl"]) {
      const full: ChainedFields = { ...event, actorLabel, clientIp: null, details: { name: 'n"1', alias: "ä" } };
      const [a, b, c, d] = canonicalFormAround(full);
      const joined = a + JSON.stringify(full.seq.toString()) + b + JSON.stringify(full.prevHash) + c + JSON.stringify(full.targetId) + d;
      expect(joined).toBe(canonicalForm(full));
    }
  });

  it("is exactly the canonical form for any field values (property)", () => {
    const text = fc.oneof(fc.string({ unit: "binary" }), fc.constantFrom("", "\u2028", '"', "\\", "\u0000x"));
    const nullable = fc.option(text, { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          chainId: text, id: text, action: text, actorKind: nullable, actorId: nullable, actorLabel: text, targetType: nullable,
          clientIp: nullable, details: fc.option(fc.dictionary(text, fc.oneof(text, fc.integer(), fc.boolean())), { nil: null }),
          at: fc.date({ noInvalidDate: true, min: new Date("1970-01-01"), max: new Date("2999-12-31") }),
          seq: fc.bigInt({ min: 1n, max: 2n ** 62n }), prevHash: text, targetId: nullable,
        }),
        (full) => {
          const [a, b, c, d] = canonicalFormAround(full);
          const joined = a + JSON.stringify(full.seq.toString()) + b + JSON.stringify(full.prevHash) + c + (full.targetId === null ? "null" : JSON.stringify(full.targetId)) + d;
          expect(joined).toBe(canonicalForm(full));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
