import { Field, Int, ObjectType } from "type-graphql";
import { FieldKind } from "./enums";
import { JSONScalar } from "./scalars";

@ObjectType("ConnectionField", { description: "One field of a type's New Connection form." })
export class ConnectionFieldType {
  @Field(() => String, { description: "host, port, schema, login, password, or extra.<key>" })
  name!: string;

  @Field(() => String)
  label!: string;

  @Field(() => FieldKind)
  kind!: FieldKind;

  @Field(() => Boolean)
  required!: boolean;

  @Field(() => Boolean)
  secret!: boolean;

  @Field(() => JSONScalar, { nullable: true })
  default!: unknown;

  @Field(() => String, { nullable: true })
  placeholder!: string | null;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => [String], { nullable: true })
  options!: string[] | null;
}

@ObjectType("ConnectionType")
export class ConnectionTypeType {
  @Field(() => String)
  id!: string;

  @Field(() => String)
  label!: string;

  @Field(() => Int, { nullable: true })
  defaultPort!: number | null;

  @Field(() => Boolean)
  testable!: boolean;

  @Field(() => [ConnectionFieldType])
  fields!: ConnectionFieldType[];
}
