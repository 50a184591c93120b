import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { ConnectionType } from "./connection.type";

export enum ImportFormat {
  AIRFLOW_JSON = "AIRFLOW_JSON",
  AIRFLOW_YAML = "AIRFLOW_YAML",
  AIRFLOW_ENV = "AIRFLOW_ENV",
}

export enum ExportFormat {
  AIRFLOW_JSON = "AIRFLOW_JSON",
  AIRFLOW_YAML = "AIRFLOW_YAML",
  AIRFLOW_ENV = "AIRFLOW_ENV",
  AIRFLOW_ENV_VARS = "AIRFLOW_ENV_VARS",
  JUPYSQL_INI = "JUPYSQL_INI",
}

/** How an Airflow URI carries non-string extras (src/airflow/uri.ts). */
export enum AirflowUriDialect {
  EXTRA_JSON = "EXTRA_JSON",
  QUERY_PARAMS = "QUERY_PARAMS",
}

/** SQLAlchemy's PostgreSQL driver to name in a URL (SQLAlchemy 2.1 made psycopg 3 the default). */
export enum PostgresDriver {
  PSYCOPG2 = "PSYCOPG2",
  PSYCOPG = "PSYCOPG",
}

export enum OnConflict {
  FAIL = "FAIL",
  SKIP = "SKIP",
  OVERWRITE = "OVERWRITE",
}

export enum ImportOutcome {
  CREATED = "CREATED",
  UPDATED = "UPDATED",
  UNCHANGED = "UNCHANGED",
  SKIPPED = "SKIPPED",
  ERROR = "ERROR",
}

registerEnumType(ImportFormat, { name: "ImportFormat" });
registerEnumType(ExportFormat, { name: "ExportFormat" });
registerEnumType(OnConflict, { name: "OnConflict" });
registerEnumType(AirflowUriDialect, {
  name: "AirflowUriDialect",
  description:
    "EXTRA_JSON (default): non-string extras as __extra__=<json>, as Airflow 2.7 to 3.1 write it; every Airflow version reads it back exactly. QUERY_PARAMS: every extra as a query parameter, as Airflow after apache/airflow PR #59339 writes it; Airflow 2.7 to 3.1 read those values back as strings.",
});
registerEnumType(PostgresDriver, {
  name: "PostgresDriver",
  description: "PSYCOPG2 (default): postgresql+psycopg2://, SQLAlchemy 1.4 to 2.0's default. PSYCOPG: postgresql+psycopg:// (psycopg 3, SQLAlchemy 2.1's default).",
});
registerEnumType(ImportOutcome, { name: "ImportOutcome" });

@ObjectType("ImportLine")
export class ImportLineType {
  @Field(() => String)
  name!: string;

  @Field(() => ImportOutcome)
  outcome!: ImportOutcome;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => [String], { description: "What was imported but may not be what was meant, e.g. extra keys the type does not know." })
  warnings!: string[];
}

@ObjectType("ImportReport", { description: "applied is false for a dry run, and for a run that failed (then nothing was written)." })
export class ImportReportType {
  @Field(() => Boolean)
  applied!: boolean;

  @Field(() => [ImportLineType])
  lines!: ImportLineType[];
}

@ObjectType("UpsertReport")
export class UpsertReportType {
  @Field(() => Int)
  created!: number;

  @Field(() => Int)
  updated!: number;

  @Field(() => Int)
  unchanged!: number;

  @Field(() => [ConnectionType])
  connections!: ConnectionType[];
}
