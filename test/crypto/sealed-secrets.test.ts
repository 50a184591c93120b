import { describe, expect, it } from "vitest";
import { generateDataKey } from "../../src/crypto/key-wrap";
import {
  SecretDecryptionError,
  openSecrets,
  sealSecrets,
  sealedKeyVersion,
  type SealContext,
} from "../../src/crypto/sealed-secrets";

const dek = generateDataKey();
const ctx: SealContext = { workspaceId: "ws_1", connectionId: "conn_1" };
const secrets = { password: "correct horse battery staple", "extra.api_key": "sk-live-ünïcødé-😀" };

function expectFailure(fn: () => unknown, reason: SecretDecryptionError["reason"]) {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SecretDecryptionError);
  expect((caught as SecretDecryptionError).reason).toBe(reason);
  // Never leak the plaintext or the key in the message.
  expect((caught as Error).message).not.toContain(secrets.password);
  expect((caught as Error).message).not.toContain(dek.toString("hex"));
  expect((caught as Error).message).not.toContain(dek.toString("base64"));
}

describe("sealed secrets", () => {
  it("round-trips and records the key version in the header", () => {
    const blob = sealSecrets(dek, 7, ctx, secrets);
    expect(openSecrets(dek, blob, ctx)).toEqual(secrets);
    expect(sealedKeyVersion(blob)).toBe(7);
    expect([...blob.subarray(0, 6)]).toEqual([0x01, 0x01, 0, 0, 0, 7]);
    expect(blob.length).toBe(6 + 12 + Buffer.byteLength(JSON.stringify(secrets)) + 16);
  });

  it("round-trips an empty secret set", () => {
    expect(openSecrets(dek, sealSecrets(dek, 1, ctx, {}), ctx)).toEqual({});
  });

  it("uses a fresh nonce each time and does not contain the plaintext", () => {
    const a = sealSecrets(dek, 1, ctx, secrets);
    const b = sealSecrets(dek, 1, ctx, secrets);
    expect(a.equals(b)).toBe(false);
    expect(a.subarray(6, 18).equals(b.subarray(6, 18))).toBe(false);
    for (const value of ["correct horse", "battery", "password", "sk-live"]) {
      expect(a.includes(Buffer.from(value, "utf8"))).toBe(false);
    }
  });

  it("fails to open under another connection id or workspace id", () => {
    const blob = sealSecrets(dek, 1, ctx, secrets);
    expectFailure(() => openSecrets(dek, blob, { ...ctx, connectionId: "conn_2" }), "AUTHENTICATION_FAILED");
    expectFailure(() => openSecrets(dek, blob, { ...ctx, workspaceId: "ws_2" }), "AUTHENTICATION_FAILED");
  });

  it("length-prefixes the ids, so shifting characters between them does not open", () => {
    const blob = sealSecrets(dek, 1, { workspaceId: "ab", connectionId: "c" }, secrets);
    expectFailure(() => openSecrets(dek, blob, { workspaceId: "a", connectionId: "bc" }), "AUTHENTICATION_FAILED");
  });

  it("fails with another data key", () => {
    const blob = sealSecrets(dek, 1, ctx, secrets);
    expectFailure(() => openSecrets(generateDataKey(), blob, ctx), "AUTHENTICATION_FAILED");
  });

  it("fails when the key version in the header is relabelled", () => {
    const blob = sealSecrets(dek, 1, ctx, secrets);
    const relabelled = Buffer.from(blob);
    relabelled.writeUInt32BE(2, 2);
    expect(sealedKeyVersion(relabelled)).toBe(2);
    expectFailure(() => openSecrets(dek, relabelled, ctx), "AUTHENTICATION_FAILED");
  });

  it("fails when any single byte is flipped (header, nonce, ciphertext, tag)", () => {
    const blob = sealSecrets(dek, 3, ctx, secrets);
    for (let i = 0; i < blob.length; i++) {
      const tampered = Buffer.from(blob);
      tampered[i] ^= 0x01;
      // Bytes 0 and 1 are the format and algorithm: flipping them is caught before decryption.
      const expected = i < 2 ? "UNSUPPORTED_FORMAT" : "AUTHENTICATION_FAILED";
      expectFailure(() => openSecrets(dek, tampered, ctx), expected);
    }
  });

  it("fails on a truncated tag and on blobs too short to hold nonce and tag", () => {
    const blob = sealSecrets(dek, 1, ctx, secrets);
    for (const cut of [1, 4, 8, 12, 15]) {
      // Dropping tag bytes shifts the boundary; GCM with authTagLength 16 must not accept a short tag.
      expectFailure(() => openSecrets(dek, blob.subarray(0, blob.length - cut), ctx), "AUTHENTICATION_FAILED");
    }
    expectFailure(() => openSecrets(dek, blob.subarray(0, 6 + 12 + 15), ctx), "MALFORMED");
    expectFailure(() => openSecrets(dek, blob.subarray(0, 5), ctx), "MALFORMED");
    expectFailure(() => openSecrets(dek, Buffer.alloc(0), ctx), "MALFORMED");
  });

  it("accepts exactly header+nonce+tag bytes only if authentic (empty ciphertext)", () => {
    const blob = sealSecrets(dek, 1, ctx, secrets);
    const headerNonceTag = Buffer.concat([blob.subarray(0, 18), blob.subarray(blob.length - 16)]);
    expectFailure(() => openSecrets(dek, headerNonceTag, ctx), "AUTHENTICATION_FAILED");
  });

  it("rejects unknown format and algorithm bytes", () => {
    const blob = sealSecrets(dek, 1, ctx, secrets);
    const format2 = Buffer.from(blob);
    format2[0] = 0x02;
    const alg2 = Buffer.from(blob);
    alg2[1] = 0x02;
    expectFailure(() => openSecrets(dek, format2, ctx), "UNSUPPORTED_FORMAT");
    expectFailure(() => openSecrets(dek, alg2, ctx), "UNSUPPORTED_FORMAT");
    expectFailure(() => sealedKeyVersion(format2), "UNSUPPORTED_FORMAT");
    expectFailure(() => sealedKeyVersion(Buffer.of(1, 1, 0)), "MALFORMED");
  });

  it("refuses a data key of the wrong length", () => {
    expect(() => sealSecrets(Buffer.alloc(16), 1, ctx, secrets)).toThrow(RangeError);
    expect(() => openSecrets(Buffer.alloc(16), sealSecrets(dek, 1, ctx, secrets), ctx)).toThrow(RangeError);
  });
});
