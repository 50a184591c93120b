/**
 * Password hashing with scrypt from node:crypto (no native dependency), deliberately slow so a
 * leaked users table is expensive to brute-force. Stored as
 * `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>`, so parameters can be raised later and old
 * hashes still verify. Passwords are NFKC-normalised first, so the same password typed on
 * another keyboard or OS (composed vs decomposed accents) still matches.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

const N = 2 ** 15;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Ceiling on what a stored value may ask for (256 MiB), so a bad row cannot exhaust memory. */
const MAX_MEMORY = 256 * 1024 * 1024;

/**
 * A valid hash of 32 random bytes nobody kept. logIn verifies against it when the email is
 * unknown, so "no such user" costs as much time as "wrong password".
 */
export const DUMMY_PASSWORD_HASH =
  "scrypt$32768$8$1$2o1ZWJF9MSkZMkPtJ56GnA$6bfJAGpxa5ARr9ISwg7DU6h98H-DVhyfCs3dqLSLECI";

function derive(password: string, salt: Buffer, keylen: number, n: number, r: number, p: number): Promise<Buffer> {
  // scrypt needs about 128·N·r bytes (plus 128·r·p); Node's default maxmem (32 MiB) is just too small for N=2^15, r=8.
  const options: ScryptOptions = { N: n, r, p, maxmem: 128 * r * (n + p) + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, HASH_BYTES, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

const STORED = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = typeof stored === "string" ? STORED.exec(stored) : null;
  if (!m || typeof password !== "string") return false;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const salt = Buffer.from(m[4], "base64url");
  const expected = Buffer.from(m[5], "base64url");
  const sane =
    n >= 2 ** 14 && (n & (n - 1)) === 0 && r >= 1 && p >= 1 && 128 * n * r * p <= MAX_MEMORY &&
    salt.length >= SALT_BYTES && expected.length === HASH_BYTES;
  // The hash length is fixed: scrypt's output for a shorter length is a prefix of the longer one,
  // so accepting any length would let a truncated stored value still verify.
  if (!sane) return false;
  try {
    const actual = await derive(password, salt, expected.length, n, r, p);
    return timingSafeEqual(actual, expected);
  } catch {
    return false;
  }
}
