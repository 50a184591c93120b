import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import type { Connection } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { ConnectionInput, ConnectionPatch } from "../schema/connection-input";
import { ConnectionType } from "../schema/connection.type";
import { UpsertReportType } from "../schema/import-export.type";
import { ConnectionUsageType } from "../schema/resolved-connection.type";
import { TestResultType } from "../schema/test-result.type";

@Resolver(() => ConnectionType)
export class ConnectionResolver {
  @Mutation(() => ConnectionType)
  createConnection(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("input", () => ConnectionInput) input: ConnectionInput,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.connections.create(caller, workspaceId, input);
  }

  @Mutation(() => ConnectionType, { description: "expectedVersion, when given, must equal the stored version or the update is a CONFLICT." })
  updateConnection(
    @Arg("id", () => ID) id: string,
    @Arg("patch", () => ConnectionPatch) patch: ConnectionPatch,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.connections.update(caller, id, patch, expectedVersion);
  }

  @Mutation(() => Boolean, { description: "force: delete even when the connection was resolved in the last 7 days." })
  deleteConnection(
    @Arg("id", () => ID) id: string,
    @Arg("force", () => Boolean, { defaultValue: false }) force: boolean,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.connections.delete(caller, id, force);
  }

  @Mutation(() => UpsertReportType, { description: "Idempotent by name, in one transaction; an unchanged connection keeps its version." })
  upsertConnections(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("inputs", () => [ConnectionInput]) inputs: ConnectionInput[],
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.sync.upsert(caller, workspaceId, inputs);
  }

  @FieldResolver(() => [ConnectionUsageType], { description: "Who resolved this connection in the last 30 days." })
  usage(@Root() connection: Connection, @Ctx() { loaders }: GraphQLContext) {
    return loaders.usage.load(connection.id);
  }

  @FieldResolver(() => TestResultType, { nullable: true })
  lastTest(@Root() connection: Connection, @Ctx() { loaders }: GraphQLContext) {
    return loaders.lastTest.load(connection.id);
  }

  @FieldResolver(() => [TestResultType])
  testResults(
    @Root() connection: Connection,
    @Arg("first", () => Int, { defaultValue: 10 }) first: number,
    @Ctx() { loaders }: GraphQLContext,
  ) {
    return loaders.testResults.load({ connection, first });
  }
}
