import { Field, Int, ObjectType } from "type-graphql";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType("ConnectionVersion")
export class ConnectionVersionType {
  @Field(() => Int)
  version!: number;

  @Field(() => DateTimeScalar)
  changedAt!: Date;

  @Field(() => String, { description: "Who made this version: a person's name or email, or a token's name." })
  changedBy!: string;

  @Field(() => [String], { description: "Fields that differ from the previous version; secret fields appear by name only." })
  changedFields!: string[];

  @Field(() => JSONScalar, { description: "The non-secret state of the connection at this version (the fields of Connection)." })
  snapshot!: unknown;
}
