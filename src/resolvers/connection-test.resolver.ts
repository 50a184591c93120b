import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { ConnectionInput, ConnectionPatch } from "../schema/connection-input";
import { TestResultType } from "../schema/test-result.type";

@Resolver()
export class ConnectionTestResolver {
  @Mutation(() => TestResultType, {
    description:
      "Tests a saved connection and records the result. With a patch, tests the saved connection with those unsaved changes applied and records nothing.",
  })
  testConnection(
    @Arg("id", () => ID) id: string,
    @Arg("patch", () => ConnectionPatch, { nullable: true }) patch: ConnectionPatch | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.connectionTests.testSaved(caller, id, patch);
  }

  @Mutation(() => TestResultType, { description: "Tests a configuration before it is saved; only the outcome is returned." })
  testConnectionInput(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("input", () => ConnectionInput) input: ConnectionInput,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.connectionTests.testInput(caller, workspaceId, input);
  }
}
