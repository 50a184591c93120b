/**
 * Workspaces and their members. A workspace is the tenant: its creator becomes its OWNER and
 * it gets its own data key. People join by invitation (invitations.ts); admins manage members
 * below OWNER, only owners manage owners, and the last owner can neither leave nor be demoted.
 */
import { randomUUID } from "node:crypto";
import { ExpiringCache } from "../cache/expiring-cache";
import type { Invalidation, InvalidationListener } from "../cache/invalidation";
import type { InvalidationBus } from "../cache/invalidation-bus";
import type { Keyring } from "../crypto/keyring";
import { isUniqueViolation } from "../db/errors";
import type { Db } from "../db/prisma";
import type { Sql, Statement } from "../db/sql";
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from "../errors";
import type { AuditEvent, Membership, Workspace } from "../generated/prisma/client";
import type { Role } from "../generated/prisma/enums";
import type { Caller } from "../policy/caller";
import { allows, roleChangeAction } from "../policy/policy";
import { type ChainReport, type KnownHead, verifyWorkspaceChain } from "../audit/verify";
import { PAUSED_DEMOTED, PAUSED_REMOVED, pauseSchedulesOf } from "./health/schedules";
import { recordAudit, recordInstanceAudit } from "./audit";
import { decodeCursor, type Page, pageSize, toPage } from "./pagination";
import type { SharedLimiter } from "../limits/shared-limiter";

// Namespaces the advisory lock of the owned-workspaces cap (first key of the two-key form).
const OWNED_CAP_LOCK = 7_307_602;

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** What bounds the workspaces one person creates (README, Security). */
export interface WorkspaceLimits {
  /** Creations per person per hour, shared by every process. */
  creationsPerUser: SharedLimiter;
  /** Workspaces one person may own at once. */
  maxOwnedPerUser: number;
}

export interface RoleCacheOptions {
  /** How long a looked-up role is trusted without asking the database again. */
  ttlMs: number;
  /** Whether invalidations are heard (InvalidationBus.listening); nothing is cached otherwise. */
  storing: () => boolean;
}

const MAX_CACHED_ROLES = 100_000;

const WORKSPACE_BY_SLUG: Statement = {
  name: "workspace-by-slug",
  text: `SELECT w."id", w."slug", w."name", w."createdAt" FROM "Workspace" w WHERE w."slug" = $1`,
};

export class WorkspaceService implements InvalidationListener {
  /** `${workspaceId}:${userId}` to the role there, or null for "not a member". */
  private readonly roles: ExpiringCache<string, Role | null>;

  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly bus: InvalidationBus,
    cache: RoleCacheOptions,
    private readonly limits: WorkspaceLimits,
    private readonly sql: Sql,
  ) {
    this.roles = new ExpiringCache({ ttlMs: cache.ttlMs, maxEntries: MAX_CACHED_ROLES, storing: cache.storing });
  }

  invalidate(change: Invalidation): void {
    if (change.kind === "membership") this.roles.delete(`${change.workspaceId}:${change.userId}`);
    else if (change.kind === "workspace") this.roles.deleteWhere((_role, key) => key.startsWith(`${change.workspaceId}:`));
  }

  reset(): void {
    this.roles.clear();
  }

  async create(caller: Caller, input: { slug: string; name: string }): Promise<Workspace> {
    const person = caller.person;
    const slug = input.slug.trim();
    if (!SLUG.test(slug)) {
      throw new BadUserInputError("A slug is 1 to 63 lower-case letters, digits and inner hyphens.", "slug");
    }
    const name = input.name.trim();
    if (!name || name.length > 200) throw new BadUserInputError("Give the workspace a name of 1 to 200 characters.", "name");
    await this.limits.creationsPerUser.hit(person.userId);
    try {
      return await this.bus.transaction(this.db, async (tx, announce) => {
        // Under a lock per person, so concurrent creations in any process cannot overshoot the cap.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${OWNED_CAP_LOCK}::int, hashtext(${person.userId}))`;
        const owned = await tx.membership.count({ where: { userId: person.userId, role: "OWNER" } });
        if (owned >= this.limits.maxOwnedPerUser) {
          throw new ForbiddenError(`You own ${owned} workspaces, the most this server allows; delete or hand one over first.`);
        }
        const workspace = await tx.workspace.create({ data: { id: randomUUID(), slug, name } });
        await tx.membership.create({ data: { workspaceId: workspace.id, userId: person.userId, role: "OWNER" } });
        await announce({ kind: "membership", workspaceId: workspace.id, userId: person.userId });
        await this.keyring.createInitialKey(tx, workspace.id);
        await recordAudit(tx, caller, {
          workspaceId: workspace.id,
          action: "workspace.create",
          targetType: "Workspace",
          targetId: workspace.id,
          details: { slug, name },
        });
        return workspace;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`The slug ${slug} is taken.`, { field: "slug" });
      throw error;
    }
  }

  /**
   * Deletes a workspace (OWNER, its slug typed again): its wrapped data keys first, then all
   * its data, in one transaction (crypto-shredding: README, Keys over time). Every process
   * drops what it cached of the workspace when this commits, so its tokens are refused at
   * once. The deletion is recorded in the instance's audit chain, which outlives the workspace.
   */
  async delete(caller: Caller, workspaceId: string, confirmSlug: string): Promise<boolean> {
    await caller.authorize(workspaceId, "workspace.own");
    const workspace = await this.db.workspace.findUnique({ where: { id: workspaceId } });
    if (!workspace) throw new NotFoundError("Workspace");
    if (confirmSlug !== workspace.slug) {
      throw new BadUserInputError("Type the workspace's slug to confirm its deletion.", "confirmSlug");
    }
    await this.bus.transaction(this.db, async (tx, announce) => {
      // The keys go first: from here on, nothing in this transaction or after can open a secret.
      await tx.$executeRaw`DELETE FROM "WorkspaceKey" WHERE "workspaceId" = ${workspaceId}`;
      const deleted = await tx.$executeRaw`DELETE FROM "Workspace" WHERE "id" = ${workspaceId} AND "slug" = ${workspace.slug}`;
      if (deleted === 0) throw new ConflictError("The workspace changed or was deleted meanwhile; reload and try again.");
      await tx.$executeRaw`DELETE FROM "AuditChainHead" WHERE "chainId" = ${workspaceId}`;
      await announce({ kind: "workspace", workspaceId });
      await recordInstanceAudit(tx, caller, {
        action: "workspace.delete",
        targetType: "Workspace",
        targetId: workspaceId,
        details: { slug: workspace.slug, name: workspace.name },
      });
    });
    caller.forgetRole(workspaceId);
    return true;
  }

  /** The workspaces the caller can see: a person's memberships, or a token's own workspace. */
  async listVisible(caller: Caller): Promise<Workspace[]> {
    const actor = caller.signedIn;
    if (actor.kind === "API_TOKEN") {
      return this.db.workspace.findMany({ where: { id: actor.workspaceId } });
    }
    return this.db.workspace.findMany({
      where: { memberships: { some: { userId: actor.userId } } },
      orderBy: { slug: "asc" },
    });
  }

  async bySlug(caller: Caller, slug: string): Promise<Workspace | null> {
    // On the pg pool: every page of connections starts here (issue 10, P2), and a server that
    // only resolves and lists need not load Prisma's engine (RSS).
    const [workspace] = await this.sql.rows<Workspace>(WORKSPACE_BY_SLUG, [slug]);
    if (!workspace || !(await caller.canSee(workspace.id))) return null;
    await caller.authorize(workspace.id, "workspace.read");
    return workspace;
  }

  /** A workspace the caller can see, by id (Member.workspace); NOT_FOUND otherwise. */
  async byId(caller: Caller, workspaceId: string): Promise<Workspace> {
    await caller.authorize(workspaceId, "workspace.read");
    const workspace = await this.db.workspace.findUnique({ where: { id: workspaceId } });
    if (!workspace) throw new NotFoundError("Workspace");
    return workspace;
  }

  async members(caller: Caller, workspaceId: string): Promise<Membership[]> {
    await caller.authorize(workspaceId, "workspace.read");
    return this.db.membership.findMany({ where: { workspaceId }, orderBy: [{ createdAt: "asc" }, { userId: "asc" }] });
  }

  /** members() of several workspaces in one statement; an Error in place of each refused one. */
  async membersOf(caller: Caller, workspaceIds: readonly string[]): Promise<Array<Membership[] | Error>> {
    const refusals = await caller.authorizeEach(workspaceIds, "workspace.read");
    const allowed = workspaceIds.filter((_, i) => !refusals[i]);
    const rows = allowed.length
      ? await this.db.membership.findMany({ where: { workspaceId: { in: allowed } }, orderBy: [{ createdAt: "asc" }, { userId: "asc" }] })
      : [];
    return workspaceIds.map((id, i) => refusals[i] ?? rows.filter((row) => row.workspaceId === id));
  }

  async setMemberRole(caller: Caller, input: { workspaceId: string; userId: string; role: Role }): Promise<Membership> {
    const current = await this.membershipVisibleTo(caller, input.workspaceId, input.userId);
    await this.authorizeRoleChange(caller, input.workspaceId, input.role, current.role);
    if (current.role === input.role) return current;
    return this.bus.transaction(this.db, async (tx, announce) => {
      await recheckUnderLock(tx, caller, input.workspaceId, input.userId, current.role, [input.role, current.role], false);
      const updated = await tx.membership.update({
        where: { workspaceId_userId: { workspaceId: input.workspaceId, userId: input.userId } },
        data: { role: input.role },
      });
      if (input.role !== "ADMIN" && input.role !== "OWNER") await pauseSchedulesOf(tx, input.workspaceId, input.userId, PAUSED_DEMOTED);
      await announce({ kind: "membership", workspaceId: input.workspaceId, userId: input.userId });
      await recordAudit(tx, caller, {
        workspaceId: input.workspaceId,
        action: "member.set_role",
        targetType: "User",
        targetId: input.userId,
        details: { from: current.role, to: input.role },
      });
      caller.forgetRole(input.workspaceId);
      return updated;
    });
  }

  /** Admins remove members below OWNER, owners anyone; everyone may leave. */
  async removeMember(caller: Caller, input: { workspaceId: string; userId: string }): Promise<boolean> {
    const current = await this.membershipVisibleTo(caller, input.workspaceId, input.userId);
    const leaving = caller.actor?.kind === "USER" && caller.actor.userId === input.userId;
    if (!leaving) await this.authorizeRoleChange(caller, input.workspaceId, current.role, current.role);
    await this.bus.transaction(this.db, async (tx, announce) => {
      await recheckUnderLock(tx, caller, input.workspaceId, input.userId, current.role, [current.role], leaving);
      await tx.membership.delete({ where: { workspaceId_userId: { workspaceId: input.workspaceId, userId: input.userId } } });
      await pauseSchedulesOf(tx, input.workspaceId, input.userId, PAUSED_REMOVED);
      await announce({ kind: "membership", workspaceId: input.workspaceId, userId: input.userId });
      await recordAudit(tx, caller, {
        workspaceId: input.workspaceId,
        action: leaving ? "member.leave" : "member.remove",
        targetType: "User",
        targetId: input.userId,
        details: { role: current.role },
      });
    });
    caller.forgetRole(input.workspaceId);
    return true;
  }

  async auditEvents(
    caller: Caller,
    workspaceId: string,
    args: { first?: number | null; after?: string | null },
  ): Promise<Page<Omit<AuditEvent, "seq"> & { seq: string | null }>> {
    await caller.authorize(workspaceId, "workspace.admin");
    const size = pageSize(args.first, 50);
    let before = {};
    if (args.after) {
      const [at, id] = decodeCursor(args.after, 2);
      const atDate = new Date(at);
      if (Number.isNaN(atDate.getTime())) decodeCursor("", 2);
      before = { OR: [{ at: { lt: atDate } }, { at: atDate, id: { lt: id } }] };
    }
    const rows = await this.db.auditEvent.findMany({
      where: { workspaceId, ...before },
      orderBy: [{ at: "desc" }, { id: "desc" }],
      take: size + 1,
    });
    const page = toPage(rows, size, (e) => [e.at.toISOString(), e.id]);
    return { ...page, nodes: page.nodes.map((event) => ({ ...event, seq: event.seq?.toString() ?? null })) };
  }

  /** Recomputes the workspace's audit chain (ADMIN and above). */
  async verifyAuditChain(caller: Caller, workspaceId: string, known?: KnownHead | null) {
    await caller.authorize(workspaceId, "workspace.admin");
    const report: ChainReport = await verifyWorkspaceChain(this.db, workspaceId, known);
    return { ...report, head: report.head && { seq: report.head.seq.toString(), hash: report.head.hash } };
  }

  private async membershipVisibleTo(caller: Caller, workspaceId: string, userId: string): Promise<Membership> {
    await caller.authorize(workspaceId, "workspace.read");
    const membership = await this.db.membership.findUnique({ where: { workspaceId_userId: { workspaceId, userId } } });
    if (!membership) throw new NotFoundError("Member");
    return membership;
  }

  /** The roles a person holds in the given workspaces (the Caller's role lookups), cached briefly. */
  async rolesIn(userId: string, workspaceIds: readonly string[]): Promise<Map<string, Role>> {
    const roles = new Map<string, Role>();
    const missing: string[] = [];
    for (const workspaceId of workspaceIds) {
      const cached = this.roles.peek(`${workspaceId}:${userId}`);
      if (cached === undefined) missing.push(workspaceId);
      else if (cached !== null) roles.set(workspaceId, cached);
    }
    if (missing.length === 0) return roles;
    const startedAt = this.roles.begin();
    const rows = await this.db.membership.findMany({
      where: { userId, workspaceId: { in: missing } },
      select: { workspaceId: true, role: true },
    });
    const found = new Map(rows.map((r) => [r.workspaceId, r.role]));
    for (const workspaceId of missing) {
      const role = found.get(workspaceId) ?? null;
      this.roles.storeIf(startedAt, `${workspaceId}:${userId}`, role);
      if (role) roles.set(workspaceId, role);
    }
    return roles;
  }

  /** The workspace an API token belongs to, for the token's own view of itself. */
  async ofToken(caller: Caller): Promise<Workspace | null> {
    const actor = caller.signedIn;
    if (actor.kind !== "API_TOKEN") return null;
    return this.db.workspace.findUnique({ where: { id: actor.workspaceId } });
  }

  /** Admins may grant and change roles below OWNER; owners any role (policy: roleChangeAction). */
  private async authorizeRoleChange(caller: Caller, workspaceId: string, newRole: Role, currentRole?: Role): Promise<void> {
    await caller.authorize(workspaceId, "workspace.admin");
    if (roleChangeAction(newRole, currentRole) === "workspace.own" && !(await caller.can(workspaceId, "workspace.own"))) {
      throw new ForbiddenError("Only an owner can grant, change or remove the OWNER role.");
    }
  }
}

/**
 * Re-checks a membership change against the rows as they are now, holding a lock on every
 * membership of the workspace until the change commits. Without it, two changes that each
 * looked fine when read (two owners demoting each other, an admin demoting someone who was
 * promoted to owner meanwhile) could together leave a workspace without an owner.
 */
async function recheckUnderLock(
  tx: Pick<Db, "$queryRaw">,
  caller: Caller,
  workspaceId: string,
  targetUserId: string,
  targetRoleRead: Role,
  rolesTouched: Role[],
  leaving: boolean,
): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ userId: string; role: Role }>>`
    SELECT "userId", "role" FROM "Membership" WHERE "workspaceId" = ${workspaceId} ORDER BY "userId" FOR UPDATE`;
  const roles = new Map(rows.map((r) => [r.userId, r.role]));
  if (roles.get(targetUserId) !== targetRoleRead) {
    throw new ConflictError("This membership changed meanwhile; reload and try again.");
  }
  if (!leaving) {
    const callerRole = caller.actor?.kind === "USER" ? roles.get(caller.actor.userId) : undefined;
    const needed = rolesTouched.includes("OWNER") ? "workspace.own" : "workspace.admin";
    if (!allows({ kind: "USER", role: callerRole ?? null }, needed)) throw new ForbiddenError();
  }
  if (targetRoleRead === "OWNER" && ![...roles].some(([userId, role]) => role === "OWNER" && userId !== targetUserId)) {
    throw new ConflictError("A workspace needs at least one owner; make someone else owner first.");
  }
}
