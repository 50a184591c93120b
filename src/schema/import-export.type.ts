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
  JUPYSQL_INI = "JUPYSQL_INI",
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
registerEnumType(ImportOutcome, { name: "ImportOutcome" });

@ObjectType("ImportLine")
export class ImportLineType {
  @Field(() => String)
  name!: string;

  @Field(() => ImportOutcome)
  outcome!: ImportOutcome;

  @Field(() => String, { nullable: true })
  message!: string | null;
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
