-- A renamed connection's former names (src/services/connections/aliases.ts): each resolves to
-- the connection until expiresAt, and no other connection may take it meanwhile. The key is
-- the name within its workspace, so one name is one alias at most; an expired row is only
-- waiting for the sweep and counts as absent everywhere.
CREATE TABLE "ConnectionAlias" (
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ConnectionAlias_pkey" PRIMARY KEY ("workspaceId", "name")
);

CREATE INDEX "ConnectionAlias_connectionId_idx" ON "ConnectionAlias"("connectionId");
CREATE INDEX "ConnectionAlias_expiresAt_idx" ON "ConnectionAlias"("expiresAt");

ALTER TABLE "ConnectionAlias" ADD CONSTRAINT "ConnectionAlias_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ConnectionAlias" ADD CONSTRAINT "ConnectionAlias_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
