import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  apiTokenHashesEqual,
  generateApiToken,
  hashApiToken,
  isWellFormedApiToken,
  looksLikeApiToken,
} from "../../src/auth/api-token-format";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

describe("API token format", () => {
  it("generates well-formed, distinct tokens with a 12-character display prefix", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const { token, prefix } = generateApiToken();
      expect(token).toMatch(/^pbt_[0-9A-Za-z]{32}_[0-9A-Za-z]{6}$/);
      expect(isWellFormedApiToken(token)).toBe(true);
      expect(looksLikeApiToken(token)).toBe(true);
      expect(prefix).toBe(token.slice(0, 12));
      expect(prefix.startsWith("pbt_")).toBe(true);
      seen.add(token);
    }
    expect(seen.size).toBe(500);
  });

  it("uses the whole base62 alphabet roughly uniformly", () => {
    const counts = new Map<string, number>();
    const samples = 2000;
    for (let i = 0; i < samples; i++) {
      for (const ch of generateApiToken().token.slice(4, 36)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    expect(counts.size).toBe(62);
    const expected = (samples * 32) / 62; // ~1032
    for (const c of counts.values()) {
      expect(c).toBeGreaterThan(expected * 0.8);
      expect(c).toBeLessThan(expected * 1.2);
    }
  });

  it("rejects every single-character typo at every position", () => {
    for (let round = 0; round < 5; round++) {
      const { token } = generateApiToken();
      for (let pos = 0; pos < token.length; pos++) {
        for (const ch of BASE62 + "_") {
          if (ch === token[pos]) continue;
          const typo = token.slice(0, pos) + ch + token.slice(pos + 1);
          expect(isWellFormedApiToken(typo), `${pos}:${ch}`).toBe(false);
        }
      }
    }
  });

  it("rejects adjacent transpositions, truncation, extension and wrong shapes", () => {
    const { token } = generateApiToken();
    for (let pos = 4; pos < token.length - 1; pos++) {
      if (token[pos] === token[pos + 1]) continue;
      const swapped = token.slice(0, pos) + token[pos + 1] + token[pos] + token.slice(pos + 2);
      expect(isWellFormedApiToken(swapped)).toBe(false);
    }
    for (const bad of [
      "",
      "pbt_",
      token.slice(0, -1),
      `${token}x`,
      ` ${token}`,
      token.toUpperCase(),
      token.replace("pbt_", "pbx_"),
      `pbt_${randomBytes(24).toString("base64url")}_abcdef`,
    ]) {
      expect(isWellFormedApiToken(bad)).toBe(false);
    }
  });

  it("tells tokens from session JWTs", () => {
    expect(looksLikeApiToken("pbt_anything")).toBe(true);
    expect(looksLikeApiToken("eyJhbGciOiJIUzI1NiJ9.e30.sig")).toBe(false);
    expect(looksLikeApiToken("")).toBe(false);
  });

  it("hashes deterministically per key, differently across keys, without the token in it", () => {
    const { token } = generateApiToken();
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const h = hashApiToken(k1, token);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiToken(k1, token)).toBe(h);
    expect(hashApiToken(k2, token)).not.toBe(h);
    expect(hashApiToken(k1, generateApiToken().token)).not.toBe(h);
    expect(apiTokenHashesEqual(h, hashApiToken(k1, token))).toBe(true);
    expect(apiTokenHashesEqual(h, hashApiToken(k2, token))).toBe(false);
    expect(apiTokenHashesEqual(h, h.slice(1))).toBe(false);
  });
});
