import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import type { Invitation, Workspace } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { invitationStatus } from "../services/invitations";
import { Role } from "../schema/enums";
import { CreatedInvitationType, InvitationStatus, InvitationType } from "../schema/invitation.type";
import { UserType } from "../schema/user.type";
import { MemberType, WorkspaceType } from "../schema/workspace.type";

@Resolver(() => InvitationType)
export class InvitationResolver {
  @Mutation(() => CreatedInvitationType, {
    description:
      "ADMIN, up to the inviter's own role. The person joins only by accepting; no account is added to a workspace without consent. Answers alike whether or not the email has an account.",
  })
  inviteMember(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("email", () => String) email: string,
    @Arg("role", () => Role) role: Role,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.invitations.invite(caller, { workspaceId, email, role });
  }

  @Mutation(() => MemberType, { description: "A signed-in user whose email matches the invitation joins the workspace." })
  acceptInvitation(@Arg("token", () => String) token: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.invitations.accept(caller, token);
  }

  @Mutation(() => InvitationType, { description: "ADMIN; an invitation to OWNER only by an owner. Its token stops working at once." })
  revokeInvitation(@Arg("id", () => ID) id: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.invitations.revoke(caller, id);
  }

  @FieldResolver(() => InvitationStatus)
  status(@Root() invitation: Invitation): InvitationStatus {
    return invitationStatus(invitation);
  }

  @FieldResolver(() => UserType, { nullable: true, description: "Who sent it; null once their account is gone." })
  invitedBy(@Root() invitation: Invitation, @Ctx() { loaders }: GraphQLContext) {
    return invitation.invitedById ? loaders.user.load(invitation.invitedById) : null;
  }
}

@Resolver(() => WorkspaceType)
export class WorkspaceInvitationsResolver {
  @FieldResolver(() => [InvitationType], { description: "ADMIN and above: open invitations and those of the last 30 days, newest first (200 at most)." })
  invitations(@Root() workspace: Workspace, @Ctx() { caller, services }: GraphQLContext) {
    return services.invitations.list(caller, workspace.id);
  }
}
