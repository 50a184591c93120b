-- Staged imports (src/services/connections/staged-import.ts): an import bigger than one request
-- is staged batch by batch and committed in one transaction. A session belongs to its
-- workspace and to the actor that began it (a user id or an API token id); it expires, and
-- an expired one is swept. Each batch's content holds secrets, so it is sealed with the
-- workspace key (seal context: the session id plus "#import", and the batch's seq), and, like
-- every sealed table (src/crypto/sealed-columns.ts), its key version cannot be destroyed while
-- a row names it.
CREATE TABLE "ImportSession" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "createdById" TEXT NOT NULL,
    "format" TEXT NOT NULL,
    "onConflict" TEXT NOT NULL,
    "unknownTypesAsGeneric" BOOLEAN NOT NULL DEFAULT false,
    "clearMissingSecrets" BOOLEAN NOT NULL DEFAULT false,
    "batches" INTEGER NOT NULL DEFAULT 0,
    "connections" INTEGER NOT NULL DEFAULT 0,
    "bytes" INTEGER NOT NULL DEFAULT 0,
    "revision" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "ImportSession_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ImportSession_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "ImportSession_workspaceId_idx" ON "ImportSession"("workspaceId");
CREATE INDEX "ImportSession_expiresAt_idx" ON "ImportSession"("expiresAt");

CREATE TABLE "ImportBatch" (
    "sessionId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "connections" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "keyVersion" INTEGER NOT NULL,
    CONSTRAINT "ImportBatch_pkey" PRIMARY KEY ("sessionId", "seq"),
    CONSTRAINT "ImportBatch_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "ImportSession"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "ImportBatch_workspaceId_keyVersion_idx" ON "ImportBatch"("workspaceId", "keyVersion");
ALTER TABLE "ImportBatch" ADD CONSTRAINT "ImportBatch_workspaceId_keyVersion_fkey"
  FOREIGN KEY ("workspaceId", "keyVersion") REFERENCES "WorkspaceKey"("workspaceId", "version")
  ON DELETE NO ACTION ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED;
