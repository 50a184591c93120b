-- A connection's lastUsedAt derives from its usage counts (the newest lastUsedAt over its rows,
-- src/services/connections/listing.ts); this index makes that one probe per connection however
-- many days and actors it has. Connection."lastUsedAt" is no longer written: it keeps the last
-- use from before usage was counted per day.
CREATE INDEX "ConnectionUsage_connectionId_lastUsedAt_idx" ON "ConnectionUsage"("connectionId", "lastUsedAt" DESC);
