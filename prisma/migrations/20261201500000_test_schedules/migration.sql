-- Scheduled re-tests (off by default: no rows). One row per workspace and connection, or per
-- workspace for all its connections (connectionId NULL). The scheduler claims due rows with
-- FOR UPDATE SKIP LOCKED and advances nextRunAt in the same statement, so across processes
-- each due run happens once. Tests run on behalf of createdBy (the limiter's user, the actor).
CREATE TABLE "TestSchedule" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "connectionId" TEXT,
    "everyMinutes" INTEGER NOT NULL,
    "nextRunAt" TIMESTAMP(3) NOT NULL,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "TestSchedule_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "TestSchedule_everyMinutes_check" CHECK ("everyMinutes" BETWEEN 1 AND 1440),
    CONSTRAINT "TestSchedule_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "TestSchedule_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "TestSchedule_workspaceId_connectionId_key" ON "TestSchedule"("workspaceId", (COALESCE("connectionId", '')));
CREATE INDEX "TestSchedule_nextRunAt_idx" ON "TestSchedule"("nextRunAt");
