-- Environments in health (src/services/health/schedules.ts, src/services/connections/test-results.ts).
-- A schedule may name one environment of its connection: it re-tests what that environment
-- sees and records the result on the override. A schedule for all connections (connectionId
-- NULL) never names one: it tests every connection and every override of it. Unique per
-- (workspace, connection or none, environment or none).
ALTER TABLE "TestSchedule" ADD COLUMN "environment" TEXT;
ALTER TABLE "TestSchedule" ADD CONSTRAINT "TestSchedule_environment_needs_connection_check"
  CHECK ("environment" IS NULL OR "connectionId" IS NOT NULL);
DROP INDEX "TestSchedule_workspaceId_connectionId_key";
CREATE UNIQUE INDEX "TestSchedule_workspaceId_connectionId_environment_key"
  ON "TestSchedule"("workspaceId", (COALESCE("connectionId", '')), (COALESCE("environment", '')));

-- Which environment's status changed (NULL: the connection's own).
ALTER TABLE "WebhookDelivery" ADD COLUMN "environment" TEXT;
