import { Field, ID, Int, ObjectType } from "type-graphql";
import { ImportFormat, OnConflict } from "./import-export.type";
import { DateTimeScalar } from "./scalars";

@ObjectType("ImportSession", {
  description:
    "An import bigger than one request, staged batch by batch (stageImportBatch) and committed in one transaction (commitImport). Only the actor that began it sees it.",
})
export class ImportSessionType {
  @Field(() => ID)
  id!: string;

  @Field(() => ImportFormat)
  format!: ImportFormat;

  @Field(() => OnConflict)
  onConflict!: OnConflict;

  @Field(() => Boolean)
  unknownTypesAsGeneric!: boolean;

  @Field(() => Boolean)
  clearMissingSecrets!: boolean;

  @Field(() => Int, { description: "Batches staged so far; the next one's seq is batches + 1." })
  batches!: number;

  @Field(() => Int, { description: "Connections in the staged batches (a name given twice counts twice)." })
  connections!: number;

  @Field(() => Int, { description: "Bytes of staged content (UTF-8)." })
  bytes!: number;

  @Field(() => Int, { description: "The most connections a session may hold." })
  maxConnections!: number;

  @Field(() => Int, { description: "The most bytes of content a session may hold." })
  maxBytes!: number;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { description: "After this the session and its batches are gone; commit before." })
  expiresAt!: Date;
}
