/**
 * A real OAuth2 authorization server for tests: oidc-provider (the certified OpenID Connect
 * provider for Node), in this process, on 127.0.0.1, with in-memory storage. One confidential
 * client may use the client-credentials and refresh-token grants; refresh tokens rotate (a
 * used one is refused with invalid_grant). `issueRefreshToken` makes a user's refresh token as
 * the authorization-code flow would have left it. Every token request is counted by grant and
 * by client. `extraClients` registers more confidential clients with the same grants (one per
 * environment, say).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface OAuthServer {
  tokenUrl: string;
  port: number;
  clientId: string;
  clientSecret: string;
  scope: string;
  /** Token requests seen, by grant_type. */
  requests: Record<string, number>;
  /** Token requests seen, by client id (after the provider authenticated the client). */
  requestsByClient: Record<string, number>;
  /** A fresh refresh token for a user of the client (the main one unless named). */
  issueRefreshToken(clientId?: string): Promise<string>;
  /** Makes every token request wait this long before the provider answers. */
  delayMs: number;
  stop(): Promise<void>;
}

const CLIENT_ID = "reports-client";
const CLIENT_SECRET = "s3cret-client/+&:%";
const RESOURCE = "urn:patchbay:reports";
const SCOPE = "read:reports";

export interface ExtraClient {
  clientId: string;
  clientSecret: string;
}

export async function startOAuthServer(options: { accessTokenTtlSeconds?: number; extraClients?: ExtraClient[] } = {}): Promise<OAuthServer> {
  const { default: Provider } = await import("oidc-provider");
  const ttl = options.accessTokenTtlSeconds ?? 600;
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }, ...(options.extraClients ?? [])].map((client) => ({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      grant_types: ["client_credentials", "refresh_token", "authorization_code"],
      redirect_uris: ["https://app.example.com/callback"],
      response_types: ["code"],
      scope: `openid offline_access ${SCOPE}`,
    })),
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        getResourceServerInfo: () => ({ scope: SCOPE, accessTokenTTL: ttl, accessTokenFormat: "opaque" }),
        useGrantedResource: () => true,
      },
    },
    scopes: ["openid", "offline_access", SCOPE],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    rotateRefreshToken: true,
    ttl: { ClientCredentials: ttl, AccessToken: ttl, RefreshToken: 86_400, Grant: 86_400, IdToken: 600 },
  });
  const service: OAuthServer = {
    tokenUrl: `${issuer}/token`,
    port,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    scope: SCOPE,
    requests: {},
    requestsByClient: {},
    delayMs: 0,
    async issueRefreshToken(clientId = CLIENT_ID) {
      const client = await provider.Client.find(clientId);
      const grant = new provider.Grant({ accountId: "user-1", clientId });
      grant.addOIDCScope("openid offline_access");
      grant.addResourceScope(RESOURCE, SCOPE);
      const grantId = await grant.save();
      const token = new provider.RefreshToken({ accountId: "user-1", client, grantId, scope: "openid offline_access", gty: "authorization_code", resource: RESOURCE });
      return token.save();
    },
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  // Counts every token request by grant (after the provider parsed it), and can hold it back.
  provider.use(async (ctx: { path: string; method: string; oidc?: { params?: { grant_type?: string }; client?: { clientId: string } } }, next: () => Promise<void>) => {
    const isToken = ctx.method === "POST" && ctx.path === "/token";
    if (isToken && service.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, service.delayMs));
    await next();
    if (!isToken) return;
    const grant = ctx.oidc?.params?.grant_type ?? "none";
    service.requests[grant] = (service.requests[grant] ?? 0) + 1;
    const client = ctx.oidc?.client?.clientId ?? "unknown";
    service.requestsByClient[client] = (service.requestsByClient[client] ?? 0) + 1;
  });
  server.on("request", provider.callback());
  return service;
}
