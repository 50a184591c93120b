/**
 * API token format: `pbt_<body>_<checksum>` (DESIGN.md, Who may do what).
 * - `pbt_` lets secret scanners (and the auth layer) recognise a Patchbay token.
 * - body: 32 base62 characters from the CSPRNG, ~190.5 bits.
 * - checksum: CRC32 of `pbt_<body>` as 6 base62 characters, so a typo or truncated paste is
 *   rejected without a database lookup. CRC32 catches every single-character substitution.
 * Only an HMAC of the whole token, keyed with a subkey of the master key, is stored; a leaked
 * table of hashes is useless without the master key.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { crc32 } from "node:zlib";

export const API_TOKEN_PREFIX = "pbt_";
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_CHARS = 32;
const CHECKSUM_CHARS = 6; // 62^6 > 2^32
/** How much of the token is kept in clear to recognise it in a list: `pbt_` + 8 body chars. */
export const API_TOKEN_DISPLAY_PREFIX_CHARS = 12;
const SHAPE = /^pbt_([0-9A-Za-z]{32})_([0-9A-Za-z]{6})$/;

/** Uniform base62 characters: bytes >= 248 (= 4·62) are rejected, so there is no modulo bias. */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** CRC32 of the token so far as 6 base62 characters (invitation tokens use it too). */
export function checksum(tokenWithoutChecksum: string): string {
  let n = crc32(tokenWithoutChecksum);
  let out = "";
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function generateApiToken(): { token: string; prefix: string } {
  const head = `${API_TOKEN_PREFIX}${randomBase62(BODY_CHARS)}`;
  const token = `${head}_${checksum(head)}`;
  return { token, prefix: token.slice(0, API_TOKEN_DISPLAY_PREFIX_CHARS) };
}

/** Shape and checksum only; says nothing about whether the token exists or is valid. */
export function isWellFormedApiToken(candidate: string): boolean {
  if (typeof candidate !== "string") return false;
  const m = SHAPE.exec(candidate);
  return m !== null && checksum(`${API_TOKEN_PREFIX}${m[1]}`) === m[2];
}

/** Tells an API token from a session JWT in an Authorization header. */
export function looksLikeApiToken(s: string): boolean {
  return typeof s === "string" && s.startsWith(API_TOKEN_PREFIX);
}

/** HMAC-SHA256 (hex) of the whole token; hashKey = deriveSubkey(master, "api-token-hash"). */
export function hashApiToken(hashKey: Buffer, token: string): string {
  return createHmac("sha256", hashKey).update(token, "utf8").digest("hex");
}

/** Constant-time comparison of two token hashes (hex), for when a hash is compared in code. */
export function apiTokenHashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}
