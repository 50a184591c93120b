-- Keys over time (DESIGN.md): data key rotation, master key rotation, crypto-shredding.

-- Which master key wrapped each workspace key: a fingerprint derived from the key (never the
-- key). NULL only for keys wrapped before this column existed; start-up fills it in.
ALTER TABLE "WorkspaceKey" ADD COLUMN "masterKeyFingerprint" TEXT;
CREATE INDEX "WorkspaceKey_masterKeyFingerprint_idx" ON "WorkspaceKey"("masterKeyFingerprint");

-- A sealed value names the data key version that sealed it; that version cannot be destroyed
-- while anything still names it, and nothing can be written under a version already destroyed
-- (a process that sealed with a stale version gets an error instead of storing secrets no key
-- opens). Deferred to commit, so deleting a workspace can destroy its keys first, in the same
-- transaction as its data.
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_workspaceId_keyVersion_fkey"
  FOREIGN KEY ("workspaceId", "keyVersion") REFERENCES "WorkspaceKey"("workspaceId", "version")
  ON DELETE NO ACTION ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED;

-- The instance's own keys derived from the master key when first needed (session signing, the
-- API token hash, rate-limit keys), stored wrapped by the master key, so that rotating the
-- master key re-wraps them instead of changing them: tokens and sessions survive a rotation.
CREATE TABLE "InstanceKey" (
    "purpose" TEXT NOT NULL,
    "wrappedKey" BYTEA NOT NULL,
    "masterKeyFingerprint" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "InstanceKey_pkey" PRIMARY KEY ("purpose")
);
