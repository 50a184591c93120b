-- CreateTable
CREATE TABLE "ConnectionUsage" (
    "connectionId" TEXT NOT NULL,
    "actorKind" "ActorKind" NOT NULL,
    "actorId" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "lastUsedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ConnectionUsage_pkey" PRIMARY KEY ("connectionId","actorKind","actorId","day")
);

-- CreateIndex
CREATE INDEX "ConnectionUsage_workspaceId_idx" ON "ConnectionUsage"("workspaceId");

-- AddForeignKey
ALTER TABLE "ConnectionUsage" ADD CONSTRAINT "ConnectionUsage_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ConnectionUsage" ADD CONSTRAINT "ConnectionUsage_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
