import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { ApiTokenType, CreatedApiTokenType } from "../schema/api-token.type";
import { TokenScope } from "../schema/enums";
import { DateTimeScalar } from "../schema/scalars";

@Resolver(() => ApiTokenType)
export class ApiTokenResolver {
  @Mutation(() => CreatedApiTokenType)
  createApiToken(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("name", () => String) name: string,
    @Arg("scopes", () => [TokenScope]) scopes: TokenScope[],
    @Arg("expiresAt", () => DateTimeScalar, { nullable: true }) expiresAt: Date | null,
    @Arg("environment", () => String, { nullable: true, description: "Bind the token to one environment: it resolves that environment's values only." })
    environment: string | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.apiTokens.create(caller, { workspaceId, name, scopes, expiresAt, environment });
  }

  @Mutation(() => ApiTokenType)
  revokeApiToken(@Arg("id", () => ID) id: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.apiTokens.revoke(caller, id);
  }
}
