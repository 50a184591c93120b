import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import type { Workspace } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { TestScheduleType } from "../schema/test-schedule.type";
import { WorkspaceType } from "../schema/workspace.type";

@Resolver(() => WorkspaceType)
export class TestScheduleResolver {
  @Mutation(() => TestScheduleType, {
    description:
      "ADMIN and above: re-test one connection (or all, without connectionId) every everyMinutes (1 to 1440); the first run is due now. With environment (and connectionId), what that environment sees, recorded on its override; a schedule for all tests every connection and every environment that has an override of it. Audited.",
  })
  setTestSchedule(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("everyMinutes", () => Int) everyMinutes: number,
    @Arg("connectionId", () => ID, { nullable: true }) connectionId: string | null,
    @Arg("environment", () => String, { nullable: true, description: "One environment of the connection (it must have an override there)." }) environment: string | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.testSchedules.set(caller, workspaceId, everyMinutes, connectionId ?? null, environment ?? null);
  }

  @Mutation(() => Boolean, {
    description: "ADMIN and above: stops the schedule of one connection (or the all-connections one, or one connection's in one environment); false when there was none. Audited.",
  })
  removeTestSchedule(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("connectionId", () => ID, { nullable: true }) connectionId: string | null,
    @Arg("environment", () => String, { nullable: true }) environment: string | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.testSchedules.remove(caller, workspaceId, connectionId ?? null, environment ?? null);
  }

  @FieldResolver(() => [TestScheduleType], { description: "Scheduled re-tests (none by default)." })
  testSchedules(@Root() workspace: Workspace, @Ctx() { caller, services }: GraphQLContext) {
    return services.testSchedules.list(caller, workspace.id);
  }
}
