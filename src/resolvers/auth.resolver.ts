import { Arg, Ctx, Mutation, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { AuthPayloadType } from "../schema/user.type";
import { ViewerType } from "../schema/viewer.type";

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayloadType)
  signUp(
    @Arg("email", () => String) email: string,
    @Arg("password", () => String) password: string,
    @Arg("name", () => String, { nullable: true }) name: string | null,
    @Arg("invitationToken", () => String, {
      nullable: true,
      description: "Where sign-up is by invitation (PATCHBAY_SIGNUP=invite): the token of an invitation to this email.",
    })
    invitationToken: string | null,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.identity.signUp({ email, password, name, invitationToken }, caller.clientIp);
  }

  @Mutation(() => AuthPayloadType)
  logIn(
    @Arg("email", () => String) email: string,
    @Arg("password", () => String) password: string,
    @Ctx() { services, caller }: GraphQLContext,
  ) {
    return services.identity.logIn({ email, password }, caller.clientIp);
  }

  @Mutation(() => Boolean, { description: "Ends the session whose token made this request." })
  logOut(@Ctx() { caller, services }: GraphQLContext) {
    return services.identity.logOut(caller);
  }

  @Mutation(() => AuthPayloadType, {
    description:
      "Ends every other session of this user and returns a new one. The token that made the request is replaced by the returned one.",
  })
  changePassword(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.identity.changePassword(caller, { currentPassword, newPassword });
  }

  @Query(() => ViewerType)
  async viewer(@Ctx() { caller, services, loaders }: GraphQLContext): Promise<ViewerType> {
    const actor = caller.actor;
    if (!actor) return { user: null, apiToken: null, workspace: null };
    if (actor.kind === "USER") return { user: await loaders.user.load(actor.userId), apiToken: null, workspace: null };
    const [apiToken, workspace] = await Promise.all([services.apiTokens.ofCaller(caller), services.workspaces.ofToken(caller)]);
    return { user: null, apiToken, workspace };
  }
}
