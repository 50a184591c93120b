import { Field, ObjectType } from "type-graphql";
import { ImportOutcome } from "./import-export.type";

@ObjectType("BundleLine")
export class BundleLineType {
  @Field(() => String)
  name!: string;

  @Field(() => ImportOutcome)
  outcome!: ImportOutcome;

  @Field(() => [String], { description: "Fields that would change (secrets by name only); empty for CREATED and UNCHANGED." })
  changedFields!: string[];

  @Field(() => String, { nullable: true, description: "Why a connection is SKIPPED or an ERROR." })
  message!: string | null;
}

@ObjectType("BundleReport", { description: "applied is false for a dry run, and for a run that failed (then nothing was written)." })
export class BundleReportType {
  @Field(() => Boolean)
  applied!: boolean;

  @Field(() => [BundleLineType])
  lines!: BundleLineType[];
}
