import { Field, ID, Int, ObjectType } from "type-graphql";
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

  @Field(() => String, { nullable: true, description: "Its position in the workspace's audit chain (a decimal integer)." })
  seq!: string | null;

  @Field(() => String, { nullable: true, description: "SHA-256 (hex) of the event's canonical form, which includes the previous event's hash." })
  hash!: string | null;
}

@ObjectType("AuditChainHead", { description: "The newest event of an audit chain: export it now and then (README)." })
export class AuditChainHeadType {
  @Field(() => String, { description: "Its position in the chain (a decimal integer)." })
  seq!: string;

  @Field(() => String)
  hash!: string;
}

@ObjectType("AuditChainReport")
export class AuditChainReportType {
  @Field(() => Boolean, { description: "True when every event's hash links to the one before it." })
  intact!: boolean;

  @Field(() => Int)
  checked!: number;

  @Field(() => ID, { nullable: true, description: "The first event whose stored hash does not match, when not intact." })
  firstBrokenEventId!: string | null;

  @Field(() => String, { nullable: true, description: "Why the chain is not intact." })
  reason!: string | null;

  @Field(() => AuditChainHeadType, { nullable: true, description: "The newest event, when the chain is intact." })
  head!: AuditChainHeadType | null;
}

@ObjectType("AuditEventPage")
export class AuditEventPageType {
  @Field(() => [AuditEventType])
  nodes!: AuditEventType[];

  @Field(() => PageInfoType)
  pageInfo!: PageInfoType;
}
