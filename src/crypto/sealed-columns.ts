/**
 * Every place a workspace's data key seals something, as one entry each: what the key rotation
 * job (src/crypto/reencryption.ts) re-encrypts, what `keyStatus.pendingReencryption` counts, and
 * what must no longer name a key version before it is destroyed.
 *
 * A table joins with one entry here, plus, in its migration, an index on
 * (workspace column, key-version column) and a foreign key from those two columns to
 * "WorkspaceKey"("workspaceId", "version") DEFERRABLE INITIALLY DEFERRED, as
 * "Connection_workspaceId_keyVersion_fkey" does: it keeps a version from being destroyed
 * while a row names it, and refuses a row sealed under a version already destroyed.
 *
 * The key-version column is the progress of a rotation: a row whose version is below its
 * workspace's newest is pending; re-encrypting it rewrites its ciphertext and that column in
 * one statement. Every ciphertext column of a row is sealed under the row's one key version.
 */
import { sealContext as accessTokenSealContext } from "../services/connections/access-tokens";
import { webhookSealContext } from "../services/health/webhooks";
import { importBatchSealContext } from "../services/connections/import-batch-seal";
import { openSecrets, type SealContext, sealSecrets } from "./sealed-secrets";

/** A row as the job reads it: its key columns, "workspaceId", its context and ciphertext columns. */
export type SealedRow = Record<string, unknown> & { workspaceId: string };

/** A primary key column and its SQL type (to pass keys back as typed arrays). */
export interface KeyColumn {
  name: string;
  type: "text" | "int" | "uuid" | "bigint";
}

export interface SealedColumns {
  /** For logs and metrics. */
  name: string;
  /** Table and column names as in the database (quoted when used). */
  table: string;
  /** The primary key, one or more columns. */
  keyColumns: readonly KeyColumn[];
  workspaceColumn: string;
  keyVersionColumn: string;
  ciphertextColumns: readonly string[];
  /** Further columns the AAD binds (e.g. a version number); read with each row. */
  contextColumns?: readonly string[];
  /** Opens one ciphertext column of a row with the data key that sealed it (throws if it does not open). */
  open(dek: Buffer, blob: Buffer, row: SealedRow, column: string): Record<string, string>;
  /** Seals the same plaintext for the same row and column under another key version. */
  seal(dek: Buffer, keyVersion: number, row: SealedRow, column: string, plaintext: Record<string, string>): Buffer;
}

/** `open` and `seal` for a table whose rows are sealed with `context(row)` as their AAD. */
function sealedWith(context: (row: SealedRow) => SealContext): Pick<SealedColumns, "open" | "seal"> {
  return {
    open: (dek, blob, row) => openSecrets(dek, blob, context(row)),
    seal: (dek, keyVersion, row, _column, plaintext) => sealSecrets(dek, keyVersion, context(row), plaintext),
  };
}

/** A connection's secret fields (src/services/connections/secrets.ts). */
const connections: SealedColumns = {
  name: "connections",
  table: "Connection",
  keyColumns: [{ name: "id", type: "text" }],
  workspaceColumn: "workspaceId",
  keyVersionColumn: "keyVersion",
  ciphertextColumns: ["secretCiphertext"],
  ...sealedWith((row) => ({ workspaceId: row.workspaceId, connectionId: row.id as string })),
};

/** A stored version of a connection (src/services/connections/versions.ts): its number is in the AAD. */
const connectionVersions: SealedColumns = {
  name: "connection versions",
  table: "ConnectionVersion",
  keyColumns: [
    { name: "connectionId", type: "text" },
    { name: "version", type: "int" },
  ],
  workspaceColumn: "workspaceId",
  keyVersionColumn: "keyVersion",
  ciphertextColumns: ["secretCiphertext"],
  ...sealedWith((row) => ({ workspaceId: row.workspaceId, connectionId: row.connectionId as string, version: row.version as number })),
};

/** An oauth2 connection's current access token, per environment with an override (src/services/connections/access-tokens.ts). */
const accessTokens: SealedColumns = {
  name: "access tokens",
  table: "AccessToken",
  keyColumns: [
    { name: "connectionId", type: "text" },
    { name: "environment", type: "text" },
  ],
  workspaceColumn: "workspaceId",
  keyVersionColumn: "keyVersion",
  ciphertextColumns: ["ciphertext"],
  ...sealedWith((row) => ({ workspaceId: row.workspaceId, connectionId: accessTokenSealContext(row.connectionId as string, row.environment as string) })),
};

/** A webhook's signing secret (src/services/health/webhooks.ts). */
const webhooks: SealedColumns = {
  name: "webhooks",
  table: "Webhook",
  keyColumns: [{ name: "id", type: "text" }],
  workspaceColumn: "workspaceId",
  keyVersionColumn: "keyVersion",
  ciphertextColumns: ["secretCiphertext"],
  ...sealedWith((row) => ({ workspaceId: row.workspaceId, connectionId: webhookSealContext(row.id as string) })),
};

/**
 * One environment's override of a connection (src/services/connections/overrides.ts): sealed
 * like a connection's secrets, with the override's own id in the AAD.
 */
const connectionOverrides: SealedColumns = {
  name: "connection overrides",
  table: "ConnectionOverride",
  keyColumns: [{ name: "id", type: "text" }],
  workspaceColumn: "workspaceId",
  keyVersionColumn: "keyVersion",
  ciphertextColumns: ["secretCiphertext"],
  ...sealedWith((row) => ({ workspaceId: row.workspaceId, connectionId: row.id as string })),
};

/** A staged import's batch (src/services/connections/staged-import.ts): the file's content, secrets and all. */
const importBatches: SealedColumns = {
  name: "staged import batches",
  table: "ImportBatch",
  keyColumns: [
    { name: "sessionId", type: "text" },
    { name: "seq", type: "int" },
  ],
  workspaceColumn: "workspaceId",
  keyVersionColumn: "keyVersion",
  ciphertextColumns: ["ciphertext"],
  ...sealedWith((row) => importBatchSealContext({ workspaceId: row.workspaceId, sessionId: row.sessionId as string, seq: row.seq as number })),
};

export const SEALED_COLUMNS: readonly SealedColumns[] = [connections, connectionVersions, accessTokens, webhooks, connectionOverrides, importBatches];

/** A SQL identifier, quoted. Names come from the list above, never from input. */
export function ident(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Not an identifier: ${name}`);
  return `"${name}"`;
}
