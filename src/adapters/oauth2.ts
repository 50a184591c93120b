/**
 * An OAuth2 client (RFC 6749): a token URL, a client id (login) and secret (password), scopes,
 * and either the client-credentials grant or a stored refresh token. The test performs the
 * grant. Code resolving the connection never gets the client secret or the refresh token: it
 * gets a current access token in `password` and its expiry in `extra.expires_at`
 * (`tokens` below; src/services/connections/access-tokens.ts keeps the token, refreshes it
 * before it expires, once across processes, and stores a rotated refresh token sealed).
 *
 * The token endpoint's answer is read only as far as the standard fields: an error is named
 * by its RFC 6749 `error` code (a fixed list), never by the peer's `error_description`.
 */
import { httpRequest, isHttpFailure, type HttpAnswer } from "./common/http-request";
import { parseHttpUrl } from "./common/http-url";
import type { Failure } from "./common/network-errors";
import { failed } from "./common/outcome";
import { type Probe, runProbe } from "./common/probe";
import { secretValuesOf } from "./common/secret-fields";
import type { AccessToken, ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec, TestContext, TokenGrant } from "./types";

const GRANTS = ["client_credentials", "refresh_token"] as const;
const CLIENT_AUTH = ["basic", "post"] as const;
/** A token answer is a small JSON document. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_SCOPES_LENGTH = 2000;

const fields: FieldSpec[] = [
  {
    name: "extra.token_url",
    label: "Token URL",
    kind: "STRING",
    required: true,
    placeholder: "https://auth.example.com/oauth2/token",
    description: "The authorization server's token endpoint.",
  },
  { name: "login", label: "Client ID", kind: "STRING", required: true },
  { name: "password", label: "Client secret", kind: "PASSWORD", secret: true, description: "Empty for a public client using a refresh token." },
  {
    name: "extra.grant_type",
    label: "Grant",
    kind: "SELECT",
    options: [...GRANTS],
    default: "client_credentials",
    description: "client_credentials: the client's own token. refresh_token: a user's token, from the refresh token stored below.",
  },
  {
    name: "extra.refresh_token",
    label: "Refresh token",
    kind: "PASSWORD",
    secret: true,
    description: "For the refresh_token grant. When the server rotates it, the new one is stored (sealed) in its place.",
  },
  {
    name: "extra.scopes",
    safeToChange: true,
    label: "Scopes",
    kind: "STRING",
    placeholder: "read:reports write:reports",
    description: "Space-separated; empty asks for the client's default scopes.",
  },
  {
    name: "extra.client_auth",
    label: "Client authentication",
    kind: "SELECT",
    options: [...CLIENT_AUTH],
    default: "basic",
    description: "basic: HTTP Basic (client_secret_basic). post: in the form body (client_secret_post).",
  },
  { name: "extra.verify_tls", label: "Verify TLS certificate", kind: "BOOLEAN", default: true },
];

interface OAuth2Target {
  url: URL;
  grant: (typeof GRANTS)[number];
  clientId: string;
  clientSecret: string | null;
  clientAuth: (typeof CLIENT_AUTH)[number];
  refreshToken: string | null;
  scopes: string | null;
  verifyTls: boolean;
}

function targetOf(settings: ConnectionSettings): OAuth2Target | FieldProblem[] {
  const problems: FieldProblem[] = [];
  const url = parseHttpUrl(settings.extra.token_url, "The token URL", "https://auth.example.com/oauth2/token");
  if (typeof url === "string") problems.push({ field: "extra.token_url", message: url });
  const grant = (settings.extra.grant_type ?? "client_credentials") as OAuth2Target["grant"];
  const refreshToken = typeof settings.extra.refresh_token === "string" && settings.extra.refresh_token !== "" ? settings.extra.refresh_token : null;
  if (grant === "refresh_token" && !refreshToken) {
    problems.push({ field: "extra.refresh_token", message: "The refresh_token grant needs the refresh token." });
  }
  if (settings.login?.includes(":") && (settings.extra.client_auth ?? "basic") === "basic") {
    problems.push({ field: "login", message: "A client id sent with HTTP Basic cannot contain ':'; choose post authentication." });
  }
  const scopes = typeof settings.extra.scopes === "string" && settings.extra.scopes.trim() !== "" ? settings.extra.scopes.trim().replace(/\s+/g, " ") : null;
  if (scopes && (scopes.length > MAX_SCOPES_LENGTH || /[^\x21\x23-\x5b\x5d-\x7e ]/.test(scopes))) {
    problems.push({ field: "extra.scopes", message: "Scopes are printable ASCII words (no '\"' or '\\') separated by spaces." });
  }
  if (problems.length > 0) return problems;
  return {
    url: url as URL,
    grant,
    clientId: settings.login ?? "",
    clientSecret: settings.password || null,
    clientAuth: (settings.extra.client_auth ?? "basic") as OAuth2Target["clientAuth"],
    refreshToken,
    scopes,
    verifyTls: settings.extra.verify_tls !== false,
  };
}

/** RFC 6749 section 5.2's error codes: the only words of the server's that a message repeats. */
const TOKEN_ERRORS: Record<string, Failure> = {
  invalid_client: { code: "AUTH_FAILED", message: "the client id or secret was refused (invalid_client)" },
  invalid_grant: { code: "AUTH_FAILED", message: "the refresh token was refused: expired, revoked or used (invalid_grant)" },
  unauthorized_client: { code: "PERMISSION_DENIED", message: "this client may not use this grant (unauthorized_client)" },
  invalid_scope: { code: "PERMISSION_DENIED", message: "the scopes were refused (invalid_scope)" },
  unsupported_grant_type: { code: "INVALID_CONFIG", message: "the server does not support this grant (unsupported_grant_type)" },
  invalid_request: { code: "INVALID_CONFIG", message: "the server found the request malformed (invalid_request)" },
};

function requestOf(target: OAuth2Target): { body: string; headers: Record<string, string>; credentials: Record<string, string> } {
  const form = new URLSearchParams({ grant_type: target.grant });
  if (target.grant === "refresh_token") form.set("refresh_token", target.refreshToken ?? "");
  if (target.scopes) form.set("scope", target.scopes);
  const credentials: Record<string, string> = {};
  if (target.clientAuth === "basic" && target.clientSecret !== null) {
    // RFC 6749 2.3.1: both parts form-urlencoded before Basic.
    const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, "+");
    credentials.authorization = `Basic ${Buffer.from(`${encode(target.clientId)}:${encode(target.clientSecret)}`).toString("base64")}`;
  } else {
    form.set("client_id", target.clientId);
    if (target.clientSecret !== null) form.set("client_secret", target.clientSecret);
  }
  return { body: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" }, credentials };
}

/** The grant the token endpoint answered, or what its answer means. */
export function readTokenAnswer(target: OAuth2Target, answer: HttpAnswer, now = Date.now()): TokenGrant | Failure {
  const where = `The token endpoint ${target.url.host}`;
  let document: Record<string, unknown> | null = null;
  if (answer.complete) {
    try {
      const parsed: unknown = JSON.parse(answer.body.toString("utf8"));
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) document = parsed as Record<string, unknown>;
    } catch {
      document = null;
    }
  }
  if (answer.status !== 200) {
    const error = typeof document?.error === "string" && Object.hasOwn(TOKEN_ERRORS, document.error) ? TOKEN_ERRORS[document.error] : null;
    if (error) return { code: error.code, message: `${where} answered ${answer.status}: ${error.message}.` };
    if (answer.status === 401) return { code: "AUTH_FAILED", message: `${where} answered 401: the client credentials were refused.` };
    if (answer.status === 403) return { code: "PERMISSION_DENIED", message: `${where} answered 403.` };
    if (answer.status === 404) return { code: "NOT_FOUND", message: `${where} answered 404: check the token URL.` };
    return { code: "PROTOCOL_ERROR", message: `${where} answered ${answer.status}; a token endpoint answers 200 or an OAuth2 error.` };
  }
  const accessToken = document?.access_token;
  if (typeof accessToken !== "string" || accessToken === "") {
    return { code: "PROTOCOL_ERROR", message: `${where} answered 200 without an access token in a JSON body.` };
  }
  const expiresIn = Number(document?.expires_in);
  const refresh = document?.refresh_token;
  return {
    accessToken,
    tokenType: typeof document?.token_type === "string" && /^[A-Za-z0-9_.-]{1,40}$/.test(document.token_type) ? document.token_type : "Bearer",
    expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? new Date(now + expiresIn * 1000) : null,
    refreshToken: typeof refresh === "string" && refresh !== "" && refresh !== target.refreshToken ? refresh : null,
  };
}

function isGrant(value: TokenGrant | Failure): value is TokenGrant {
  return "accessToken" in value;
}

const probe: Probe<OAuth2Target, TokenGrant | Failure> = {
  fields,
  target: (settings) => {
    const target = targetOf(settings);
    if (Array.isArray(target)) return { code: "INVALID_CONFIG", message: target.map((p) => p.message).join(" ") };
    // Saved without it (a secret entered later, or stripped for git): the grant cannot run.
    if (target.grant === "client_credentials" && !target.clientSecret) {
      return { code: "SECRET_REQUIRED", message: "The client_credentials grant needs the client secret." };
    }
    return target;
  },
  // httpRequest keeps its own deadline.
  deadline: false,
  async open(target, { ctx }) {
    const { body, headers, credentials } = requestOf(target);
    const answer = await httpRequest(ctx, {
      url: target.url,
      method: "POST",
      body,
      headers,
      credentials,
      verifyTls: target.verifyTls,
      maxBodyBytes: MAX_BODY_BYTES,
    });
    return isHttpFailure(answer) ? answer : readTokenAnswer(target, answer);
  },
  describe(target, result) {
    if (!isGrant(result)) return result;
    const lifetime = result.expiresAt ? `, valid until ${result.expiresAt.toISOString()}` : "";
    const rotated = result.refreshToken ? "; the server rotated the refresh token" : "";
    return { ok: true, message: `The ${target.grant} grant returned a ${result.tokenType} access token${lifetime}${rotated}.` };
  },
  classify: (_error, target) => ({ code: "UNKNOWN", message: `The token request to ${target.url.host} failed.` }),
};

/** Performs the grant; on success the token (never in a message), on failure the scrubbed outcome. */
async function grant(settings: ConnectionSettings, ctx: TestContext): Promise<TokenGrant | Failure> {
  let obtained: TokenGrant | null = null;
  const outcome = await runProbe(
    {
      ...probe,
      describe(target, result, session) {
        if (isGrant(result)) obtained = result;
        return probe.describe(target, result, session);
      },
    },
    settings,
    ctx,
  );
  if (outcome.ok && obtained) return obtained;
  if (!outcome.ok) return { code: outcome.code, message: outcome.message };
  const secrets = secretValuesOf(fields, settings);
  const none = failed("UNKNOWN", "The grant returned no token.", secrets) as Failure;
  return none;
}

export const oauth2Adapter: ConnectionAdapter = {
  id: "oauth2",
  label: "OAuth2 client",
  summary: "performs the client-credentials or refresh-token grant; resolving returns a current access token, refreshed before expiry",
  fields,
  validate: (settings) => {
    const target = targetOf(settings);
    return Array.isArray(target) ? target : [];
  },
  test: (settings, ctx) => runProbe(probe, settings, ctx),
  tokens: {
    grant,
    resolved(settings: ConnectionSettings, token: AccessToken): ConnectionSettings {
      // The client secret and the refresh token stay here; the caller gets the access token.
      const { refresh_token: _refresh, ...extra } = settings.extra;
      return {
        ...settings,
        password: token.accessToken,
        extra: { ...extra, token_type: token.tokenType, expires_at: token.expiresAt ? token.expiresAt.toISOString() : null },
      };
    },
    rotatedSecret: "extra.refresh_token",
  },
};
