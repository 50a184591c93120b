-- The current access token of an oauth2 connection, sealed with the workspace key (the seal's
-- context is the connection id plus "#access-token", never the connection's own secrets').
-- One row per connection; processes refresh it under an advisory lock on the connection.
CREATE TABLE "AccessToken" (
    "connectionId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "connectionVersion" INTEGER NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "keyVersion" INTEGER NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "refreshAt" TIMESTAMP(3) NOT NULL,
    "obtainedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "AccessToken_pkey" PRIMARY KEY ("connectionId"),
    CONSTRAINT "AccessToken_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "AccessToken_workspaceId_keyVersion_idx" ON "AccessToken"("workspaceId", "keyVersion");
