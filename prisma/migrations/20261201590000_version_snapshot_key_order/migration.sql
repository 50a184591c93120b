-- A version's snapshot keeps extra's keys in the order the user gave, as Connection.extra does
-- (20261201460000_extra_key_order): jsonb sorts keys, so a rollback restored them sorted.
-- Snapshots written before this keep the order jsonb gave them.
ALTER TABLE "ConnectionVersion" ALTER COLUMN "snapshot" TYPE JSON USING "snapshot"::text::json;
