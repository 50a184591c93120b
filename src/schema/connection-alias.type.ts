import { Field, ObjectType } from "type-graphql";
import { DateTimeScalar } from "./scalars";

@ObjectType("ConnectionAlias", { description: "A former name that still resolves to the connection until it expires." })
export class ConnectionAliasType {
  @Field(() => String)
  name!: string;

  @Field(() => DateTimeScalar)
  expiresAt!: Date;
}
