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

/** A stored version's secrets (versions.ts): sealed with the version number bound in. */
export interface StoredVersionSecrets {
  connectionId: string;
  workspaceId: string;
  version: number;
  secretFields: readonly string[];
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

  /** Seals a version's secrets apart from the row's, with the version number in the AAD. */
  async sealVersion(
    workspaceId: string,
    connectionId: string,
    version: number,
    secrets: Secrets,
  ): Promise<Pick<SealedColumns, "secretCiphertext" | "keyVersion">> {
    if (Object.keys(secrets).length === 0) return { secretCiphertext: null, keyVersion: null };
    const { version: keyVersion, key } = await this.keyring.current(workspaceId);
    const blob = sealSecrets(key, keyVersion, { workspaceId, connectionId, version }, secrets);
    return { secretCiphertext: toBytes(blob), keyVersion };
  }

  /** A stored version's decrypted secrets; throws SecretDecryptionError when they do not open. */
  async openVersion(row: StoredVersionSecrets): Promise<Secrets> {
    if (!row.secretCiphertext) {
      if (row.secretFields.length > 0) throw new SecretDecryptionError("MALFORMED", "The version's secrets are missing.");
      return {};
    }
    const blob = Buffer.from(row.secretCiphertext);
    const key = await this.keyring.version(row.workspaceId, sealedKeyVersion(blob));
    return openSecrets(key, blob, { workspaceId: row.workspaceId, connectionId: row.connectionId, version: row.version });
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
