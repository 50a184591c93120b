import { Arg, Ctx, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { ResolvedConnectionType } from "../schema/resolved-connection.type";

@Resolver(() => ResolvedConnectionType)
export class ResolveResolver {
  @Query(() => ResolvedConnectionType, {
    description: "For an API token, the workspace is the token's; for a user, workspace is the slug.",
  })
  resolveConnection(
    @Arg("name", () => String) name: string,
    @Arg("workspace", () => String, { nullable: true }) workspace: string | null,
    @Arg("environment", () => String, {
      nullable: true,
      description: "Apply that environment's overrides; a token bound to an environment resolves that environment's values and may not name another.",
    })
    environment: string | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.resolution.resolve(caller, name, { workspace, environment });
  }
}
