import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import type { GraphQLContext } from "../graphql/context";
import { AirflowUriDialect, ExportFormat, ImportFormat, ImportReportType, OnConflict, PostgresDriver } from "../schema/import-export.type";

@Resolver()
export class TransferResolver {
  @Query(() => String, { description: "includeSecrets needs ADMIN or above; without it, secrets are left out (stubs for git)." })
  exportConnections(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("format", () => ExportFormat) format: ExportFormat,
    @Arg("includeSecrets", () => Boolean, { defaultValue: false }) includeSecrets: boolean,
    @Arg("dialect", () => AirflowUriDialect, { defaultValue: AirflowUriDialect.EXTRA_JSON, description: "How URIs carry non-string extras (AIRFLOW_ENV, AIRFLOW_ENV_VARS)." })
    dialect: AirflowUriDialect,
    @Arg("postgresDriver", () => PostgresDriver, { defaultValue: PostgresDriver.PSYCOPG2, description: "JUPYSQL_INI: PostgreSQL's SQLAlchemy driver." })
    postgresDriver: PostgresDriver,
    @Arg("environment", () => String, {
      nullable: true,
      description: "Each connection as that environment sees it: a plain Airflow file for that environment's Airflow.",
    })
    environment: string | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.transfer.export(caller, workspaceId, { format, includeSecrets, dialect, postgresDriver, environment });
  }

  @Mutation(() => ImportReportType, {
    description: "A line per conn_id. Without dryRun it is all or nothing: any ERROR line means nothing was written.",
  })
  importConnections(
    @Arg("workspaceId", () => ID) workspaceId: string,
    @Arg("format", () => ImportFormat) format: ImportFormat,
    @Arg("content", () => String) content: string,
    @Arg("onConflict", () => OnConflict, { defaultValue: OnConflict.FAIL }) onConflict: OnConflict,
    @Arg("dryRun", () => Boolean, { defaultValue: false }) dryRun: boolean,
    @Arg("unknownTypesAsGeneric", () => Boolean, { defaultValue: false }) unknownTypesAsGeneric: boolean,
    @Arg("clearMissingSecrets", () => Boolean, {
      defaultValue: false,
      description: "Clear an existing connection's secrets that the file leaves out; by default they keep their stored values (a stub export imported back).",
    })
    clearMissingSecrets: boolean,
    @Arg("environment", () => String, {
      nullable: true,
      description: "Import the file as that environment's values of existing connections: what differs from a connection's own values becomes its override.",
    })
    environment: string | null,
    @Ctx() { caller, services }: GraphQLContext,
  ) {
    return services.transfer.import(caller, workspaceId, { format, content, onConflict, dryRun, unknownTypesAsGeneric, clearMissingSecrets, environment });
  }
}
