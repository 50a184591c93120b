/**
 * Workspace data keys (DEKs) wrapped by the master key (KEK) with AES-256-GCM.
 * The workspace id and key version are bound in as AAD, so a wrapped key copied to another
 * workspace's row or relabelled with another version fails to unwrap instead of silently
 * becoming that workspace's key.
 *
 * Wrapped format: [format 0x01] || nonce (12) || encrypted DEK (32) || tag (16) = 61 bytes.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const FORMAT = 0x01;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const WRAPPED_KEY_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;

export class KeyUnwrapError extends Error {
  override name = "KeyUnwrapError";
}

export function generateDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** format || "patchbay:workspace-key" || len(id) u32 || id || version u32 */
function aad(workspaceId: string, version: number): Buffer {
  if (!Number.isInteger(version) || version < 0 || version > 0xffffffff) {
    throw new RangeError("A key version must be an integer from 0 to 2^32-1.");
  }
  const id = Buffer.from(workspaceId, "utf8");
  const idLength = Buffer.alloc(4);
  idLength.writeUInt32BE(id.length);
  const ver = Buffer.alloc(4);
  ver.writeUInt32BE(version);
  return Buffer.concat([Buffer.of(FORMAT), Buffer.from("patchbay:workspace-key", "utf8"), idLength, id, ver]);
}

function checkKey(key: Buffer, what: string): void {
  if (key.length !== KEY_BYTES) throw new RangeError(`The ${what} must be ${KEY_BYTES} bytes.`);
}

export function wrapDataKey(kek: Buffer, workspaceId: string, version: number, dek: Buffer): Buffer {
  checkKey(kek, "master key");
  checkKey(dek, "data key");
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", kek, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(workspaceId, version));
  const body = Buffer.concat([cipher.update(dek), cipher.final()]);
  return Buffer.concat([Buffer.of(FORMAT), nonce, body, cipher.getAuthTag()]);
}

export function unwrapDataKey(kek: Buffer, workspaceId: string, version: number, wrapped: Buffer): Buffer {
  if (wrapped.length !== WRAPPED_KEY_BYTES || wrapped[0] !== FORMAT) {
    throw new KeyUnwrapError("The wrapped data key is malformed.");
  }
  try {
    checkKey(kek, "master key");
    const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
    const body = wrapped.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + KEY_BYTES);
    const tag = wrapped.subarray(1 + NONCE_BYTES + KEY_BYTES);
    const decipher = createDecipheriv("aes-256-gcm", kek, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(workspaceId, version));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new KeyUnwrapError(
      `The data key of workspace ${workspaceId} version ${version} cannot be unwrapped: wrong master key, or the stored key was altered or moved.`,
    );
  }
}
