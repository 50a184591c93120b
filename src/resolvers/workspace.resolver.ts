import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Workspace } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { ApiTokenType } from "../schema/api-token.type";
import { AuditChainReportType, AuditEventPageType } from "../schema/audit-event.type";
import { BadUserInputError } from "../errors";
import { ConnectionPageType, ConnectionType } from "../schema/connection.type";
import { Role } from "../schema/enums";
import { WorkspaceKeyStatusType } from "../schema/workspace-key-status.type";
import { WorkspacePermissionsType } from "../schema/workspace-permissions.type";
import { MemberType, WorkspaceType } from "../schema/workspace.type";
import { permissionsIn } from "../policy/permissions";

@Resolver(() => WorkspaceType)
export class WorkspaceResolver {
  @Query(() => [WorkspaceType])
  workspaces(@Ctx() { caller, services }: GraphQLContext) {
    return services.workspaces.listVisible(caller);
  }

  @Query(() => WorkspaceType, { nullable: true })
  workspace(@Arg("slug", () => String) slug: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.workspaces.bySlug(caller, slug);
  }

  @Mutation(() => WorkspaceType)
  createWorkspace(
    @Arg("slug", () => String) slug: string,
    @Arg("name", () => String) name: string,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.workspaces.create(caller, { slug, name });
  }

  @Mutation(() => WorkspaceKeyStatusType, {
    description: "OWNER. Seals new secrets with a new data key at once; older values are re-encrypted in the background, resuming after a crash.",
  })
  rotateWorkspaceKey(@Arg("workspaceId", () => ID) workspaceId: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.workspaceKeys.rotate(caller, workspaceId);
  }

  @Mutation(() => Boolean, {
    description: "OWNER. Destroys the workspace's keys first (crypto-shredding), then its data. confirmSlug must equal its slug.",
  })
  deleteWorkspace(
    @Arg("id", () => ID) id: string,
    @Arg("confirmSlug", () => String) confirmSlug: string,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.workspaces.delete(caller, id, confirmSlug);
  }

  @FieldResolver(() => WorkspaceKeyStatusType, { description: "OWNER and ADMIN." })
  keyStatus(@Root() workspace: Workspace, @Ctx() { caller, services }: GraphQLContext) {
    return services.workspaceKeys.status(caller, workspace.id);
  }

  @FieldResolver(() => Role, { nullable: true, description: "The caller's role; null for an API token." })
  myRole(@Root() workspace: Workspace, @Ctx() { caller }: GraphQLContext) {
    return caller.role(workspace.id);
  }

  @FieldResolver(() => WorkspacePermissionsType, { description: "What the caller may do here; see WorkspacePermissions." })
  permissions(@Root() workspace: Workspace, @Ctx() { caller }: GraphQLContext) {
    return permissionsIn(caller, workspace.id);
  }

  @FieldResolver(() => [MemberType])
  members(@Root() workspace: Workspace, @Ctx() { loaders }: GraphQLContext) {
    return loaders.members.load(workspace.id);
  }

  @FieldResolver(() => ConnectionPageType)
  connections(
    @Root() workspace: Workspace,
    @Arg("first", () => Int, { defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("type", () => String, { nullable: true }) type: string | null,
    @Arg("search", () => String, { nullable: true }) search: string | null,
    @Ctx() { loaders }: GraphQLContext,
  ) {
    return loaders.connectionPages.load({ workspaceId: workspace.id, args: { first, after, type, search } });
  }

  @FieldResolver(() => ConnectionType, { nullable: true })
  connection(@Root() workspace: Workspace, @Arg("name", () => String) name: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.connections.byName(caller, workspace.id, name);
  }

  @FieldResolver(() => [ApiTokenType])
  apiTokens(@Root() workspace: Workspace, @Ctx() { loaders }: GraphQLContext) {
    return loaders.apiTokens.load(workspace.id);
  }

  @FieldResolver(() => AuditEventPageType)
  auditEvents(
    @Root() workspace: Workspace,
    @Arg("first", () => Int, { defaultValue: 50 }) first: number,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.workspaces.auditEvents(caller, workspace.id, { first, after });
  }

  @FieldResolver(() => AuditChainReportType, {
    description:
      "ADMIN and above: recomputes the audit log's hash chain. With the head exported earlier (knownHeadSeq, knownHeadHash), also detects a truncated tail.",
  })
  verifyAuditChain(
    @Root() workspace: Workspace,
    @Arg("knownHeadSeq", () => String, { nullable: true }) knownHeadSeq: string | null,
    @Arg("knownHeadHash", () => String, { nullable: true }) knownHeadHash: string | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.workspaces.verifyAuditChain(caller, workspace.id, knownHead(knownHeadSeq, knownHeadHash));
  }
}

function knownHead(seq: string | null | undefined, hash: string | null | undefined): { seq: bigint; hash: string } | null {
  if (seq == null && hash == null) return null;
  if (seq == null || !/^[1-9][0-9]{0,18}$/.test(seq)) throw new BadUserInputError("knownHeadSeq is a position: a whole number from 1.", "knownHeadSeq");
  if (hash == null || !/^[0-9a-f]{64}$/.test(hash)) throw new BadUserInputError("knownHeadHash is 64 lower-case hex characters.", "knownHeadHash");
  return { seq: BigInt(seq), hash };
}
