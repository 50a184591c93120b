// oidc-provider ships no types; the tests use a few members of it (test/servers/oauth2.ts).
declare module "oidc-provider";
