import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import type { Membership } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { Role } from "../schema/enums";
import { UserType } from "../schema/user.type";
import { MemberType, WorkspaceType } from "../schema/workspace.type";

@Resolver(() => MemberType)
export class MemberResolver {
  @Mutation(() => MemberType)
  setMemberRole(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("userId", () => ID) userId: string,
    @Arg("role", () => Role) role: Role,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.workspaces.setMemberRole(caller, { workspaceId, userId, role });
  }

  @Mutation(() => Boolean)
  removeMember(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("userId", () => ID) userId: string,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.workspaces.removeMember(caller, { workspaceId, userId });
  }

  @FieldResolver(() => UserType)
  async user(@Root() member: Membership, @Ctx() { loaders }: GraphQLContext) {
    return loaders.user.load(member.userId);
  }

  @FieldResolver(() => WorkspaceType, { description: "The workspace of this membership (after acceptInvitation, the one joined)." })
  workspace(@Root() member: Membership, @Ctx() { caller, services }: GraphQLContext) {
    return services.workspaces.byId(caller, member.workspaceId);
  }
}
