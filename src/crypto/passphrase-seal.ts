/**
 * Sealing a document under a passphrase, for bundles that move a workspace's connections
 * between instances (whose master keys differ). scrypt derives a 256-bit key from the
 * passphrase and a random salt; AES-256-GCM seals the deflated document.
 *
 * Text form: `patchbay-bundle.v1.<header>.<sealed>`, both parts base64url.
 *   header: JSON {kdf: "scrypt", N, r, p, salt, cipher: "aes-256-gcm", nonce}
 *   sealed: ciphertext || tag (16 bytes)
 *   AAD:    the header part exactly as written, so a changed parameter fails to open too.
 *
 * Opening bounds the header's scrypt parameters before deriving anything: a hostile header
 * naming N = 2^30 would otherwise hold a thread and gigabytes of memory. The deflated
 * document is inflated with an output limit, so a small bundle cannot expand without bound.
 * A wrong passphrase and a modified byte fail the same way (GCM cannot tell them apart).
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";

const PREFIX = "patchbay-bundle.v1.";
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** What new bundles use: about 32 MiB and a tenth of a second per derivation. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 1 };

/** The most an opened header may ask for: 128 · N · r bytes is at most 128 MiB, p at most 4. */
export const SCRYPT_LIMITS = { minLogN: 14, maxLogN: 17, maxR: 16, maxP: 4, maxMemoryBytes: 128 * 1024 * 1024 };

export type PassphraseSealProblem = "MALFORMED" | "PARAMETERS" | "NOT_OPENED" | "TOO_LARGE";

export class PassphraseSealError extends Error {
  override name = "PassphraseSealError";
  constructor(
    readonly problem: PassphraseSealProblem,
    message: string,
  ) {
    super(message);
  }
}

interface Header {
  kdf: "scrypt";
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: "aes-256-gcm";
  nonce: string;
}

export async function sealWithPassphrase(passphrase: string, document: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const header: Header = { kdf: "scrypt", ...params, salt: salt.toString("base64url"), cipher: "aes-256-gcm", nonce: nonce.toString("base64url") };
  const headerPart = Buffer.from(JSON.stringify(header), "utf8").toString("base64url");
  const key = await deriveKey(passphrase, salt, params);
  try {
    const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(headerPart, "utf8"));
    const body = Buffer.concat([cipher.update(deflateRawSync(Buffer.from(document, "utf8"))), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${headerPart}.${body.toString("base64url")}`;
  } finally {
    key.fill(0);
  }
}

/** The document, or a PassphraseSealError saying why not; never derives with unbounded parameters. */
export async function openWithPassphrase(passphrase: string, text: string, maxDocumentBytes: number): Promise<string> {
  const trimmed = text.trim();
  if (!trimmed.startsWith(PREFIX)) throw new PassphraseSealError("MALFORMED", "This is not a Patchbay bundle (it should start with patchbay-bundle.v1.).");
  const parts = trimmed.slice(PREFIX.length).split(".");
  if (parts.length !== 2 || !parts.every((part) => /^[A-Za-z0-9_-]+$/.test(part))) {
    throw new PassphraseSealError("MALFORMED", "The bundle is damaged: it should be two base64url parts after its prefix.");
  }
  const [headerPart, bodyPart] = parts;
  const header = parseHeader(headerPart);
  const params = { N: header.N, r: header.r, p: header.p };
  checkParams(params);
  const salt = Buffer.from(header.salt, "base64url");
  const nonce = Buffer.from(header.nonce, "base64url");
  const body = Buffer.from(bodyPart, "base64url");
  if (salt.length < SALT_BYTES || salt.length > 64 || nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) {
    throw new PassphraseSealError("MALFORMED", "The bundle is damaged: its salt, nonce or body has the wrong length.");
  }
  const key = await deriveKey(passphrase, salt, params);
  let deflated: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(headerPart, "utf8"));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    deflated = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PassphraseSealError(
      "NOT_OPENED",
      "The bundle did not open: the passphrase is wrong, or the bundle was changed after it was written.",
    );
  } finally {
    key.fill(0);
  }
  try {
    return inflateRawSync(deflated, { maxOutputLength: maxDocumentBytes }).toString("utf8");
  } catch {
    // Authenticated, so written by a Patchbay: only one with a higher limit could cause this.
    throw new PassphraseSealError("TOO_LARGE", `The bundle's content is larger than the ${Math.round(maxDocumentBytes / 1048576)} MiB this server accepts.`);
  }
}

function parseHeader(part: string): Header {
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw new PassphraseSealError("MALFORMED", "The bundle is damaged: its header is not readable.");
  }
  const h = header as Partial<Header> | null;
  if (
    !h ||
    typeof h !== "object" ||
    h.kdf !== "scrypt" ||
    h.cipher !== "aes-256-gcm" ||
    typeof h.salt !== "string" ||
    typeof h.nonce !== "string" ||
    ![h.N, h.r, h.p].every((n) => Number.isSafeInteger(n))
  ) {
    throw new PassphraseSealError("MALFORMED", "The bundle is damaged, or uses a key derivation or cipher this server does not know (scrypt with AES-256-GCM).");
  }
  return h as Header;
}

function checkParams({ N, r, p }: ScryptParams): void {
  const logN = Math.log2(N);
  const within =
    Number.isInteger(logN) &&
    logN >= SCRYPT_LIMITS.minLogN &&
    logN <= SCRYPT_LIMITS.maxLogN &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= SCRYPT_LIMITS.maxR &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= SCRYPT_LIMITS.maxP &&
    128 * N * r <= SCRYPT_LIMITS.maxMemoryBytes;
  if (!within) {
    throw new PassphraseSealError(
      "PARAMETERS",
      `The bundle asks for scrypt parameters outside what this server derives (N a power of two from 2^${SCRYPT_LIMITS.minLogN} to 2^${SCRYPT_LIMITS.maxLogN}, ` +
        `r at most ${SCRYPT_LIMITS.maxR}, p at most ${SCRYPT_LIMITS.maxP}, 128·N·r at most ${SCRYPT_LIMITS.maxMemoryBytes / 1048576} MiB).`,
    );
  }
}

/**
 * At most two derivations at once in a process: each holds a libuv thread (of four, shared
 * with DNS lookups and file reads) and up to 128 MiB, whatever number of bundles arrive.
 */
const MAX_CONCURRENT_DERIVATIONS = 2;
let derivations = 0;
const waiting: Array<() => void> = [];

async function deriveKey(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  if (derivations >= MAX_CONCURRENT_DERIVATIONS) await new Promise<void>((resolve) => waiting.push(resolve));
  else derivations++;
  try {
    return await scryptKey(passphrase, salt, params);
  } finally {
    const next = waiting.shift();
    if (next) next();
    else derivations--;
  }
}

function scryptKey(passphrase: string, salt: Buffer, { N, r, p }: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem a little above what these parameters need (Node refuses anything beyond it).
    scrypt(passphrase.normalize("NFC"), salt, KEY_BYTES, { N, r, p, maxmem: 129 * N * r + 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}
