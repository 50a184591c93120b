import { Arg, Ctx, ID, Int, Mutation, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { ImportFormat, ImportReportType, OnConflict } from "../schema/import-export.type";
import { ImportSessionType } from "../schema/import-session.type";

/** Staged imports (src/services/connections/staged-import.ts): WRITE, like importConnections. */
@Resolver()
export class StagedImportResolver {
  @Mutation(() => ImportSessionType, {
    description: "Opens a staged import for a file bigger than one importConnections request; the options are importConnections'.",
  })
  beginImport(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("format", () => ImportFormat) format: ImportFormat,
    @Arg("onConflict", () => OnConflict, { defaultValue: OnConflict.FAIL }) onConflict: OnConflict,
    @Arg("unknownTypesAsGeneric", () => Boolean, { defaultValue: false }) unknownTypesAsGeneric: boolean,
    @Arg("clearMissingSecrets", () => Boolean, { defaultValue: false }) clearMissingSecrets: boolean,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.stagedImports.begin(caller, workspaceId, { format, onConflict, unknownTypesAsGeneric, clearMissingSecrets });
  }

  @Mutation(() => ImportSessionType, {
    description:
      "Stores one batch (at most 1,000 connections and 1 MiB, as importConnections takes) in the session's format. seq counts from 1; staging a seq again replaces that batch.",
  })
  stageImportBatch(
    @Arg("sessionId", () => ID) sessionId: string,
    @Arg("seq", () => Int) seq: number,
    @Arg("content", () => String) content: string,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.stagedImports.stage(caller, sessionId, seq, content);
  }

  @Mutation(() => ImportReportType, {
    description:
      "Imports every staged batch as one file, in one transaction: a line per conn_id as importConnections gives, and any ERROR line means nothing was written. An applied commit ends the session; a dry run or a failed one keeps it.",
  })
  commitImport(
    @Arg("sessionId", () => ID) sessionId: string,
    @Arg("dryRun", () => Boolean, { defaultValue: false }) dryRun: boolean,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.stagedImports.commit(caller, sessionId, dryRun);
  }

  @Mutation(() => Boolean, { description: "Drops the session and its staged batches." })
  abortImport(@Arg("sessionId", () => ID) sessionId: string, @Ctx() { caller, services }: GraphQLContext) {
    return services.stagedImports.abort(caller, sessionId);
  }
}
