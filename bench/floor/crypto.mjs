/**
 * The floor's own sealing: AES-256-GCM with a random 96-bit nonce and a 16-byte tag, the
 * workspace and connection bound in as additional data, per-workspace data keys wrapped by a
 * master key. The same primitive Patchbay uses, without Patchbay's code, so the floor stays
 * a fixed yardstick while Patchbay changes. Blob: nonce (12) || ciphertext || tag (16).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

function encrypt(key, aad, plaintext) {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function decrypt(key, aad, blob) {
  const nonce = blob.subarray(0, NONCE_BYTES);
  const body = blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

const keyAad = (workspaceId) => Buffer.from(`floor-key/${workspaceId}`, "utf8");
const secretAad = (workspaceId, connectionId) => Buffer.from(`floor-secrets/${workspaceId}/${connectionId}`, "utf8");

export const generateKey = () => randomBytes(32);
export const wrapKey = (master, workspaceId, key) => encrypt(master, keyAad(workspaceId), key);
export const unwrapKey = (master, workspaceId, wrapped) => decrypt(master, keyAad(workspaceId), wrapped);
export const sealSecrets = (key, workspaceId, connectionId, secrets) =>
  encrypt(key, secretAad(workspaceId, connectionId), Buffer.from(JSON.stringify(secrets), "utf8"));
export const openSecrets = (key, workspaceId, connectionId, blob) =>
  JSON.parse(decrypt(key, secretAad(workspaceId, connectionId), blob).toString("utf8"));
