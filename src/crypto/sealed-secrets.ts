/**
 * A connection's secret fields, sealed as one JSON document with its workspace's data key
 * (DESIGN.md, Keys and ciphertext). AES-256-GCM with a random 96-bit nonce and a 16-byte tag.
 *
 * Blob: header [format 0x01][alg 0x01 = AES-256-GCM][key version u32 BE] (6 bytes)
 *       || nonce (12) || ciphertext || tag (16)
 * AAD:  header || "patchbay:connection-secrets" || len u32 || workspaceId || len u32 || connectionId
 *       A stored version of a connection (services/connections/versions.ts) binds its number too:
 *       header || "patchbay:connection-version-secrets" || len u32 || workspaceId || len u32 ||
 *       connectionId || version u32, so a version's secrets cannot be passed off as the row's or
 *       another version's.
 *
 * Binding the header, workspace and connection means a blob copied to another row or tenant,
 * or relabelled with another key version, fails to open. Nothing mutable (name, row version)
 * is bound, so renames and edits of plain fields never strand a ciphertext. Failures are a
 * typed error, never an empty object, and messages carry neither key nor plaintext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const FORMAT_V1 = 0x01;
const ALG_AES_256_GCM = 0x01;
const HEADER_BYTES = 6;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const DOMAIN = Buffer.from("patchbay:connection-secrets", "utf8");
const VERSION_DOMAIN = Buffer.from("patchbay:connection-version-secrets", "utf8");

export type SecretDecryptionReason = "MALFORMED" | "UNSUPPORTED_FORMAT" | "AUTHENTICATION_FAILED";

const MESSAGES: Record<SecretDecryptionReason, string> = {
  MALFORMED: "The sealed secrets are malformed.",
  UNSUPPORTED_FORMAT: "The sealed secrets use an unsupported format or algorithm.",
  AUTHENTICATION_FAILED:
    "The sealed secrets failed authentication: wrong data key, or the ciphertext was altered or moved to another connection.",
};

export class SecretDecryptionError extends Error {
  override name = "SecretDecryptionError";
  constructor(
    readonly reason: SecretDecryptionReason,
    message = MESSAGES[reason],
  ) {
    super(message);
  }
}

export interface SealContext {
  workspaceId: string;
  connectionId: string;
  /** Set for a stored version of the connection (its number); absent for the connection's own row. */
  version?: number;
}

function lengthPrefixed(s: string): Buffer {
  const bytes = Buffer.from(s, "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function aad(header: Buffer, ctx: SealContext): Buffer {
  if (ctx.version === undefined) return Buffer.concat([header, DOMAIN, lengthPrefixed(ctx.workspaceId), lengthPrefixed(ctx.connectionId)]);
  if (!Number.isInteger(ctx.version) || ctx.version < 1 || ctx.version > 0xffffffff) {
    throw new RangeError("A connection version must be an integer from 1 to 2^32-1.");
  }
  const version = Buffer.alloc(4);
  version.writeUInt32BE(ctx.version);
  return Buffer.concat([header, VERSION_DOMAIN, lengthPrefixed(ctx.workspaceId), lengthPrefixed(ctx.connectionId), version]);
}

function checkDek(dek: Buffer): void {
  if (dek.length !== KEY_BYTES) throw new RangeError(`A data key must be ${KEY_BYTES} bytes.`);
}

export function sealSecrets(
  dek: Buffer,
  keyVersion: number,
  ctx: SealContext,
  secrets: Record<string, string>,
): Buffer {
  checkDek(dek);
  if (!Number.isInteger(keyVersion) || keyVersion < 0 || keyVersion > 0xffffffff) {
    throw new RangeError("A key version must be an integer from 0 to 2^32-1.");
  }
  for (const value of Object.values(secrets)) {
    if (typeof value !== "string") throw new TypeError("Secret values must be strings.");
  }
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(FORMAT_V1, 0);
  header.writeUInt8(ALG_AES_256_GCM, 1);
  header.writeUInt32BE(keyVersion, 2);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", dek, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(header, ctx));
  const body = Buffer.concat([cipher.update(JSON.stringify(secrets), "utf8"), cipher.final()]);
  return Buffer.concat([header, nonce, body, cipher.getAuthTag()]);
}

/** The key version in a blob's header, to pick the data key that opens it. */
export function sealedKeyVersion(blob: Buffer): number {
  return readHeader(blob).keyVersion;
}

function readHeader(blob: Buffer): { header: Buffer; keyVersion: number } {
  if (blob.length < HEADER_BYTES) throw new SecretDecryptionError("MALFORMED");
  if (blob[0] !== FORMAT_V1 || blob[1] !== ALG_AES_256_GCM) throw new SecretDecryptionError("UNSUPPORTED_FORMAT");
  return { header: blob.subarray(0, HEADER_BYTES), keyVersion: blob.readUInt32BE(2) };
}

export function openSecrets(dek: Buffer, blob: Buffer, ctx: SealContext): Record<string, string> {
  checkDek(dek);
  const { header } = readHeader(blob);
  if (blob.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES) throw new SecretDecryptionError("MALFORMED");
  const nonce = blob.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const body = blob.subarray(HEADER_BYTES + NONCE_BYTES, blob.length - TAG_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);

  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", dek, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(header, ctx));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new SecretDecryptionError("AUTHENTICATION_FAILED");
  }

  // Authenticated but not a flat string map: only a bug in a writer could produce this.
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString("utf8"));
  } catch {
    throw new SecretDecryptionError("MALFORMED");
  } finally {
    plaintext.fill(0);
  }
  if (
    parsed === null ||
    typeof parsed !== "object" ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((v) => typeof v === "string")
  ) {
    throw new SecretDecryptionError("MALFORMED");
  }
  return parsed as Record<string, string>;
}
