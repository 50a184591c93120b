import { Field, ID, ObjectType } from "type-graphql";
import { TokenScope } from "./enums";
import { DateTimeScalar } from "./scalars";

@ObjectType("ApiToken")
export class ApiTokenType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "The token's first characters, enough to recognise it in a list." })
  prefix!: string;

  @Field(() => [TokenScope])
  scopes!: TokenScope[];

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "A token bound to an environment resolves that environment's values only." })
  environment!: string | null;
}

@ObjectType("CreatedApiToken", { description: "`token` is shown here once and never again." })
export class CreatedApiTokenType {
  @Field(() => String)
  token!: string;

  @Field(() => ApiTokenType)
  apiToken!: ApiTokenType;
}
