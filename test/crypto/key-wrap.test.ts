import { describe, expect, it } from "vitest";
import { KeyUnwrapError, generateDataKey, unwrapDataKey, wrapDataKey } from "../../src/crypto/key-wrap";

const kek = generateDataKey();

describe("data key wrapping", () => {
  it("generates distinct 32-byte data keys", () => {
    const a = generateDataKey();
    expect(a.length).toBe(32);
    expect(a.equals(generateDataKey())).toBe(false);
  });

  it("round-trips and never stores the data key in clear", () => {
    const dek = generateDataKey();
    const wrapped = wrapDataKey(kek, "ws_1", 1, dek);
    expect(wrapped.length).toBe(61);
    expect(wrapped.includes(dek)).toBe(false);
    expect(unwrapDataKey(kek, "ws_1", 1, wrapped).equals(dek)).toBe(true);
    expect(wrapDataKey(kek, "ws_1", 1, dek).equals(wrapped)).toBe(false); // fresh nonce
  });

  it("fails when moved to another workspace or version", () => {
    const wrapped = wrapDataKey(kek, "ws_1", 1, generateDataKey());
    expect(() => unwrapDataKey(kek, "ws_2", 1, wrapped)).toThrow(KeyUnwrapError);
    expect(() => unwrapDataKey(kek, "ws_1", 2, wrapped)).toThrow(KeyUnwrapError);
    expect(() => unwrapDataKey(kek, "ws_1", -1, wrapped)).toThrow(KeyUnwrapError);
  });

  it("fails with the wrong master key", () => {
    const wrapped = wrapDataKey(kek, "ws_1", 1, generateDataKey());
    expect(() => unwrapDataKey(generateDataKey(), "ws_1", 1, wrapped)).toThrow(KeyUnwrapError);
    expect(() => unwrapDataKey(Buffer.alloc(16), "ws_1", 1, wrapped)).toThrow(KeyUnwrapError);
  });

  it("fails on any flipped byte and on truncation or extension", () => {
    const dek = generateDataKey();
    const wrapped = wrapDataKey(kek, "ws_1", 1, dek);
    for (let i = 0; i < wrapped.length; i++) {
      const tampered = Buffer.from(wrapped);
      tampered[i] ^= 0x80;
      expect(() => unwrapDataKey(kek, "ws_1", 1, tampered)).toThrow(KeyUnwrapError);
    }
    expect(() => unwrapDataKey(kek, "ws_1", 1, wrapped.subarray(0, 60))).toThrow(KeyUnwrapError);
    expect(() => unwrapDataKey(kek, "ws_1", 1, Buffer.concat([wrapped, Buffer.of(0)]))).toThrow(KeyUnwrapError);
    expect(() => unwrapDataKey(kek, "ws_1", 1, Buffer.alloc(0))).toThrow(KeyUnwrapError);
  });

  it("does not put key material in the error message", () => {
    const dek = generateDataKey();
    const wrapped = wrapDataKey(kek, "ws_1", 1, dek);
    try {
      unwrapDataKey(generateDataKey(), "ws_1", 1, wrapped);
      expect.unreachable();
    } catch (err) {
      for (const k of [kek, dek]) {
        expect((err as Error).message).not.toContain(k.toString("hex"));
        expect((err as Error).message).not.toContain(k.toString("base64"));
      }
    }
  });

  it("refuses to wrap with keys of the wrong length", () => {
    expect(() => wrapDataKey(Buffer.alloc(16), "ws_1", 1, generateDataKey())).toThrow(RangeError);
    expect(() => wrapDataKey(kek, "ws_1", 1, Buffer.alloc(16))).toThrow(RangeError);
  });
});
