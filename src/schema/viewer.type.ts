import { Field, ObjectType } from "type-graphql";
import { ApiTokenType } from "./api-token.type";
import { UserType } from "./user.type";
import { WorkspaceType } from "./workspace.type";

@ObjectType("Viewer", { description: "Who is calling: a signed-in user, or an API token (then `workspace` is the token's)." })
export class ViewerType {
  @Field(() => UserType, { nullable: true })
  user!: UserType | null;

  @Field(() => ApiTokenType, { nullable: true })
  apiToken!: ApiTokenType | null;

  @Field(() => WorkspaceType, { nullable: true })
  workspace!: WorkspaceType | null;
}
