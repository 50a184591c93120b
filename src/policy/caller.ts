/**
 * The caller of one request: the actor, where they call from, and their roles, looked up
 * at most once per workspace per request. Services receive a Caller and ask it before they
 * act; it answers NOT_FOUND for a workspace the actor cannot see, so ids cannot be probed.
 * The answers come from the policy (policy.ts); the Caller only knows who asks.
 */
import DataLoader from "dataloader";
import type { Actor } from "../auth/actor";
import { ForbiddenError, NotFoundError, UnauthenticatedError } from "../errors";
import type { Role } from "../generated/prisma/enums";
import { type Action, allows, environmentFor, isPeopleOnly, mayKeepSecretsWhenRepointing, type Repointing, type Subject } from "./policy";

/** Where a person's roles come from (the workspace service). */
export interface RoleSource {
  rolesIn(userId: string, workspaceIds: readonly string[]): Promise<Map<string, Role>>;
}

const PEOPLE_ONLY_MESSAGE = "API tokens cannot do this; sign in as a person.";

export class Caller {
  private readonly roles: DataLoader<string, Role | null>;

  constructor(
    readonly actor: Actor | null,
    readonly clientIp: string | null,
    roleSource: RoleSource,
  ) {
    const userId = actor?.kind === "USER" ? actor.userId : null;
    this.roles = new DataLoader(async (workspaceIds) => {
      if (!userId) return workspaceIds.map(() => null);
      const byWorkspace = await roleSource.rolesIn(userId, workspaceIds);
      return workspaceIds.map((id) => byWorkspace.get(id) ?? null);
    });
  }

  /** The actor, or UNAUTHENTICATED. */
  get signedIn(): Actor {
    if (!this.actor) throw new UnauthenticatedError();
    return this.actor;
  }

  /** The signed-in person, for what only people may do outside a workspace (creating one). */
  get person(): Extract<Actor, { kind: "USER" }> {
    const actor = this.signedIn;
    if (actor.kind !== "USER") throw new ForbiddenError(PEOPLE_ONLY_MESSAGE);
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
    if (actor.kind === "API_TOKEN" && actor.workspaceId !== workspaceId) return false;
    return allows(await this.subject(workspaceId), action);
  }

  /**
   * Throws NOT_FOUND (naming `what`) when the workspace is not the caller's, FORBIDDEN when
   * it is but the action is not allowed.
   */
  async authorize(workspaceId: string, action: Action, what = "Workspace"): Promise<void> {
    if (!(await this.canSee(workspaceId))) throw new NotFoundError(what);
    if (await this.can(workspaceId, action)) return;
    throw new ForbiddenError(this.actor?.kind === "API_TOKEN" && isPeopleOnly(action) ? PEOPLE_ONLY_MESSAGE : undefined);
  }

  /**
   * authorize() for several workspaces at once (a list's per-workspace fields): for each, null
   * when allowed, else the error authorize() would throw. Role lookups are batched.
   */
  authorizeEach(workspaceIds: readonly string[], action: Action, what = "Workspace"): Promise<Array<Error | null>> {
    return Promise.all(workspaceIds.map((id) => this.authorize(id, action, what).then(() => null, (error: Error) => error)));
  }

  /** The repointing rule for a change in a workspace the caller may already write to. */
  async mayKeepSecretsWhenRepointing(workspaceId: string, change: Repointing): Promise<boolean> {
    return mayKeepSecretsWhenRepointing(change, await this.can(workspaceId, "connection.resolve"));
  }

  /**
   * The environment this request acts in (null: the connection's own values). A token bound
   * to an environment acts in it whatever it names, and naming another is FORBIDDEN.
   */
  environment(requested: string | null | undefined): string | null {
    const actor = this.signedIn;
    const bound = actor.kind === "API_TOKEN" ? actor.environment : null;
    const chosen = environmentFor(bound, requested ?? null);
    if (chosen === false) throw new ForbiddenError(`This token is bound to the environment ${bound} and cannot use another.`);
    return chosen;
  }

  /** Forget cached roles after this request changed them. */
  forgetRole(workspaceId: string): void {
    this.roles.clear(workspaceId);
  }

  private async subject(workspaceId: string): Promise<Subject> {
    const actor = this.signedIn;
    return actor.kind === "API_TOKEN"
      ? { kind: "API_TOKEN", scopes: actor.scopes, creatorRole: actor.creatorRole }
      : { kind: "USER", role: await this.role(workspaceId) };
  }
}
