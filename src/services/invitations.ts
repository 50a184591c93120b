/**
 * Invitations: the only way into a workspace (DESIGN.md, "People join a workspace only by
 * accepting an invitation"). An admin invites an email with a role, never above their own;
 * the token (`pbi_…`, shown once, stored only as an HMAC) goes to that person by whatever
 * channel the admin chooses; a signed-in account with that email accepts it and becomes a
 * member. An invitation is single-use, expires after 7 days and can be revoked. Inviting
 * answers the same whether or not the email has an account, so it tells nobody who has one.
 *
 * It is also the sign-up seam's redeemer (auth/sign-up-policy.ts): where sign-up is by
 * invitation, a live invitation admits its email, and the new account joins in the same
 * transaction.
 */
import { randomUUID } from "node:crypto";
import type { InvalidationBus } from "../cache/invalidation-bus";
import {
  generateInvitationToken,
  hashInvitationToken,
  isWellFormedInvitationToken,
} from "../auth/invitation-token";
import type { InvitationRedeemer } from "../auth/sign-up-policy";
import { isUniqueViolation } from "../db/errors";
import type { Db, DbOrTx } from "../db/prisma";
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError, PublicError } from "../errors";
import type { Invitation, Membership } from "../generated/prisma/client";
import type { Role } from "../generated/prisma/enums";
import type { SharedLimiter } from "../limits/shared-limiter";
import { Caller } from "../policy/caller";
import { mayInvite } from "../policy/policy";
import { recordAudit } from "./audit";
import { isEmailAddress, normaliseEmail } from "./identity";

/** How long an invitation can be accepted. */
export const INVITATION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** How far back Workspace.invitations reaches for invitations that are no longer open. */
const LISTED_HISTORY_MS = 30 * 24 * 60 * 60 * 1000;
/** Workspace.invitations answers at most this many (newest first). */
const MAX_LISTED = 200;

export type InvitationStatus = "PENDING" | "ACCEPTED" | "EXPIRED" | "REVOKED";

export function invitationStatus(invitation: Pick<Invitation, "acceptedAt" | "revokedAt" | "expiresAt">, now = Date.now()): InvitationStatus {
  if (invitation.acceptedAt) return "ACCEPTED";
  if (invitation.revokedAt) return "REVOKED";
  return invitation.expiresAt.getTime() <= now ? "EXPIRED" : "PENDING";
}

/** What bounds invitations (README, Security). */
export interface InvitationLimits {
  /** Invitations created per workspace per hour, shared by every process. */
  perWorkspace: SharedLimiter;
}

/** An invitation that cannot be used (any more): BAD_USER_INPUT on `field`, with `reason`. */
class UnusableInvitationError extends PublicError {
  constructor(status: Exclude<InvitationStatus, "PENDING">, field: string) {
    const messages = {
      ACCEPTED: "This invitation has already been used; each invitation works once.",
      EXPIRED: "This invitation has expired; ask a workspace admin for a new one.",
      REVOKED: "This invitation was revoked; ask a workspace admin for a new one.",
    };
    super(messages[status], "BAD_USER_INPUT", { field, reason: status });
  }
}

interface LockedInvitation {
  id: string;
  workspaceId: string;
  email: string;
  role: Role;
  invitedById: string | null;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

export class InvitationService implements InvitationRedeemer {
  constructor(
    private readonly db: Db,
    /** deriveSubkey(master, "invitation-hash"): keys the stored token hashes. */
    private readonly hashKey: Buffer,
    private readonly bus: InvalidationBus,
    private readonly limits: InvitationLimits,
  ) {}

  /** ADMIN and above, up to their own role. The token is in the answer and nowhere else. */
  async invite(caller: Caller, input: { workspaceId: string; email: string; role: Role }): Promise<{ token: string; invitation: Invitation }> {
    await caller.authorize(input.workspaceId, "workspace.admin");
    const inviter = caller.person;
    if (!mayInvite(await caller.role(input.workspaceId), input.role)) {
      throw new ForbiddenError("You can invite people up to your own role; only an owner can invite an OWNER.");
    }
    const email = normaliseEmail(input.email);
    if (!isEmailAddress(email)) throw new BadUserInputError("Enter a valid email address.", "email");
    await this.limits.perWorkspace.hit(input.workspaceId);
    const token = generateInvitationToken();
    try {
      const invitation = await this.db.$transaction(async (tx) => {
        // Only members are named here, and the inviter can list those anyway: whether an
        // email has an account elsewhere is never revealed.
        const member = await tx.membership.findFirst({ where: { workspaceId: input.workspaceId, user: { email } }, select: { userId: true } });
        if (member) throw new ConflictError("This person is already a member.", { field: "email" });
        // Inviting again replaces the open invitation: its token stops working.
        const replaced = await tx.invitation.findFirst({
          where: { workspaceId: input.workspaceId, email, acceptedAt: null, revokedAt: null },
          select: { id: true },
        });
        if (replaced) await tx.invitation.update({ where: { id: replaced.id }, data: { revokedAt: new Date() } });
        const created = await tx.invitation.create({
          data: {
            id: randomUUID(),
            workspaceId: input.workspaceId,
            email,
            role: input.role,
            tokenHash: hashInvitationToken(this.hashKey, token),
            invitedById: inviter.userId,
            expiresAt: new Date(Date.now() + INVITATION_LIFETIME_MS),
          },
        });
        await recordAudit(tx, caller, {
          workspaceId: input.workspaceId,
          action: "invitation.create",
          targetType: "Invitation",
          targetId: created.id,
          details: { email, role: input.role, expiresAt: created.expiresAt.toISOString(), replaced: replaced?.id ?? null },
        });
        return created;
      });
      return { token, invitation };
    } catch (error) {
      // Two invitations of one email at once: the partial unique index keeps one open.
      if (isUniqueViolation(error)) throw new ConflictError("This email was invited meanwhile; reload the invitations.", { field: "email" });
      throw error;
    }
  }

  /** A signed-in person whose email matches joins with the invitation's role. */
  async accept(caller: Caller, token: string): Promise<Membership> {
    const person = caller.person;
    if (!isWellFormedInvitationToken(token)) throw new BadUserInputError("This is not an invitation token (pbi_…); copy all of it.", "token");
    try {
      const membership = await this.bus.transaction(this.db, async (tx, announce) => {
        const invitation = await this.lockByToken(tx, token);
        if (!invitation) throw new NotFoundError("Invitation");
        // First, so that a token in the wrong hands tells its holder nothing more.
        if (normaliseEmail(person.email) !== invitation.email) {
          throw new ForbiddenError("This invitation was sent to another email address; sign in with that account to accept it.");
        }
        const joined = await this.redeem(tx, invitation, person.userId, "token");
        await announce({ kind: "membership", workspaceId: invitation.workspaceId, userId: person.userId });
        await recordAudit(tx, caller, acceptedEvent(invitation));
        return joined;
      });
      caller.forgetRole(membership.workspaceId);
      return membership;
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError("You are already a member of this workspace.");
      throw error;
    }
  }

  /** ADMIN and above; an OWNER invitation only by an owner. Revoking twice is harmless. */
  async revoke(caller: Caller, id: string): Promise<Invitation> {
    const existing = await this.db.invitation.findUnique({ where: { id } });
    if (!existing) throw new NotFoundError("Invitation");
    await caller.authorize(existing.workspaceId, "workspace.admin", "Invitation");
    if (!mayInvite(await caller.role(existing.workspaceId), existing.role)) {
      throw new ForbiddenError("Only an owner can revoke an invitation to become an OWNER.");
    }
    if (existing.revokedAt) return existing;
    if (existing.acceptedAt) throw new ConflictError("This invitation has been accepted; remove the member instead.");
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.invitation.updateMany({
        where: { id, workspaceId: existing.workspaceId, acceptedAt: null, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      if (count === 0) throw new ConflictError("This invitation was accepted or revoked meanwhile; reload the invitations.");
      await recordAudit(tx, caller, {
        workspaceId: existing.workspaceId,
        action: "invitation.revoke",
        targetType: "Invitation",
        targetId: id,
        details: { email: existing.email, role: existing.role },
      });
      return tx.invitation.findUniqueOrThrow({ where: { id } });
    });
  }

  /** ADMIN and above: open invitations, and the others of the last 30 days, newest first. */
  async list(caller: Caller, workspaceId: string): Promise<Invitation[]> {
    await caller.authorize(workspaceId, "workspace.admin");
    const since = new Date(Date.now() - LISTED_HISTORY_MS);
    return this.db.invitation.findMany({
      where: { workspaceId, OR: [{ createdAt: { gte: since } }, { acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } }] },
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      take: MAX_LISTED,
    });
  }

  /** InvitationRedeemer: is `token` a live invitation for `email`? */
  async admitsSignUp(tx: DbOrTx, token: string, email: string): Promise<boolean> {
    if (!isWellFormedInvitationToken(token)) return false;
    const invitation = await tx.invitation.findUnique({ where: { tokenHash: hashInvitationToken(this.hashKey, token) } });
    return invitation !== null && invitation.email === normaliseEmail(email) && invitationStatus(invitation) === "PENDING";
  }

  /** InvitationRedeemer: the account just created in `tx` accepts the invitation it signed up with. */
  async redeemAtSignUp(tx: DbOrTx, token: string, user: { id: string; email: string }, clientIp: string | null): Promise<boolean> {
    if (!isWellFormedInvitationToken(token)) return false;
    const invitation = await this.lockByToken(tx, token);
    if (!invitation || invitation.email !== normaliseEmail(user.email)) return false;
    await this.redeem(tx, invitation, user.id, "invitationToken");
    // The new account is the actor; it has no session yet and no role cached anywhere.
    const newcomer = new Caller({ kind: "USER", userId: user.id, email: user.email, sessionId: "" }, clientIp, NO_ROLES);
    await recordAudit(tx, newcomer, { ...acceptedEvent(invitation), details: { ...acceptedEvent(invitation).details, atSignUp: true } });
    return true;
  }

  /** Reads the invitation and locks its row until the transaction ends: two accepts take turns. */
  private async lockByToken(tx: DbOrTx, token: string): Promise<LockedInvitation | null> {
    const hash = hashInvitationToken(this.hashKey, token);
    const rows = await tx.$queryRaw<LockedInvitation[]>`
      SELECT "id", "workspaceId", "email", "role", "invitedById", "expiresAt", "acceptedAt", "revokedAt"
      FROM "Invitation" WHERE "tokenHash" = ${hash} FOR UPDATE`;
    return rows[0] ?? null;
  }

  /** Marks a locked, matching invitation used and adds the member, or says why it cannot. */
  private async redeem(tx: DbOrTx, invitation: LockedInvitation, userId: string, field: string): Promise<Membership> {
    const status = invitationStatus(invitation);
    if (status !== "PENDING") throw new UnusableInvitationError(status, field);
    // The inviter's role now, not when they invited: a demoted or removed inviter's
    // invitations shrink with them (policy.ts, mayInvite).
    const inviter = invitation.invitedById
      ? await tx.membership.findUnique({
          where: { workspaceId_userId: { workspaceId: invitation.workspaceId, userId: invitation.invitedById } },
          select: { role: true },
        })
      : null;
    if (!mayInvite(inviter?.role ?? null, invitation.role)) {
      throw new ForbiddenError("Whoever invited you can no longer grant this role; ask a workspace admin for a new invitation.");
    }
    const existing = await tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId: invitation.workspaceId, userId } } });
    if (existing) throw new ConflictError("You are already a member of this workspace.");
    await tx.invitation.update({ where: { id: invitation.id }, data: { acceptedAt: new Date(), acceptedById: userId } });
    return tx.membership.create({ data: { workspaceId: invitation.workspaceId, userId, role: invitation.role } });
  }
}

const NO_ROLES = { rolesIn: async () => new Map<string, Role>() };

function acceptedEvent(invitation: LockedInvitation) {
  return {
    workspaceId: invitation.workspaceId,
    action: "invitation.accept",
    targetType: "Invitation",
    targetId: invitation.id,
    details: { email: invitation.email, role: invitation.role } as Record<string, string | boolean>,
  };
}
