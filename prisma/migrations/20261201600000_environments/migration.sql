-- Environments (DESIGN.md, "Connections over time and across environments"): a connection's
-- per-environment overrides, their own test history, and API tokens bound to one environment.

-- An override holds only the fields it replaces: a null column falls back to the connection's
-- value. Its secret fields are sealed like a connection's, with the override's own id in the
-- AAD, and keyVersion names the data key that sealed them so rotation can find them by index.
CREATE TABLE "ConnectionOverride" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "host" TEXT,
    "port" INTEGER,
    "schema" TEXT,
    "login" TEXT,
    "extra" JSONB NOT NULL DEFAULT '{}',
    "secretFields" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "secretCiphertext" BYTEA,
    "keyVersion" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ConnectionOverride_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "ConnectionOverride_connectionId_environment_key" ON "ConnectionOverride"("connectionId", "environment");
CREATE INDEX "ConnectionOverride_workspaceId_environment_idx" ON "ConnectionOverride"("workspaceId", "environment");
CREATE INDEX "ConnectionOverride_workspaceId_keyVersion_idx" ON "ConnectionOverride"("workspaceId", "keyVersion");
ALTER TABLE "ConnectionOverride" ADD CONSTRAINT "ConnectionOverride_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ConnectionOverride" ADD CONSTRAINT "ConnectionOverride_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- testConnectionIn's results: kept apart from a connection's own history so that its lastTest
-- and the connection page's statement stay as they are.
CREATE TABLE "OverrideTestResult" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "overrideId" TEXT NOT NULL,
    "status" "TestStatus" NOT NULL,
    "errorCode" TEXT,
    "message" TEXT NOT NULL,
    "latencyMs" INTEGER NOT NULL,
    "serverVersion" TEXT,
    "testedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorKind" "ActorKind" NOT NULL,
    "actorId" TEXT NOT NULL,
    CONSTRAINT "OverrideTestResult_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "OverrideTestResult_overrideId_testedAt_id_idx" ON "OverrideTestResult"("overrideId", "testedAt" DESC, "id" DESC);
CREATE INDEX "OverrideTestResult_workspaceId_idx" ON "OverrideTestResult"("workspaceId");
ALTER TABLE "OverrideTestResult" ADD CONSTRAINT "OverrideTestResult_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "OverrideTestResult" ADD CONSTRAINT "OverrideTestResult_overrideId_fkey" FOREIGN KEY ("overrideId") REFERENCES "ConnectionOverride"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A token bound to an environment resolves that environment's values only.
ALTER TABLE "ApiToken" ADD COLUMN "environment" TEXT;

-- An override is sealed with a workspace data key like a connection: the key version it names
-- cannot be destroyed while it names it, and key rotation re-encrypts it
-- (src/crypto/sealed-columns.ts; "Connection_workspaceId_keyVersion_fkey" in 20261201041700_key_rotation).
ALTER TABLE "ConnectionOverride" ADD CONSTRAINT "ConnectionOverride_workspaceId_keyVersion_fkey"
  FOREIGN KEY ("workspaceId", "keyVersion") REFERENCES "WorkspaceKey"("workspaceId", "version")
  ON DELETE NO ACTION ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED;
