import { Field, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "./scalars";

@ObjectType("WorkspaceKeyStatus")
export class WorkspaceKeyStatusType {
  @Field(() => Int, { description: "The data key version that new secrets are sealed with." })
  currentVersion!: number;

  @Field(() => Int, { description: "Sealed values (connections and their stored versions) still under an older key version." })
  pendingReencryption!: number;

  @Field(() => DateTimeScalar, { nullable: true })
  rotatedAt!: Date | null;
}
