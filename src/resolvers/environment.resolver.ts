import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import type { Connection, ConnectionOverride, Workspace } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { ConnectionPatch } from "../schema/connection-input";
import { ConnectionOverrideType } from "../schema/connection-override.type";
import { ConnectionType } from "../schema/connection.type";
import { JSONScalar } from "../schema/scalars";
import { publicExtra } from "../services/connections/extra-secrets";
import { TestResultType } from "../schema/test-result.type";
import { WorkspaceType } from "../schema/workspace.type";

@Resolver(() => ConnectionType)
export class ConnectionEnvironmentResolver {
  @FieldResolver(() => [ConnectionOverrideType], { description: "The connection's values per environment, by environment name." })
  overrides(@Root() connection: Pick<Connection, "id" | "workspaceId">, @Ctx() { loaders }: GraphQLContext) {
    return loaders.overrides.load(connection);
  }

  @Mutation(() => ConnectionType, { description: "WRITE. Same rules as updateConnection (repointing, secrets kept when absent, expectedVersion)." })
  setConnectionOverride(
    @Arg("id", () => ID) id: string,
    @Arg("environment", () => String) environment: string,
    @Arg("patch", () => ConnectionPatch) patch: ConnectionPatch,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.environments.setOverride(caller, id, environment, patch, expectedVersion);
  }

  @Mutation(() => ConnectionType, { description: "WRITE. The environment falls back to the connection's own values." })
  removeConnectionOverride(
    @Arg("id", () => ID) id: string,
    @Arg("environment", () => String) environment: string,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.environments.removeOverride(caller, id, environment, expectedVersion);
  }

  @Mutation(() => TestResultType, { description: "TEST. Tests the connection with that environment's values, and records the result on the override." })
  testConnectionIn(
    @Arg("id", () => ID) id: string,
    @Arg("environment", () => String) environment: string,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.connectionTests.testIn(caller, id, environment);
  }
}

@Resolver(() => ConnectionOverrideType)
export class ConnectionOverrideResolver {
  /** The stored extra keeps a marker where each secret sits (its order); the API shows neither. */
  @FieldResolver(() => JSONScalar, { description: "Non-secret extras of the override." })
  extra(@Root() override: ConnectionOverride) {
    return publicExtra(override.extra);
  }

  @FieldResolver(() => TestResultType, { nullable: true })
  lastTest(@Root() override: ConnectionOverride, @Ctx() { loaders }: GraphQLContext) {
    return loaders.overrideLastTest.load(override);
  }
}

@Resolver(() => WorkspaceType)
export class WorkspaceEnvironmentResolver {
  @FieldResolver(() => [String], { description: "Environment names in use, e.g. dev, staging, prod." })
  environments(@Root() workspace: Workspace, @Ctx() { caller, services }: GraphQLContext) {
    return services.environments.environmentsOf(caller, workspace.id);
  }
}
