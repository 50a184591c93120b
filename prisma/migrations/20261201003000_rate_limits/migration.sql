-- Counters of the rate limits and lockouts, shared by every server process on this database
-- (src/limits/shared-limiter.ts). The columns are the ones rate-limiter-flexible's
-- RateLimiterPostgres reads and writes, in its order; it is told the table exists, so it never
-- runs DDL itself. key is "<limit>:<hash of the subject>", so no email or address is stored;
-- expire is the window's end in epoch milliseconds.
CREATE TABLE "RateLimit" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL DEFAULT 0,
    "expire" BIGINT,

    CONSTRAINT "RateLimit_pkey" PRIMARY KEY ("key")
);

-- The sweep of expired windows deletes by expire.
CREATE INDEX "RateLimit_expire_idx" ON "RateLimit"("expire");
