import { Field, ID, Int, ObjectType } from "type-graphql";
import { TestStatus } from "./enums";
import { DateTimeScalar } from "./scalars";

@ObjectType("TestResult")
export class TestResultType {
  @Field(() => ID)
  id!: string;

  @Field(() => TestStatus)
  status!: TestStatus;

  @Field(() => String, { nullable: true, description: "Null on SUCCESS; otherwise a code from DESIGN.md, e.g. AUTH_FAILED." })
  errorCode!: string | null;

  @Field(() => String, { description: "For a person to read; never contains a secret." })
  message!: string;

  @Field(() => Int)
  latencyMs!: number;

  @Field(() => String, { nullable: true })
  serverVersion!: string | null;

  @Field(() => DateTimeScalar)
  testedAt!: Date;
}
