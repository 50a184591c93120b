-- Indexes for the connection page's one statement (src/services/connections/listing.ts).
-- A connection's lastUsedAt derives from its usage counts (the newest lastUsedAt over its rows,
-- src/services/connections/listing.ts); this index makes that one probe per connection however
-- many days and actors it has. Connection."lastUsedAt" is no longer written: it keeps the last
-- use from before usage was counted per day.
CREATE INDEX "ConnectionUsage_connectionId_lastUsedAt_idx" ON "ConnectionUsage"("connectionId", "lastUsedAt" DESC);

-- A connection's newest test result is the first entry of this index, ties on testedAt broken
-- by id as every query orders them, so lastTest and histories read no more than they return.
CREATE INDEX "TestResult_connectionId_testedAt_id_idx" ON "TestResult"("connectionId", "testedAt" DESC, "id" DESC);
DROP INDEX "TestResult_connectionId_testedAt_idx";
