-- Webhook deliveries survive the process (src/services/health/webhook-delivery.ts). A status
-- change writes one outbox row per webhook in the transaction that stores the test result;
-- any process claims due rows with FOR UPDATE SKIP LOCKED, counting the attempt and moving
-- nextAttemptAt past the attempt's deadline in the same statement (a lease), so no attempt is
-- made twice and a process that dies mid-attempt leaves the row due again. A row leaves the
-- outbox when delivered, refused, or out of attempts. body is the JSON sent, fixed at the
-- change, so every attempt sends the same bytes.
CREATE TABLE "WebhookOutbox" (
    "id" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "environment" TEXT,
    "oldStatus" "TestStatus" NOT NULL,
    "newStatus" "TestStatus" NOT NULL,
    "body" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "WebhookOutbox_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "WebhookOutbox_webhookId_fkey" FOREIGN KEY ("webhookId") REFERENCES "Webhook"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "WebhookOutbox_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "WebhookOutbox_nextAttemptAt_idx" ON "WebhookOutbox"("nextAttemptAt");

-- Each attempt names its message (the outbox row's id, sent as X-Patchbay-Delivery), so the
-- attempts of one change read together after the outbox row is gone.
ALTER TABLE "WebhookDelivery" ADD COLUMN "messageId" TEXT;
-- Pruning by age (PATCHBAY_WEBHOOK_DELIVERY_DAYS).
CREATE INDEX "WebhookDelivery_at_idx" ON "WebhookDelivery"("at");
