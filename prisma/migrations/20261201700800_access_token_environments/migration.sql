-- oauth2 connections in environments (src/services/connections/access-tokens.ts): one current
-- access token per connection and environment that has an override of it ('' is the
-- connection's own values, as before), so an environment with its own client secret or token
-- URL gets its own token, refreshed under its own advisory lock. An environment's token is
-- sealed with the context "<connection id>#access-token@<environment>"; the connection's own
-- keeps "<connection id>#access-token", so the rows already stored stay valid.
ALTER TABLE "AccessToken" ADD COLUMN "environment" TEXT NOT NULL DEFAULT '';
ALTER TABLE "AccessToken" DROP CONSTRAINT "AccessToken_pkey";
ALTER TABLE "AccessToken" ADD CONSTRAINT "AccessToken_pkey" PRIMARY KEY ("connectionId", "environment");
