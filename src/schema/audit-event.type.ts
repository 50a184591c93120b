import { Field, ID, ObjectType } from "type-graphql";
import { PageInfoType } from "./page-info.type";
import { DateTimeScalar, JSONScalar } from "./scalars";

@ObjectType("AuditEvent")
export class AuditEventType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  action!: string;

  @Field(() => String, { name: "actor", description: "The person's email, or the token's name and prefix." })
  actorLabel!: string;

  @Field(() => String, { nullable: true })
  targetType!: string | null;

  @Field(() => String, { nullable: true })
  targetId!: string | null;

  @Field(() => DateTimeScalar)
  at!: Date;

  @Field(() => String, { nullable: true, description: "The client address the request came from." })
  clientIp!: string | null;

  @Field(() => JSONScalar, { nullable: true })
  details!: unknown;
}

@ObjectType("AuditEventPage")
export class AuditEventPageType {
  @Field(() => [AuditEventType])
  nodes!: AuditEventType[];

  @Field(() => PageInfoType)
  pageInfo!: PageInfoType;
}
