/**
 * The caller of one request: the actor, where they call from, and their roles, looked up
 * at most once per workspace per request. Services receive a Caller and ask it before they
 * act; it answers NOT_FOUND for a workspace the actor cannot see, so ids cannot be probed.
 */
import DataLoader from "dataloader";
import type { Actor } from "../auth/actor";
import type { Db } from "../db/prisma";
import { ForbiddenError, NotFoundError, UnauthenticatedError } from "../errors";
import type { Role } from "../generated/prisma/enums";
import { type Action, roleAllows, scopesAllow } from "./policy";

export class Caller {
  private readonly roles: DataLoader<string, Role | null>;

  constructor(
    readonly actor: Actor | null,
    readonly clientIp: string | null,
    db: Db,
  ) {
    const userId = actor?.kind === "USER" ? actor.userId : null;
    this.roles = new DataLoader(async (workspaceIds) => {
      if (!userId) return workspaceIds.map(() => null);
      const rows = await db.membership.findMany({
        where: { userId, workspaceId: { in: [...workspaceIds] } },
        select: { workspaceId: true, role: true },
      });
      const byWorkspace = new Map(rows.map((r) => [r.workspaceId, r.role]));
      return workspaceIds.map((id) => byWorkspace.get(id) ?? null);
    });
  }

  /** The actor, or UNAUTHENTICATED. */
  get signedIn(): Actor {
    if (!this.actor) throw new UnauthenticatedError();
    return this.actor;
  }

  /** The signed-in person; API tokens are refused for what only people may do. */
  get person(): Extract<Actor, { kind: "USER" }> {
    const actor = this.signedIn;
    if (actor.kind !== "USER") throw new ForbiddenError("API tokens cannot do this; sign in as a person.");
    return actor;
  }

  /** The caller's role in a workspace; null for tokens and non-members. */
  role(workspaceId: string): Promise<Role | null> {
    return this.roles.load(workspaceId);
  }

  async canSee(workspaceId: string): Promise<boolean> {
    const actor = this.signedIn;
    if (actor.kind === "API_TOKEN") return actor.workspaceId === workspaceId;
    return (await this.role(workspaceId)) !== null;
  }

  async can(workspaceId: string, action: Action): Promise<boolean> {
    const actor = this.signedIn;
    if (actor.kind === "API_TOKEN") return actor.workspaceId === workspaceId && scopesAllow(actor.scopes, action);
    const role = await this.role(workspaceId);
    return role !== null && roleAllows(role, action);
  }

  /**
   * Throws NOT_FOUND (naming `what`) when the workspace is not the caller's, FORBIDDEN when
   * it is but the action is not allowed.
   */
  async authorize(workspaceId: string, action: Action, what = "Workspace"): Promise<void> {
    if (!(await this.canSee(workspaceId))) throw new NotFoundError(what);
    if (!(await this.can(workspaceId, action))) throw new ForbiddenError();
  }

  /** Forget cached roles after this request changed them. */
  forgetRole(workspaceId: string): void {
    this.roles.clear(workspaceId);
  }
}
