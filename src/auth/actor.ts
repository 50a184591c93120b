import type { Role, TokenScope } from "../generated/prisma/enums";

/** Who is calling: a signed-in person, or an API token bound to one workspace. */
export type Actor = UserActor | TokenActor;

export interface UserActor {
  kind: "USER";
  userId: string;
  email: string;
  /** The session the request came with (logOut ends it). */
  sessionId: string;
}

export interface TokenActor {
  kind: "API_TOKEN";
  tokenId: string;
  workspaceId: string;
  scopes: TokenScope[];
  name: string;
  prefix: string;
  /** The person who created the token: a token acts for them and never beyond their rights. */
  createdById: string;
  /** The creator's role in the token's workspace when the token was checked (policy caps the scopes by it). */
  creatorRole: Role;
  /** Bound to one environment: resolves and tests that environment's values only (null: any). */
  environment: string | null;
}

/** The person on whose behalf the actor acts: the user, or a token's creator. */
export function actingUserId(actor: Actor): string {
  return actor.kind === "USER" ? actor.userId : actor.createdById;
}

export function actorId(actor: Actor): string {
  return actor.kind === "USER" ? actor.userId : actor.tokenId;
}

/** How the audit log and error messages name an actor; never a secret. */
export function actorLabel(actor: Actor): string {
  return actor.kind === "USER" ? actor.email : `token ${actor.name} (${actor.prefix}…)`;
}
