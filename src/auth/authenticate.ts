/**
 * Turns a request's Authorization header into an actor: an API token (`pbt_…`) or a session
 * token. No header is an anonymous caller; a header that does not check out is refused
 * outright rather than silently treated as anonymous.
 */
import { UnauthenticatedError } from "../errors";
import { currentRecord } from "../observability/request-record";
import type { ApiTokenService } from "../services/api-tokens";
import type { IdentityService } from "../services/identity";
import { type Actor, actorId } from "./actor";
import { looksLikeApiToken } from "./api-token-format";

export async function authenticate(
  authorization: string | undefined,
  services: { identity: IdentityService; apiTokens: ApiTokenService },
): Promise<Actor | null> {
  if (!authorization) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw new UnauthenticatedError("Send the token as 'Authorization: Bearer <token>'.");
  const token = match[1];
  const actor = looksLikeApiToken(token)
    ? await services.apiTokens.authenticate(token)
    : await services.identity.authenticateSession(token);
  if (!actor) throw new UnauthenticatedError("The token is invalid, expired or revoked.");
  // The access log names who asked (an id, never the token).
  const record = currentRecord();
  if (record) record.actor = { kind: actor.kind, id: actorId(actor) };
  return actor;
}
