/**
 * Who may create an account (PATCHBAY_SIGNUP):
 * - open: anyone who reaches the server (the development default);
 * - invite: the first account of an empty database, then only people presenting an invitation
 *   (the production default);
 * - closed: only the first account of an empty database, so a new installation can be set up.
 * Invitations come from an InvitationRedeemer (services/invitations.ts). In every mode but
 * `closed`, a sign-up that presents an invitation joins its workspace in the same transaction;
 * one whose invitation is not live for its email is refused.
 */
import type { DbOrTx } from "../db/prisma";
import type { SignUpMode } from "../config";
import { BadUserInputError, ForbiddenError } from "../errors";

/** The seam for invitations: does this token invite this email to sign up? */
export interface InvitationRedeemer {
  /** True when `token` is a live invitation for `email`; runs inside the sign-up's transaction. */
  admitsSignUp(tx: DbOrTx, token: string, email: string): Promise<boolean>;
  /**
   * The account just created in `tx` accepts the invitation it signed up with; false when
   * `token` is not a live invitation for its email (nothing is written then).
   */
  redeemAtSignUp(tx: DbOrTx, token: string, user: { id: string; email: string }, clientIp: string | null): Promise<boolean>;
}

export const NO_INVITATIONS: InvitationRedeemer = {
  async admitsSignUp() {
    return false;
  },
  async redeemAtSignUp() {
    return false;
  },
};

const NOT_INVITED = "This invitation is not valid for this email: it may have expired, been revoked or used, or been sent to another address.";

export class SignUpPolicy {
  constructor(
    readonly mode: SignUpMode,
    private readonly invitations: InvitationRedeemer = NO_INVITATIONS,
  ) {}

  /**
   * Throws FORBIDDEN unless this sign-up is allowed. The caller runs it under the sign-up lock
   * (IdentityService), so two first sign-ups cannot both see an empty database.
   */
  async check(tx: DbOrTx, email: string, invitationToken: string | null | undefined): Promise<void> {
    if (invitationToken && this.mode !== "closed") {
      if (await this.invitations.admitsSignUp(tx, invitationToken, email)) return;
      if (this.mode === "open") throw new BadUserInputError(NOT_INVITED, "invitationToken");
    }
    if (this.mode === "open") return;
    if ((await tx.user.count({ take: 1 })) === 0) return;
    throw new ForbiddenError(
      this.mode === "invite"
        ? "Sign-up on this server is by invitation; ask a workspace admin to invite you."
        : "Sign-up on this server is closed; ask its operator for an account.",
    );
  }

  /** After check() and the account's creation, in the same transaction: joins the invited workspace. */
  async redeem(tx: DbOrTx, invitationToken: string | null | undefined, user: { id: string; email: string }, clientIp: string | null): Promise<void> {
    if (!invitationToken || this.mode === "closed") return;
    if (!(await this.invitations.redeemAtSignUp(tx, invitationToken, user, clientIp))) throw new BadUserInputError(NOT_INVITED, "invitationToken");
  }
}
