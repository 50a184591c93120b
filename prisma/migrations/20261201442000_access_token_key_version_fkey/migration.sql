-- An access token is sealed with a workspace data key like a connection's secrets: the key
-- version it names cannot be destroyed while it names it (src/crypto/sealed-columns.ts, and
-- "Connection_workspaceId_keyVersion_fkey" in 20261201041700_key_rotation).
ALTER TABLE "AccessToken" ADD CONSTRAINT "AccessToken_workspaceId_keyVersion_fkey"
  FOREIGN KEY ("workspaceId", "keyVersion") REFERENCES "WorkspaceKey"("workspaceId", "version")
  ON DELETE NO ACTION ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED;
