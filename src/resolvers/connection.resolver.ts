import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import type { Connection } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { ConnectionInput, ConnectionPatch } from "../schema/connection-input";
import { ConnectionType } from "../schema/connection.type";
import { ConnectionVersionType } from "../schema/connection-version.type";
import { ConnectionAliasType } from "../schema/connection-alias.type";
import { DEFAULT_KEEP_ALIAS_DAYS } from "../services/connections/aliases";
import { UpsertReportType } from "../schema/import-export.type";
import { ConnectionUsageType } from "../schema/resolved-connection.type";
import { DateTimeScalar, JSONScalar } from "../schema/scalars";
import { publicExtra } from "../services/connections/extra-secrets";
import { TestResultType } from "../schema/test-result.type";
import { ConnectionHealthType } from "../schema/connection-health.type";
import { DEFAULT_HEALTH_WINDOW, summariseHealth } from "../services/connections/health";
import type { Prefetched } from "../services/connections/listing";

/** A connection as resolvers get it: a row, with what a page's statement read alongside. */
type ConnectionRoot = Pick<Connection, "id" | "workspaceId" | "lastUsedAt"> & { prefetched?: Prefetched };

function newest(a: Date | null, b: Date | null): Date | null {
  return !a ? b : !b ? a : a > b ? a : b;
}

@Resolver(() => ConnectionType)
export class ConnectionResolver {
  @FieldResolver(() => JSONScalar, { description: "Non-secret extra settings, in the order given; secret extra keys never appear here." })
  extra(@Root() connection: { extra?: unknown }): unknown {
    return publicExtra(connection.extra);
  }

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

  @Mutation(() => ConnectionType, { description: "WRITE. Restores the connection, secrets included, as it was at that version, as a new version." })
  rollbackConnection(
    @Arg("id", () => ID) id: string,
    @Arg("version", () => Int) version: number,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.connections.rollback(caller, id, version, expectedVersion);
  }

  @Mutation(() => ConnectionType, { description: "WRITE. Renames; the old name keeps resolving (audited) for keepAliasDays days; 0 keeps no alias." })
  renameConnection(
    @Arg("id", () => ID) id: string,
    @Arg("newName", () => String) newName: string,
    @Arg("keepAliasDays", () => Int, { defaultValue: DEFAULT_KEEP_ALIAS_DAYS }) keepAliasDays: number,
    @Arg("expectedVersion", () => Int, { nullable: true }) expectedVersion: number | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.connections.rename(caller, id, newName, keepAliasDays, expectedVersion);
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
  lastTest(@Root() connection: ConnectionRoot, @Ctx() { loaders }: GraphQLContext) {
    // A page's statement already read it (services/connections/listing.ts).
    if (connection.prefetched) return connection.prefetched.lastTest;
    return loaders.lastTest.load(connection);
  }

  @FieldResolver(() => DateTimeScalar, { nullable: true, description: "When the connection was last resolved, from its usage counts." })
  async lastUsedAt(@Root() connection: ConnectionRoot, @Ctx() { loaders, services }: GraphQLContext) {
    const counted = connection.prefetched
      ? newest(connection.prefetched.lastUse, services.connections.usage.pendingLastUse(connection.id))
      : await loaders.lastUse.load(connection);
    // The column holds the last use from before usage was counted; it is no longer written.
    return newest(counted, connection.lastUsedAt);
  }

  @FieldResolver(() => [ConnectionVersionType], { description: "Newest first. Only the non-secret state is shown; secrets are kept sealed with each version." })
  versions(
    @Root() connection: Connection,
    @Arg("first", () => Int, { defaultValue: 20 }) first: number,
    @Ctx() { loaders }: GraphQLContext,
  ) {
    return loaders.versions.load({ connection, first });
  }

  @FieldResolver(() => [ConnectionAliasType], { description: "Former names that still resolve, until they expire." })
  aliases(@Root() connection: ConnectionRoot, @Ctx() { loaders }: GraphQLContext) {
    return loaders.aliases.load(connection);
  }

  @FieldResolver(() => ConnectionHealthType, { description: "The last `last` test results (1 to 100) summarised." })
  async health(
    @Root() connection: Connection,
    @Arg("last", () => Int, { defaultValue: DEFAULT_HEALTH_WINDOW }) last: number,
    @Ctx() { loaders }: GraphQLContext,
  ) {
    return summariseHealth(await loaders.testResults.load({ connection, first: last }));
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
