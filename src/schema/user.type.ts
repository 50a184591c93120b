import { Field, ID, ObjectType } from "type-graphql";

@ObjectType("User")
export class UserType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  email!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;
}

@ObjectType("AuthPayload", { description: "`token` is a bearer token for the Authorization header." })
export class AuthPayloadType {
  @Field(() => String)
  token!: string;

  @Field(() => UserType)
  user!: UserType;
}
