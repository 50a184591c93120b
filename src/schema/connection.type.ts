import { Field, ID, Int, ObjectType } from "type-graphql";
import { PageInfoType } from "./page-info.type";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType("Connection")
export class ConnectionType {
  workspaceId!: string;

  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The conn_id: unique within its workspace." })
  name!: string;

  @Field(() => String, { description: "A ConnectionType id, such as postgres." })
  type!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, { nullable: true })
  host!: string | null;

  @Field(() => Int, { nullable: true })
  port!: number | null;

  @Field(() => String, { nullable: true, description: "The database name, as Airflow names it." })
  schema!: string | null;

  @Field(() => String, { nullable: true })
  login!: string | null;

  @Field(() => JSONScalar, { description: "Non-secret extra settings; secret extra keys never appear here." })
  extra!: unknown;

  @Field(() => [String], { description: "The secret fields that hold a value, e.g. password or extra.aws_secret_access_key." })
  secretFields!: string[];

  @Field(() => Int)
  version!: number;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;

  /** Resolved by ConnectionResolver.lastUsedAt, from the usage counts. */
  lastUsedAt!: Date | null;
}

@ObjectType("ConnectionPage")
export class ConnectionPageType {
  @Field(() => [ConnectionType])
  nodes!: ConnectionType[];

  @Field(() => PageInfoType)
  pageInfo!: PageInfoType;

  @Field(() => Int)
  totalCount!: number;
}
