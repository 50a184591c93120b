-- Every change to a connection is kept as a version (src/services/connections/versions.ts):
-- the full plain state as a versioned JSON snapshot, and the secrets sealed on their own with
-- the version number in the additional authenticated data. keyVersion names the data key that
-- sealed them, like Connection."keyVersion", so key rotation finds what to re-encrypt by index.
CREATE TABLE "ConnectionVersion" (
    "connectionId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "snapshot" JSONB NOT NULL,
    "changedFields" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "secretCiphertext" BYTEA,
    "keyVersion" INTEGER,
    "actorKind" "ActorKind",
    "actorId" TEXT,
    "actorLabel" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConnectionVersion_pkey" PRIMARY KEY ("connectionId", "version")
);

CREATE INDEX "ConnectionVersion_workspaceId_keyVersion_idx" ON "ConnectionVersion"("workspaceId", "keyVersion");

ALTER TABLE "ConnectionVersion" ADD CONSTRAINT "ConnectionVersion_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ConnectionVersion" ADD CONSTRAINT "ConnectionVersion_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
