import { Field, Int, ObjectType } from "type-graphql";
import { JSONScalar } from "./scalars";

@ObjectType("ConnectionOverride", {
  description:
    "An environment's values for a connection: any field given here replaces the connection's own when resolving or testing in that environment; fields not given fall back to the connection's.",
})
export class ConnectionOverrideType {
  id!: string;
  workspaceId!: string;

  @Field(() => String)
  environment!: string;

  @Field(() => String, { nullable: true })
  host!: string | null;

  @Field(() => Int, { nullable: true })
  port!: number | null;

  @Field(() => String, { nullable: true })
  schema!: string | null;

  @Field(() => String, { nullable: true })
  login!: string | null;

  @Field(() => JSONScalar, { description: "Non-secret extras of the override." })
  extra!: unknown;

  @Field(() => [String], { description: "The override's secret fields that hold a value." })
  secretFields!: string[];
}
