import { Field, ID, ObjectType } from "type-graphql";
import { Role } from "./enums";
import { DateTimeScalar } from "./scalars";
import { UserType } from "./user.type";

@ObjectType("Workspace")
export class WorkspaceType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType("Member")
export class MemberType {
  workspaceId!: string;
  userId!: string;

  @Field(() => UserType)
  user!: UserType;

  @Field(() => Role)
  role!: Role;

  @Field(() => DateTimeScalar, { name: "joinedAt" })
  createdAt!: Date;
}
