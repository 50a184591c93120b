-- An environment's override keeps extra's keys in the order the user gave, as Connection.extra
-- does (20261201460000_extra_key_order): jsonb sorts keys (by length, then bytes), json keeps the
-- text, sealed markers ({"$patchbay": "sealed"}) in place. Rows written before keep jsonb's order.
ALTER TABLE "ConnectionOverride" ALTER COLUMN "extra" DROP DEFAULT;
ALTER TABLE "ConnectionOverride" ALTER COLUMN "extra" TYPE json USING "extra"::text::json;
ALTER TABLE "ConnectionOverride" ALTER COLUMN "extra" SET DEFAULT '{}';
