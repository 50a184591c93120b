-- Webhooks called when a connection's status changes (src/services/health/webhooks.ts). The
-- signing secret is sealed with the workspace key (seal context: the webhook id plus
-- "#webhook"), and, like every sealed table (src/crypto/sealed-columns.ts), its key version
-- cannot be destroyed while a row names it.
CREATE TABLE "Webhook" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "secretCiphertext" BYTEA NOT NULL,
    "keyVersion" INTEGER NOT NULL,
    "createdById" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Webhook_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "Webhook_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "Webhook_workspaceId_keyVersion_idx" ON "Webhook"("workspaceId", "keyVersion");
ALTER TABLE "Webhook" ADD CONSTRAINT "Webhook_workspaceId_keyVersion_fkey"
  FOREIGN KEY ("workspaceId", "keyVersion") REFERENCES "WorkspaceKey"("workspaceId", "version")
  ON DELETE NO ACTION ON UPDATE NO ACTION DEFERRABLE INITIALLY DEFERRED;

-- One row per attempt: DELIVERED (a 2xx answer), FAILED (another answer, a timeout, a network
-- error) or REFUSED (the egress policy refused the address; nothing was sent).
CREATE TABLE "WebhookDelivery" (
    "id" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "connectionId" TEXT NOT NULL,
    "oldStatus" "TestStatus" NOT NULL,
    "newStatus" "TestStatus" NOT NULL,
    "attempt" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "WebhookDelivery_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "WebhookDelivery_webhookId_fkey" FOREIGN KEY ("webhookId") REFERENCES "Webhook"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "WebhookDelivery_webhookId_at_idx" ON "WebhookDelivery"("webhookId", "at" DESC);
