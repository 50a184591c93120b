/**
 * Seals and opens a connection's secret fields with its workspace's data key. The stored
 * row says which key version sealed it; new seals use the workspace's current key.
 */
import type { Keyring } from "../../crypto/keyring";
import { openSecrets, SecretDecryptionError, sealedKeyVersion, sealSecrets } from "../../crypto/sealed-secrets";
import { toBytes } from "../../db/bytes";
import type { Secrets } from "./draft";

export interface SealedColumns {
  secretFields: string[];
  secretCiphertext: Uint8Array<ArrayBuffer> | null;
  keyVersion: number | null;
}

export interface StoredSecrets {
  id: string;
  workspaceId: string;
  secretFields: string[];
  secretCiphertext: Uint8Array | null;
}

export class ConnectionSecrets {
  constructor(private readonly keyring: Keyring) {}

  async seal(workspaceId: string, connectionId: string, secrets: Secrets): Promise<SealedColumns> {
    const fields = Object.keys(secrets).sort();
    if (fields.length === 0) return { secretFields: [], secretCiphertext: null, keyVersion: null };
    const { version, key } = await this.keyring.current(workspaceId);
    const blob = sealSecrets(key, version, { workspaceId, connectionId }, secrets);
    return { secretFields: fields, secretCiphertext: toBytes(blob), keyVersion: version };
  }

  /** The decrypted secrets; throws SecretDecryptionError when the ciphertext does not open. */
  async open(row: StoredSecrets): Promise<Secrets> {
    if (!row.secretCiphertext) {
      // Secrets listed but no ciphertext is damage, not an empty secret.
      if (row.secretFields.length > 0) throw new SecretDecryptionError("MALFORMED", "The connection's secrets are missing.");
      return {};
    }
    const blob = Buffer.from(row.secretCiphertext);
    const key = await this.keyring.version(row.workspaceId, sealedKeyVersion(blob));
    return openSecrets(key, blob, { workspaceId: row.workspaceId, connectionId: row.id });
  }
}
