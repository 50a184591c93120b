-- extra keeps the key order the user gave: jsonb sorts keys (by length, then bytes), json keeps
-- the text. Rows written before keep jsonb's order; secret values inside extra are stored as
-- {"$patchbay": "sealed"} markers from now on (src/services/connections/extra-secrets.ts).
ALTER TABLE "Connection" ALTER COLUMN "extra" DROP DEFAULT;
ALTER TABLE "Connection" ALTER COLUMN "extra" TYPE json USING "extra"::json;
ALTER TABLE "Connection" ALTER COLUMN "extra" SET DEFAULT '{}';
