import type { TokenScope } from "../generated/prisma/enums";

/** Who is calling: a signed-in person, or an API token bound to one workspace. */
export type Actor = UserActor | TokenActor;

export interface UserActor {
  kind: "USER";
  userId: string;
  email: string;
}

export interface TokenActor {
  kind: "API_TOKEN";
  tokenId: string;
  workspaceId: string;
  scopes: TokenScope[];
  name: string;
  prefix: string;
}

export function actorId(actor: Actor): string {
  return actor.kind === "USER" ? actor.userId : actor.tokenId;
}

/** How the audit log and error messages name an actor; never a secret. */
export function actorLabel(actor: Actor): string {
  return actor.kind === "USER" ? actor.email : `token ${actor.name} (${actor.prefix}…)`;
}
