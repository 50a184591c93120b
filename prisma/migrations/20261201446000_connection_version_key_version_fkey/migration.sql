-- A stored connection version is sealed with a workspace data key like the connection: the key
-- version it names cannot be destroyed while it names it (src/crypto/sealed-columns.ts, and
-- "Connection_workspaceId_keyVersion_fkey" in 20261201041700_key_rotation).
ALTER TABLE "ConnectionVersion" ADD CONSTRAINT "ConnectionVersion_workspaceId_keyVersion_fkey"
  FOREIGN KEY ("workspaceId", "keyVersion") REFERENCES "WorkspaceKey"("workspaceId", "version")
  ON DELETE NO ACTION ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED;
