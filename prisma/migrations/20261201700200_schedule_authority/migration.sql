-- A schedule runs on behalf of the admin who set it (createdById), and only while that person
-- is still an ADMIN or OWNER of the workspace. Demoting or removing them pauses it at once
-- (src/services/workspaces.ts, in the same transaction); the scheduler also checks at every
-- claim, so a membership gone any other way pauses it before it runs. pausedReason says why;
-- an admin's setTestSchedule takes it over and resumes it.
ALTER TABLE "TestSchedule" ADD COLUMN "pausedAt" TIMESTAMP(3);
ALTER TABLE "TestSchedule" ADD COLUMN "pausedReason" TEXT;
CREATE INDEX "TestSchedule_workspaceId_createdById_idx" ON "TestSchedule"("workspaceId", "createdById");
