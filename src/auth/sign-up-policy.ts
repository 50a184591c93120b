/**
 * Who may create an account (PATCHBAY_SIGNUP):
 * - open: anyone who reaches the server (the development default);
 * - invite: the first account of an empty database, then only people presenting an invitation
 *   (the production default);
 * - closed: only the first account of an empty database, so a new installation can be set up.
 * Invitations come from an InvitationRedeemer; until workspaces can invite (issue 9), none is
 * installed and `invite` admits the first account only.
 */
import type { DbOrTx } from "../db/prisma";
import type { SignUpMode } from "../config";
import { ForbiddenError } from "../errors";

/** The seam for invitations: does this token invite this email to sign up? */
export interface InvitationRedeemer {
  /** True when `token` is a live invitation for `email`; runs inside the sign-up's transaction. */
  admitsSignUp(tx: DbOrTx, token: string, email: string): Promise<boolean>;
}

export const NO_INVITATIONS: InvitationRedeemer = {
  async admitsSignUp() {
    return false;
  },
};

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
    if (this.mode === "open") return;
    if ((await tx.user.count({ take: 1 })) === 0) return;
    if (this.mode === "invite" && invitationToken && (await this.invitations.admitsSignUp(tx, invitationToken, email))) return;
    throw new ForbiddenError(
      this.mode === "invite"
        ? "Sign-up on this server is by invitation; ask a workspace admin to invite you."
        : "Sign-up on this server is closed; ask its operator for an account.",
    );
  }
}
