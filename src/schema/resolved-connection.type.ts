import { Field, Int, ObjectType } from "type-graphql";
import { ActorKind } from "./enums";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType("ResolvedConnection", {
  description: "A connection with its secrets, for code that will use it. Reading it is audited. `extra` here includes the secret extra keys.",
})
export class ResolvedConnectionType {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  type!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, { nullable: true })
  host!: string | null;

  @Field(() => Int, { nullable: true })
  port!: number | null;

  @Field(() => String, { nullable: true })
  schema!: string | null;

  @Field(() => String, { nullable: true })
  login!: string | null;

  @Field(() => String, { nullable: true })
  password!: string | null;

  @Field(() => JSONScalar)
  extra!: Record<string, unknown>;
}

@ObjectType("ConnectionUsage", { description: "Who resolved a connection in the last 30 days." })
export class ConnectionUsageType {
  @Field(() => ActorKind)
  actorKind!: ActorKind;

  @Field(() => String, { description: "A user id or an API token id." })
  actorId!: string;

  @Field(() => String)
  actorName!: string;

  @Field(() => Int)
  count!: number;

  @Field(() => DateTimeScalar)
  lastUsedAt!: Date;
}
