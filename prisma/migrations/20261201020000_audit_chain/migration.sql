-- The audit log becomes a hash chain per workspace (src/audit/chain-hash.ts). Events written
-- before this migration are chained by the server at start-up (seq stays NULL until then).
ALTER TABLE "AuditEvent" ADD COLUMN "seq" BIGINT;
ALTER TABLE "AuditEvent" ADD COLUMN "prevHash" TEXT;
ALTER TABLE "AuditEvent" ADD COLUMN "hash" TEXT;

-- One event per position: two appends can never fork the chain.
CREATE UNIQUE INDEX "AuditEvent_workspaceId_seq_key" ON "AuditEvent"("workspaceId", "seq");
CREATE INDEX "AuditEvent_unchained_idx" ON "AuditEvent"("workspaceId") WHERE "seq" IS NULL;

-- The newest event of each chain: appends lock this row, so they serialise per chain.
CREATE TABLE "AuditChainHead" (
    "chainId" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "hash" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditChainHead_pkey" PRIMARY KEY ("chainId")
);

-- Events outside any workspace (a workspace's deletion): they outlive the workspace.
CREATE TABLE "InstanceAuditEvent" (
    "id" TEXT NOT NULL,
    "seq" BIGINT NOT NULL,
    "action" TEXT NOT NULL,
    "actorKind" "ActorKind",
    "actorId" TEXT,
    "actorLabel" TEXT NOT NULL,
    "targetType" TEXT,
    "targetId" TEXT,
    "clientIp" TEXT,
    "details" JSONB,
    "at" TIMESTAMP(3) NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "InstanceAuditEvent_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "InstanceAuditEvent_seq_key" ON "InstanceAuditEvent"("seq");
